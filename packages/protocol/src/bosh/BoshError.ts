/**
 * The one error family of a BOSH session.
 *
 * @since 0.1.0
 */
import { Data } from "effect"
import type { Element } from "../xml/Element.js"

/**
 * The terminal binding conditions of XEP-0124 §17.2, spelled as the XEP spells them.
 *
 * @since 0.1.0
 */
export type TerminalCondition =
  | "bad-request"
  | "host-gone"
  | "host-unknown"
  | "improper-addressing"
  | "internal-server-error"
  | "item-not-found"
  | "other-request"
  | "policy-violation"
  | "remote-connection-failed"
  | "remote-stream-error"
  | "see-other-uri"
  | "system-shutdown"
  | "undefined-condition"

/**
 * Every terminal condition, for matching text against.
 *
 * @since 0.1.0
 */
export const terminalConditions: ReadonlySet<string> = new Set<TerminalCondition>([
  "bad-request",
  "host-gone",
  "host-unknown",
  "improper-addressing",
  "internal-server-error",
  "item-not-found",
  "other-request",
  "policy-violation",
  "remote-connection-failed",
  "remote-stream-error",
  "see-other-uri",
  "system-shutdown",
  "undefined-condition"
])

/**
 * @since 0.1.0
 */
export const isTerminalCondition = (value: string): value is TerminalCondition => terminalConditions.has(value)

/**
 * Why a session ended or could not start.
 *
 * - a {@link TerminalCondition}: the connection manager said so, in the body,
 *   in the HTTP reason phrase (ejabberd), or as a legacy HTTP status
 *   (400 → `bad-request`, 403 → `policy-violation`, 404 → `item-not-found`).
 * - `connection-manager-unreachable`: a request failed (broken connection,
 *   timeout, recoverable HTTP error) more times than the retry bound allows,
 *   got no answer within its deadline, or failed in a way no resend can mend
 *   (an untrusted certificate, a name that does not resolve…); `cause` is
 *   the transport's typed failure when there is one.
 * - `invalid-session-response`: the session creation response is impossible
 *   (no `sid`, a `wait` longer than asked, `hold` more than asked, non-numbers…).
 * - `invalid-response`: a later response is not a `<body/>` of the BOSH namespace.
 * - `terminated-by-connection-manager`: a `type='terminate'` without a condition
 *   that the client did not ask for.
 * - `invalid-options`: the session options did not decode (see `BoshOptions`).
 *
 * @since 0.1.0
 */
export type BoshErrorReason =
  | TerminalCondition
  | "connection-manager-unreachable"
  | "invalid-session-response"
  | "invalid-response"
  | "terminated-by-connection-manager"
  | "invalid-options"

/**
 * @since 0.1.0
 */
export class BoshError extends Data.TaggedError("BoshError")<{
  readonly reason: BoshErrorReason
  readonly message: string
  /** The HTTP status, when the condition came from one. */
  readonly status?: number | undefined
  /** `see-other-uri`: where the connection manager says to go. */
  readonly uri?: string | undefined
  /** `remote-stream-error`: the XMPP `<stream:error/>` the connection manager relayed. */
  readonly streamError?: Element | undefined
  /** What failed underneath: the HTTP layer's typed error, or the `XmlError` of an unparsable body. */
  readonly cause?: unknown
}> {}
