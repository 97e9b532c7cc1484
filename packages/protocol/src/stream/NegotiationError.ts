/**
 * Failures of stream negotiation that the client detects itself.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * A configuration setting a failure can point at, named as `Negotiation.Config`
 * (and the client's configuration) names it; `credentials.<tag>` is a kind of
 * credentials (a password, a client certificate, none for ANONYMOUS).
 *
 * @since 0.1.0
 */
export type Setting =
  | "allowPlaintext"
  | "allowPlainWithoutTls"
  | "mechanisms"
  | "channelBinding"
  | "credentials.Password"
  | "credentials.Certificate"
  | "credentials.Anonymous"

/**
 * - `starttls-not-offered`: TLS is required and the server offers no STARTTLS.
 * - `tls-failed`: the server answered `<starttls/>` with `<failure/>`.
 * - `plaintext-not-allowed`: the transport is unencrypted (BOSH over HTTP),
 *   there is no way to upgrade it, and the user did not allow plaintext.
 * - `sasl-not-offered` / `no-acceptable-mechanism`: nothing to authenticate
 *   with, or nothing the user allows and the client can use safely; the
 *   message says why each offered mechanism was refused, and `settings`
 *   names what would allow one.
 * - `bind-not-offered` / `bind-failed` / `session-failed`: resource binding
 *   or the RFC 3921 session was refused (`condition` holds the stanza error).
 * - `invalid-stream-header` / `unsupported-version`: the server's header.
 * - `unexpected-element`: an element that has no place at this step.
 * - `features-timeout` / `response-timeout`: the server went quiet.
 * - `stream-closed`: the server closed its stream during negotiation.
 *
 * @since 0.1.0
 */
export class NegotiationError extends Data.TaggedError("NegotiationError")<{
  readonly reason:
    | "starttls-not-offered"
    | "tls-failed"
    | "plaintext-not-allowed"
    | "sasl-not-offered"
    | "no-acceptable-mechanism"
    | "bind-not-offered"
    | "bind-failed"
    | "session-failed"
    | "invalid-stream-header"
    | "unsupported-version"
    | "unexpected-element"
    | "features-timeout"
    | "response-timeout"
    | "stream-closed"
  readonly message: string
  /** The stanza error condition for `bind-failed` / `session-failed`. */
  readonly condition?: string | undefined
  /** Settings that would let the login go on (for `no-acceptable-mechanism`, `starttls-not-offered`…). */
  readonly settings?: ReadonlyArray<Setting> | undefined
}> {}
