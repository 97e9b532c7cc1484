/**
 * Failures the client itself detects while running a SASL mechanism.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * - `invalid-server-signature`: the SCRAM server signature did not match, or
 *   never came; the server did not prove it knows the password.
 * - `nonce-mismatch`: the server nonce does not extend the client nonce.
 * - `iteration-count-too-low` / `iteration-count-too-high`: outside the
 *   configured bounds.
 * - `malformed-challenge`: the server's message breaks the mechanism's syntax.
 * - `server-error`: the SCRAM server-final carried `e=` (the value is kept
 *   in `serverError`, named as RFC 5802 §7 names it).
 * - `extensions-not-supported`: a mandatory SCRAM extension (`m=`) came.
 * - `unexpected-challenge`: a challenge came where the mechanism has none.
 * - `invalid-credentials`: SASLprep refused the user name or password, or the
 *   injected nonce is not printable ASCII.
 * - `channel-binding-downgrade`: the client could bind but saw no way the
 *   server takes (no -PLUS, or no usable binding type advertised) and said
 *   so with the `y` flag, and the server answered that it does bind: the
 *   offer was altered on the way (a possible downgrade attack) or the server
 *   does not advertise what it supports. `serverError` keeps the server's word.
 *
 * @since 0.1.0
 */
export class SaslMechanismError extends Data.TaggedError("SaslMechanismError")<{
  readonly reason:
    | "invalid-server-signature"
    | "nonce-mismatch"
    | "iteration-count-too-low"
    | "iteration-count-too-high"
    | "malformed-challenge"
    | "server-error"
    | "extensions-not-supported"
    | "unexpected-challenge"
    | "invalid-credentials"
    | "channel-binding-downgrade"
  readonly message: string
  readonly mechanism: string
  readonly serverError?: string | undefined
}> {}
