/**
 * Runs a pure proxy handshake over a Node socket: writes what the machine
 * says, feeds it what the proxy sends, and puts the bytes that follow the
 * proxy's reply back at the front of the socket's read buffer, where the
 * next layer reads them.
 *
 * @since 0.1.0
 */
import { ConnectError, ProxyError, type Route } from "@xmpp-core/client"
import type { ProxyHandshake } from "@xmpp-core/protocol"
import * as Effect from "effect/Effect"
import type * as Net from "node:net"
import { connectError } from "./NodeTcp.js"

/**
 * The next chunk the socket has, waiting for one if needed. Fails with a
 * `ConnectError` `Closed` when the peer ends or resets the connection.
 *
 * @since 0.1.0
 */
export const readChunk = (socket: Net.Socket, hop: Route.Hop): Effect.Effect<Buffer, ConnectError> =>
  Effect.callback<Buffer, ConnectError>((resume) => {
    const closed = () =>
      new ConnectError({ reason: "Closed", message: `${hop.host}:${hop.port} closed the connection during the ${hop.kind} handshake`, hop })
    const cleanup = () => {
      socket.off("readable", onReadable)
      socket.off("end", onEnd)
      socket.off("close", onEnd)
      socket.off("error", onError)
    }
    function tryRead(): boolean {
      const chunk: unknown = socket.read()
      if (chunk === null) return false
      cleanup()
      resume(Effect.succeed(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), "latin1")))
      return true
    }
    function onReadable() {
      tryRead()
    }
    function onEnd() {
      cleanup()
      resume(Effect.fail(closed()))
    }
    function onError(cause: Error) {
      cleanup()
      resume(Effect.fail(connectError(cause, hop)))
    }
    if (tryRead()) return
    if (socket.readableEnded || socket.destroyed) {
      resume(Effect.fail(closed()))
      return
    }
    socket.on("readable", onReadable)
    socket.once("end", onEnd)
    socket.once("close", onEnd)
    socket.once("error", onError)
    return Effect.sync(cleanup)
  })

const writeAll = (socket: Net.Socket, chunks: ReadonlyArray<Uint8Array>) =>
  Effect.sync(() => {
    // Handshake messages are a few hundred bytes: no backpressure to wait for.
    for (const chunk of chunks) socket.write(chunk)
  })

/**
 * Drives `handshake` to its end on `socket`. On success the tunnel is open
 * and any bytes the proxy sent after its reply are unread into `socket`.
 *
 * @since 0.1.0
 */
export const run = <S>(
  socket: Net.Socket,
  handshake: ProxyHandshake.Handshake<S>,
  hop: Route.Hop
): Effect.Effect<void, ProxyError | ConnectError> =>
  Effect.gen(function*() {
    yield* writeAll(socket, handshake.output)
    let state = handshake.state
    for (;;) {
      const chunk = yield* readChunk(socket, hop)
      const step = handshake.step(state, chunk)
      switch (step._tag) {
        case "Continue": {
          yield* writeAll(socket, step.output)
          state = step.state
          break
        }
        case "Established": {
          yield* writeAll(socket, step.output)
          if (step.leftover.length > 0) socket.unshift(Buffer.from(step.leftover))
          return
        }
        case "Failed": {
          const { reason, message, status, replyCode } = step.error
          return yield* new ProxyError({ reason, message: `${message} (hop ${hop.index}, ${hop.host}:${hop.port})`, hop, status, replyCode })
        }
      }
    }
  })
