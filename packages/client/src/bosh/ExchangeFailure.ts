/**
 * Which failed BOSH exchanges are worth sending again. The session machine
 * resends what can recover (a reset or timed-out exchange, a proxy's 502)
 * with the same `rid` and bytes, and ends the session at once on what
 * cannot: resending does not make a certificate trusted, a name resolve, or
 * a proxy accept our credentials.
 *
 * Before the session exists the rule is stricter: a refused or unreachable
 * manager, a TLS handshake that breaks, a proxy that cannot reach the
 * manager are the answer to "is it there?", and the caller hears it at once
 * with its real cause (as over TCP). Once the session runs, the same
 * failures are taken as passing (a manager restarting behind a load
 * balancer, a dropped link) and retried within the machine's bounds.
 *
 * @since 0.1.0
 */
import type { ExchangeError } from "../http/BoshHttpExchange.js"

/**
 * Whether sending the same request again can succeed.
 *
 * @since 0.1.0
 */
export const isRecoverable = (error: ExchangeError, established: boolean): boolean => {
  switch (error._tag) {
    case "HttpError":
      switch (error.reason) {
        case "ConnectionLost":
        case "Timeout":
        case "UnexpectedStatus":
          return true
        case "ProxyAuthenticationRequired":
        case "ResponseTooLarge":
          return false
      }
      return false
    case "ConnectError":
      switch (error.reason) {
        case "TimedOut":
        case "Closed":
          return true
        case "Refused":
        case "Unreachable":
          return established
        case "DnsFailed":
          return false
      }
      return false
    case "TlsError":
      switch (error.reason) {
        case "TimedOut":
          return true
        case "HandshakeFailed":
          return established
        case "CertificateInvalid":
        case "HostnameMismatch":
        case "Unsupported":
          return false
      }
      return false
    case "ProxyError":
      return error.reason !== "AuthRequired" && established
  }
}
