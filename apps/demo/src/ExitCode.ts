/**
 * The demo's process exit codes, one per kind of outcome, so scripts can
 * tell a typo from a refused password from a dropped connection.
 *
 * @since 0.1.0
 */
import type { XmppClientError } from "@xmpp-core/client"

/**
 * @since 0.1.0
 */
export const ExitCode = {
  Success: 0,
  /** The tour saw a message lost, duplicated or out of order (or an unexpected failure). */
  Failure: 1,
  Usage: 2,
  ConnectFailed: 3,
  AuthenticationFailed: 4,
  ConnectionLost: 5,
  Interrupted: 130,
  Terminated: 143
} as const

/**
 * @since 0.1.0
 */
export type ExitCode = typeof ExitCode[keyof typeof ExitCode]

/**
 * The exit code table as `--help` and the README show it.
 *
 * @since 0.1.0
 */
export const table = [
  "Exit codes:",
  "  0    success",
  "  1    the tour saw a message lost, duplicated or out of order",
  "  2    usage or configuration error (bad flag, invalid JID, transport not in this build)",
  "  3    could not connect (DNS, TCP, proxy, TLS, stream negotiation)",
  "  4    authentication failed",
  "  5    stream error, or the connection was lost after login",
  "  130  interrupted (Ctrl-C); the session is still closed cleanly",
  "  143  terminated (SIGTERM); the session is still closed cleanly"
].join("\n")

/**
 * The exit code of a client failure.
 *
 * @since 0.1.0
 */
export const fromClientError = (error: XmppClientError): ExitCode => {
  switch (error.reason) {
    case "InvalidConfig":
    case "TransportUnavailable":
    case "InvalidStanza":
      return ExitCode.Usage
    case "ConnectFailed":
      return ExitCode.ConnectFailed
    case "NegotiationFailed":
      // No mechanism both sides accept is an authentication outcome; the rest
      // (no STARTTLS, bind refused…) means no session could be set up.
      return error.condition === "no-acceptable-mechanism" ? ExitCode.AuthenticationFailed : ExitCode.ConnectFailed
    case "AuthenticationFailed":
      return ExitCode.AuthenticationFailed
    case "StreamError":
    case "ConnectionLost":
    case "UnexpectedElement":
    case "Closed":
    case "CloseUnconfirmed":
    case "NotAcknowledged":
    case "QueueFull":
      return ExitCode.ConnectionLost
    case "StreamManagementUnavailable":
      return ExitCode.ConnectFailed
    case "IqError":
    case "Timeout":
      return ExitCode.Failure
  }
}
