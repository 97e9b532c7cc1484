/**
 * Opening a TCP connection with Node: happy eyeballs (`autoSelectFamily`),
 * a connect timeout, and Node's error codes turned into `ConnectError`.
 *
 * @since 0.1.0
 */
import { ConnectError, type Route } from "@xmpp-core/client"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Net from "node:net"

const codeOf = (cause: unknown): string | undefined => {
  if (typeof cause !== "object" || cause === null) return undefined
  if ("code" in cause && typeof cause.code === "string") return cause.code
  // Happy eyeballs reports every failed attempt in an AggregateError.
  if (cause instanceof AggregateError) {
    for (const inner of cause.errors) {
      const code = codeOf(inner)
      if (code !== undefined) return code
    }
  }
  return undefined
}

/**
 * The `ConnectError` for a Node socket error on `hop`.
 *
 * @since 0.1.0
 */
export const connectError = (cause: unknown, hop: Route.Hop): ConnectError => {
  const code = codeOf(cause)
  const where = `${hop.host}:${hop.port}`
  switch (code) {
    case "ECONNREFUSED":
      return new ConnectError({ reason: "Refused", message: `connection to ${where} refused`, hop, cause })
    case "ETIMEDOUT":
      return new ConnectError({ reason: "TimedOut", message: `connection to ${where} timed out`, hop, cause })
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_FAIL":
    case "EAI_NONAME":
    case "EAI_NODATA":
      return new ConnectError({ reason: "DnsFailed", message: `${hop.host} does not resolve (${code})`, hop, cause })
    case "ECONNRESET":
    case "EPIPE":
    case "ECONNABORTED":
      return new ConnectError({ reason: "Closed", message: `${where} closed the connection (${code})`, hop, cause })
    default:
      return new ConnectError({ reason: "Unreachable", message: `${where} is unreachable (${code ?? String(cause)})`, hop, cause })
  }
}

/**
 * `ConnectError` `TimedOut` on `hop`, for a step that did not finish in time.
 *
 * @since 0.1.0
 */
export const timedOut = (hop: Route.Hop, timeout: Duration.Duration): ConnectError =>
  new ConnectError({
    reason: "TimedOut",
    message: `no answer from ${hop.host}:${hop.port} (${hop.kind}) within ${Duration.format(timeout)}`,
    hop
  })

// An 'error' with no listener would crash the process; the steps that use the
// socket attach their own listeners and see every error.
const ignore = () => {}

/**
 * Connects to `hop.host:hop.port`. The socket is destroyed when the scope closes.
 *
 * @since 0.1.0
 */
export const dial = (hop: Route.Hop, timeout: Duration.Duration): Effect.Effect<Net.Socket, ConnectError, Scope.Scope> =>
  Effect.uninterruptibleMask((restore) =>
    restore(
      Effect.callback<Net.Socket, ConnectError>((resume) => {
        const socket = Net.connect({ host: hop.host, port: hop.port, autoSelectFamily: true, noDelay: true })
        const cleanup = () => {
          socket.off("connect", onConnect)
          socket.off("error", onError)
        }
        function onConnect() {
          cleanup()
          socket.on("error", ignore)
          resume(Effect.succeed(socket))
        }
        function onError(cause: Error) {
          cleanup()
          socket.destroy()
          resume(Effect.fail(connectError(cause, hop)))
        }
        socket.once("connect", onConnect)
        socket.once("error", onError)
        return Effect.sync(() => {
          cleanup()
          socket.destroy()
        })
      }).pipe(Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.fail(timedOut(hop, timeout)) }))
    ).pipe(Effect.tap((socket) => Effect.addFinalizer(() => Effect.sync(() => socket.destroy()))))
  )
