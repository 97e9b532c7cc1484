/**
 * What happens to a kept-up session's connection, as a UI shows it: online,
 * disconnected (why), reconnecting (when), resuming, resumed, or given up
 * (why). A new session after a failed resumption says which stanzas the
 * server may never have received, so the caller decides to resend or drop
 * them: the library never guesses.
 *
 * @since 0.1.0
 */
import type { Element, Jid } from "@xmpp-core/protocol"
import type { XmppClientError } from "../XmppClientError.js"

/**
 * @since 0.1.0
 */
export type ConnectionEvent =
  /** Bound as `jid`: the first session, or a new one after a failed resumption. */
  | { readonly _tag: "Online"; readonly jid: Jid.Jid }
  /** The link was lost (or found dead by an unanswered `<r/>`). */
  | { readonly _tag: "Disconnected"; readonly error: XmppClientError }
  /** Try `attempt` starts in `delayMs` milliseconds. */
  | { readonly _tag: "Reconnecting"; readonly attempt: number; readonly delayMs: number }
  /** Connected again and authenticated; asking the server to resume. */
  | { readonly _tag: "Resuming" }
  /** The session goes on; what the server lacked was sent again. */
  | { readonly _tag: "Resumed"; readonly jid: Jid.Jid }
  /**
   * The session could not be resumed (refused or expired; or, without stream
   * management over BOSH, there was nothing to resume) and a new one was
   * bound (an `Online` follows); `unacknowledged` are the stanzas the old one
   * may never have delivered, oldest first. Over TCP without stream
   * management nothing is known of them, and this event does not come.
   */
  | { readonly _tag: "ResumeFailed"; readonly unacknowledged: ReadonlyArray<Element.Element>; readonly error: XmppClientError }
  /** No more tries: the session is over with `error`. */
  | { readonly _tag: "GaveUp"; readonly error: XmppClientError }
