/**
 * Logging in with progress on stderr: where it connects, each negotiation
 * step with its time, and the bound JID with the mechanism.
 *
 * @since 0.1.0
 */
import { type ConnectionEvent, ServerLookup, XmppClient, type XmppClientConfig, type XmppClientError } from "@xmpp-core/client"
import { Jid } from "@xmpp-core/protocol"
import { Effect, type Scope } from "effect"
import * as Output from "./Console.js"

/**
 * A logged-in client and how long the login took.
 *
 * @since 0.1.0
 */
export interface Session {
  readonly client: XmppClient.XmppClient["Service"]
  readonly loginMillis: number
}

/**
 * The client's ports a login needs (the Node layers provide them).
 *
 * @since 0.1.0
 */
export type Ports = XmppClient.Ports

/**
 * Where a configuration connects to, in words.
 *
 * @since 0.1.0
 */
export const describeRoute = (config: XmppClientConfig.XmppClientConfig): string => {
  const transport = config.transport
  if (transport?._tag === "bosh") return `BOSH ${transport.url}`
  const domain = config.jid.split("@").pop()?.split("/")[0] ?? config.jid
  const target = transport?.host === undefined && transport?.port === undefined
    ? `${domain} (DNS SRV)`
    : `${transport.host ?? domain}:${transport.port ?? ServerLookup.defaultPortFor(transport.directTls)}`
  const tls = transport?.directTls === true ? "direct TLS" : "STARTTLS"
  const via = transport?.proxies === undefined || transport.proxies.length === 0
    ? ""
    : ` via ${transport.proxies.map((p) => `${p._tag === "HttpConnect" ? "http" : "socks5"}://${p.host}:${p.port}`).join(" → ")}`
  return `${target} over TCP, ${tls}${via}`
}

/**
 * A connection event in words, for the progress lines.
 *
 * @since 0.1.0
 */
export const describeEvent = (event: ConnectionEvent): string => {
  switch (event._tag) {
    case "Online":
      return `online as ${Jid.format(event.jid)}`
    case "Disconnected":
      return `disconnected: ${event.error.message}`
    case "Reconnecting":
      return `reconnecting in ${event.delayMs} ms (try ${event.attempt})`
    case "Resuming":
      return "resuming the session"
    case "Resumed":
      return `resumed as ${Jid.format(event.jid)}`
    case "ResumeFailed":
      return `a new session: the old one could not be resumed; ${event.unacknowledged.length} stanza(s) may not have been delivered`
    case "GaveUp":
      return `gave up: ${event.error.message}`
  }
}

/**
 * Connects and logs in; the client lives as long as the scope.
 *
 * @since 0.1.0
 */
export const login = (
  config: XmppClientConfig.XmppClientConfig,
  options: { readonly label: string; readonly debug: boolean }
): Effect.Effect<
  Session,
  XmppClientError,
  Scope.Scope | Ports
> =>
  Effect.gen(function*() {
    const startedAt = performance.now()
    yield* Output.progress(`${options.label} connecting to ${describeRoute(config)}`)
    const onTraffic = yield* Output.trafficPrinter({ ...options, startedAt })
    const client = yield* XmppClient.connect(config, { onTraffic })
    const loginMillis = performance.now() - startedAt
    yield* Output.progress(
      `${options.label} bound as ${Jid.format(client.jid)} with ${client.mechanism} (${Output.ms(loginMillis)})`
    )
    return { client, loginMillis } satisfies Session
  })
