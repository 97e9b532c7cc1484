/**
 * A scripted hostile BOSH connection manager on loopback (raw `node:net`, not
 * a real manager: no real one misbehaves on demand). It reads each HTTP
 * request head and body, counts them, and answers the way its `Behaviour`
 * says: too much, too little, nothing, or something that is not XML. It
 * also plays a forwarding/CONNECT proxy that demands credentials (407),
 * which tinyproxy cannot (it answers 401).
 *
 * It records how many bytes it got onto the socket, so a test can see that
 * the client stopped reading at its limit instead of downloading it all.
 */
import { Deferred, Effect, type Scope } from "effect"
import * as Net from "node:net"

/**
 * - `Oversized`: 200 with `size` bytes of body, announced by Content-Length
 *   when `contentLength` is set, else chunked; written as fast as the
 *   client reads.
 * - `Truncated`: 200 announcing 7 bytes more than it sends, the connection kept open.
 * - `Silent`: reads the request and never answers.
 * - `Answer`: 200 with the given body.
 * - `ProxyAuthRequired`: 407 with `Proxy-Authenticate`, to any request.
 */
export type Behaviour =
  | { readonly _tag: "Oversized"; readonly size: number; readonly contentLength: boolean }
  | { readonly _tag: "Truncated"; readonly body: string }
  | { readonly _tag: "Silent" }
  | { readonly _tag: "Answer"; readonly body: string }
  | { readonly _tag: "ProxyAuthRequired" }

export interface HostileManager {
  readonly port: number
  readonly url: string
  /** Request heads seen so far (request lines), in arrival order. */
  readonly requests: ReadonlyArray<string>
  /** Bytes of answer the sockets accepted so far. */
  readonly bytesWritten: () => number
  /** Resolves when the first request has been read in full. */
  readonly firstRequest: Effect.Effect<void>
}

const CHUNK = Buffer.alloc(64 * 1024, "x")

/** Writes `size` bytes (chunked or raw), waiting for the socket to drain: as fast as the peer reads, no faster. */
const stream = (socket: Net.Socket, size: number, chunked: boolean, count: (n: number) => void) => {
  let left = size
  const pump = () => {
    while (left > 0 && !socket.destroyed) {
      const piece = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left)
      left -= piece.length
      const framed = chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n")]) : piece
      const more = socket.write(framed, (error) => {
        if (error === undefined || error === null) count(piece.length)
      })
      if (!more) {
        socket.once("drain", pump)
        return
      }
    }
    if (left === 0 && chunked && !socket.destroyed) socket.write("0\r\n\r\n")
  }
  pump()
}

const answer = (socket: Net.Socket, behaviour: Behaviour, count: (n: number) => void) => {
  switch (behaviour._tag) {
    case "Silent":
      return
    case "Answer":
      socket.write(
        `HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(behaviour.body)}\r\n\r\n${behaviour.body}`
      )
      return
    case "Truncated":
      socket.write(
        `HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(behaviour.body) + 7}\r\n\r\n${behaviour.body}`
      )
      return
    case "ProxyAuthRequired":
      socket.write(
        "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"hostile\"\r\nContent-Length: 0\r\n\r\n"
      )
      return
    case "Oversized": {
      const length = behaviour.contentLength ? `Content-Length: ${behaviour.size}` : "Transfer-Encoding: chunked"
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\n${length}\r\n\r\n`)
      stream(socket, behaviour.size, !behaviour.contentLength, count)
      return
    }
  }
}

/** Splits off one complete request (head and Content-Length body) from `buffer`, or nothing yet. */
const takeRequest = (buffer: Buffer): { readonly line: string; readonly rest: Buffer } | undefined => {
  const end = buffer.indexOf("\r\n\r\n")
  if (end < 0) return undefined
  const head = buffer.subarray(0, end).toString("latin1")
  const match = /^content-length:\s*(\d+)/im.exec(head)
  const bodyLength = match?.[1] === undefined ? 0 : Number(match[1])
  const total = end + 4 + bodyLength
  if (buffer.length < total) return undefined
  return { line: head.split("\r\n")[0] ?? "", rest: buffer.subarray(total) }
}

/**
 * Starts a hostile manager for the scope; every connection gets the same behaviour.
 */
export const make = (behaviour: Behaviour): Effect.Effect<HostileManager, never, Scope.Scope> =>
  Effect.gen(function*() {
    const requests: Array<string> = []
    let written = 0
    const first = yield* Deferred.make<void>()
    const sockets = new Set<Net.Socket>()
    const server = Net.createServer((socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
      socket.on("error", () => socket.destroy())
      let buffer: Buffer = Buffer.alloc(0)
      socket.on("data", (data: Buffer) => {
        buffer = Buffer.concat([buffer, data])
        for (let request = takeRequest(buffer); request !== undefined; request = takeRequest(buffer)) {
          buffer = request.rest
          requests.push(request.line)
          Deferred.doneUnsafe(first, Effect.void)
          answer(socket, behaviour, (n) => (written += n))
        }
      })
    })
    const port = yield* Effect.acquireRelease(
      Effect.callback<number>((resume) => {
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          resume(
            address === null || typeof address === "string"
              ? Effect.die(new Error("the hostile manager has no TCP address"))
              : Effect.succeed(address.port)
          )
        })
      }),
      () =>
        Effect.callback<void>((resume) => {
          for (const socket of sockets) socket.destroy()
          server.close(() => resume(Effect.void))
        })
    )
    return {
      port,
      url: `http://127.0.0.1:${port}/http-bind`,
      requests,
      bytesWritten: () => written,
      firstRequest: Deferred.await(first)
    }
  })
