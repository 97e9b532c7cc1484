// A scripted HTTP server on loopback for tests of the HTTP layer itself
// (reason phrases, connection reuse, proxies' status codes). It counts the TCP
// connections it accepts, which is what the modes differ in.
import { Effect } from "effect"
import * as Http from "node:http"

export interface LocalHttpServer {
  readonly url: string
  readonly port: number
  /** TCP connections accepted so far. */
  readonly connections: () => number
  /** Requests seen so far, in arrival order (request line target and body). */
  readonly requests: ReadonlyArray<{ readonly target: string; readonly headers: Http.IncomingHttpHeaders; readonly body: string }>
}

export type Handler = (
  request: { readonly target: string; readonly headers: Http.IncomingHttpHeaders; readonly body: string },
  response: Http.ServerResponse
) => void

export const make = (handler: Handler) =>
  Effect.acquireRelease(
    Effect.callback<{ server: Http.Server; state: LocalHttpServer }>((resume) => {
      let connections = 0
      const requests: Array<{ target: string; headers: Http.IncomingHttpHeaders; body: string }> = []
      const server = Http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (chunk: Buffer) => chunks.push(chunk))
        req.on("end", () => {
          const seen = { target: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") }
          requests.push(seen)
          handler(seen, res)
        })
      })
      server.keepAliveTimeout = 30_000
      server.on("connection", () => {
        connections++
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        if (address === null || typeof address === "string") {
          resume(Effect.die(new Error("the test server has no TCP address")))
          return
        }
        const port = address.port
        resume(Effect.succeed({
          server,
          state: { url: `http://127.0.0.1:${port}/http-bind`, port, connections: () => connections, requests }
        }))
      })
    }),
    ({ server }) =>
      Effect.callback<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ state }) => state))

/** Answers every request at once with `status reasonPhrase` and a BOSH body. */
export const answer = (status: number, reasonPhrase: string, body = "<body xmlns='http://jabber.org/protocol/httpbind'/>"): Handler =>
(_request, response) => {
  response.writeHead(status, reasonPhrase, { "content-type": "text/xml; charset=utf-8" })
  response.end(body)
}
