// A counting TCP relay in front of the connection manager's HTTP port: every
// byte is passed on unchanged, and the start of each HTTP request
// (`POST ` at the beginning of a request) is logged with its time, so the
// requests a login or an idle minute took are counted from outside the client.
import { createServer, connect } from "node:net"
import { performance } from "node:perf_hooks"

const epoch = () => performance.timeOrigin + performance.now()

/**
 * Starts a relay on an ephemeral loopback port to `host:port`.
 * Returns { port, requestsBetween(from, to), close() }.
 */
export const startRelay = (host, port) =>
  new Promise((resolve, reject) => {
    const times = []
    const sockets = new Set()
    const server = createServer((client) => {
      const upstream = connect({ host, port })
      client.setNoDelay(true)
      upstream.setNoDelay(true)
      sockets.add(client)
      sockets.add(upstream)
      // A request starts at the beginning of a chunk, or right after the
      // previous request's body (`</body>`) when two share a chunk.
      client.on("data", (chunk) => {
        const text = chunk.toString("latin1", 0, Math.min(chunk.length, 65536))
        const now = epoch()
        for (let at = text.indexOf("POST /"); at >= 0; at = text.indexOf("POST /", at + 1)) {
          if (at === 0 || text[at - 1] === ">" || text[at - 1] === "\n") times.push(now)
        }
        upstream.write(chunk)
      })
      upstream.on("data", (chunk) => client.write(chunk))
      const end = () => {
        client.destroy()
        upstream.destroy()
        sockets.delete(client)
        sockets.delete(upstream)
      }
      client.on("close", end).on("error", end)
      upstream.on("close", end).on("error", end)
    })
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () =>
      resolve({
        port: server.address().port,
        requestsBetween: (from, to) => times.filter((t) => t >= from && t <= to).length,
        close: () => {
          for (const socket of sockets) socket.destroy()
          server.close()
        }
      })
    )
  })
