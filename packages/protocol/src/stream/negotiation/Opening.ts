/**
 * Opening the stream, at the start and at every restart (after STARTTLS and
 * after SASL): on TCP the client writes a header; on BOSH the transport
 * sends the restart body (or, at the start, the session request) and the
 * machine only waits for the header and features.
 *
 * @since 0.1.0
 */
import { Result } from "effect"
import * as Jid from "../../jid/Jid.js"
import * as StreamHeader from "../StreamHeader.js"
import { type Action, type Context, featuresTimeout, type Step, type StreamState } from "./Machine.js"

// RFC 6120 §4.7.1: once the stream is encrypted, the client names its
// account in the header's `from` (never before: that would leak it).
const accountAddress = (context: Context): string | undefined => {
  const credentials = context.config.credentials
  if (!context.secure || credentials._tag !== "Password") return undefined
  const account = Jid.make({ local: credentials.username, domain: context.config.domain })
  return Result.isSuccess(account) ? Jid.format(account.success) : undefined
}

/**
 * Opens a new stream (`restart`: after STARTTLS or SASL) and waits for the
 * server's header.
 *
 * @since 0.1.0
 */
export const open = (context: Context, now: number, restart: boolean): Step<StreamState> => {
  const actions: Array<Action> = []
  if (restart) actions.push({ _tag: "RestartStream" })
  if (context.config.transport === "tcp") {
    const header = StreamHeader.make({
      domain: context.config.domain,
      lang: context.config.lang,
      from: accountAddress(context)
    })
    actions.push({ _tag: "SendStreamHeader", header, xml: StreamHeader.toXml(header) })
  }
  return { state: { _tag: "AwaitingStreamHeader", context, deadline: now + featuresTimeout(context) }, actions }
}
