/**
 * What a 50 MiB answer from a connection manager costs the client: a
 * loopback HTTP server (a stand-in, no real manager sends that) answers
 * the session creation request with 50 MiB, announced by Content-Length
 * or chunked; the client must refuse it at its 4 MiB limit. Printed: the
 * peak RSS above the process's level before, the time until the typed
 * error, and the bytes the server got onto the socket. Target (issue 9):
 * less than 20 MB of extra memory.
 */
import { XmppClient, XmppClientConfig } from "@xmpp-core/client"
import { NodeXmppClient } from "@xmpp-core/platform-node"
import { Effect, ManagedRuntime, Schema } from "effect"
import * as Net from "node:net"
import { performance } from "node:perf_hooks"
import { report } from "../../../scripts/bench-harness.mjs"

const MiB = 1024 * 1024
const SIZE = 50 * MiB
const chunk = Buffer.alloc(64 * 1024, "x")

/** Answers every request with SIZE bytes, as fast as the client reads; counts what the sockets took. */
const startServer = (contentLength: boolean) =>
  new Promise<{ readonly port: number; readonly written: () => number; readonly close: () => void }>((resolve) => {
    let written = 0
    const server = Net.createServer((socket) => {
      socket.on("error", () => socket.destroy())
      socket.once("data", () => {
        socket.write(
          `HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n${contentLength ? `Content-Length: ${SIZE}` : "Transfer-Encoding: chunked"}\r\n\r\n`
        )
        let left = SIZE
        const pump = () => {
          while (left > 0 && !socket.destroyed) {
            left -= chunk.length
            const framed = contentLength ? chunk : Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")])
            const more = socket.write(framed, (error) => {
              if (error === undefined || error === null) written += chunk.length
            })
            if (!more) return void socket.once("drain", pump)
          }
        }
        pump()
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = address !== null && typeof address !== "string" ? address.port : 0
      resolve({ port, written: () => written, close: () => server.close() })
    })
  })

const runtime = ManagedRuntime.make(NodeXmppClient.layerPorts())
const gc = (globalThis as { gc?: () => void }).gc

const attempt = async (port: number) => {
  const config = Schema.decodeUnknownSync(XmppClientConfig.XmppClientConfig)({
    jid: "alice@localhost",
    password: "unused",
    allowPlaintext: true,
    transport: { _tag: "bosh", url: `http://127.0.0.1:${port}/http-bind` }
  })
  gc?.()
  const before = process.memoryUsage().rss
  let peak = before
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 1)
  const start = performance.now()
  const error = await runtime.runPromise(XmppClient.connect(config).pipe(Effect.flip, Effect.scoped))
  const elapsed = performance.now() - start
  clearInterval(sampler)
  peak = Math.max(peak, process.memoryUsage().rss)
  const cause = (error.cause as { readonly cause?: { readonly reason?: string } } | undefined)?.cause?.reason
  return { extra: (peak - before) / MiB, elapsed, cause: `${error.reason} / ${cause ?? "?"}` }
}

for (const contentLength of [true, false]) {
  const server = await startServer(contentLength)
  await attempt(server.port) // warm-up: code loaded, pools made
  const runs = []
  for (let i = 0; i < 5; i++) runs.push(await attempt(server.port))
  server.close()
  const worst = Math.max(...runs.map((r) => r.extra))
  report(`A 50 MiB answer to session creation, ${contentLength ? "Content-Length announced" : "chunked"} (5 attempts)`, [
    ["extra memory, peak RSS over the level before (worst of 5)", `${worst.toFixed(1)} MB   (target: < 20 MB; before: about 460 MB peak)`],
    ["time until the typed error (median)", `${runs.map((r) => r.elapsed).sort((a, b) => a - b)[2]?.toFixed(1)} ms   (before: about 10 s)`],
    ["error", runs[0]?.cause ?? "?"],
    ["answer bytes the server got onto the socket, all attempts", `${(server.written() / MiB).toFixed(1)} MiB of ${6 * 50} MiB offered`]
  ])
}
await runtime.dispose()
