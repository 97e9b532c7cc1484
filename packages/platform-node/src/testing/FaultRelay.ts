/**
 * A fault-injecting relay in front of a real server's direct TLS port (or
 * its HTTPS port, for BOSH: `alpn`), for tests that kill the client's
 * connection at chosen points. It terminates
 * TLS on both legs (with the test servers' own certificate, which the client
 * trusts through the test CA), so it sees the XML each way and can act on
 * it: kill every connection, refuse new ones, swallow traffic (a black hole,
 * as a dead NAT mapping is), or kill when a side sends a given text.
 *
 * A scripted stand-in for a broken network, not for a server: the server
 * behind it is real. Test infrastructure (`@xmpp-core/platform-node/testing`).
 *
 * @since 0.1.0
 */
import { Effect, type Scope } from "effect"
import { readFileSync } from "node:fs"
import * as Net from "node:net"
import { dirname, join } from "node:path"
import * as Tls from "node:tls"

/** Which way bytes travel. */
export type Direction = "toServer" | "toClient"

/** One relayed connection: its two legs and the text each way so far. */
export interface Link {
  readonly id: number
  readonly client: Tls.TLSSocket
  readonly upstream: Tls.TLSSocket
  toServer: string
  toClient: string
}

/** A rule that kills a link when the text one way matches, once. */
export interface KillRule {
  readonly direction: Direction
  /** Tested against the text sent that way on the link so far. */
  readonly when: (text: string, link: Link) => boolean
  /** Forward the chunk that matched before killing (default false: the peer never gets it). */
  readonly forwardMatch?: boolean
}

/** The relay a test controls. */
export interface FaultRelay {
  readonly port: number
  /** Links opened so far, open or not. */
  readonly links: ReadonlyArray<Link>
  readonly openLinks: () => number
  /** Destroys both legs of every open link (a reset, as when the network drops). */
  readonly killAll: () => void
  /** While on, new connections are closed at once. */
  readonly refuse: (on: boolean) => void
  /** While on, nothing is forwarded (one way, or both) and the sockets stay open (a black hole). */
  readonly blackHole: (on: boolean, direction?: Direction) => void
  /** Adds a rule that kills the link whose traffic matches; fires once. */
  readonly killWhen: (rule: KillRule) => void
  /** Rewrites what passes one way from now on (a tampering middlebox), chunk by chunk. */
  readonly rewrite: (direction: Direction, edit: ((text: string) => string) | undefined) => void
}

/** @since 0.1.0 */
export interface Target {
  readonly host: string
  /** The server's direct TLS port (or its HTTPS port, with `alpn` `["http/1.1"]`). */
  readonly port: number
  /** The name its certificate carries. */
  readonly servername: string
  /** The test CA's PEM file. */
  readonly caFile: string
  /** The ALPN protocols offered on both legs (default `["xmpp-client"]`). */
  readonly alpn?: ReadonlyArray<string>
}

/** Starts a relay for `target`; it and every link close with the scope. */
export const make = (target: Target): Effect.Effect<FaultRelay, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ readonly relay: FaultRelay; readonly server: Tls.Server }>((resume) => {
      const pki = dirname(target.caFile)
      const ca = readFileSync(target.caFile)
      const alpn = [...(target.alpn ?? ["xmpp-client"])]
      const links: Array<Link> = []
      const open = new Set<Link>()
      const rules: Array<KillRule> = []
      let refusing = false
      const swallowing = { toServer: false, toClient: false }
      let nextId = 0
      const edits: { toServer: ((text: string) => string) | undefined; toClient: ((text: string) => string) | undefined } = {
        toServer: undefined,
        toClient: undefined
      }

      const kill = (link: Link) => {
        link.client.destroy()
        link.upstream.destroy()
        open.delete(link)
      }

      const forward = (link: Link, direction: Direction, data: Buffer) => {
        if (swallowing[direction]) return
        const text = data.toString("utf8")
        if (direction === "toServer") link.toServer += text
        else link.toClient += text
        const seen = direction === "toServer" ? link.toServer : link.toClient
        const index = rules.findIndex((rule) => rule.direction === direction && rule.when(seen, link))
        const rule = rules[index]
        if (rule !== undefined) {
          rules.splice(index, 1)
          // A forwarded chunk is handed to its socket before the reset (its write callback), else none is.
          if (rule.forwardMatch === true) (direction === "toServer" ? link.upstream : link.client).write(data, () => kill(link))
          else kill(link)
          return
        }
        const edit = edits[direction]
        ;(direction === "toServer" ? link.upstream : link.client).write(edit === undefined ? data : edit(text))
      }

      const server = Tls.createServer({
        key: readFileSync(join(pki, "localhost.key")),
        cert: readFileSync(join(pki, "localhost.pem")),
        ALPNProtocols: alpn,
        // No Nagle: the relay must not add the 40 ms stalls of small writes a real path would not.
        noDelay: true
      }, (client) => {
        if (refusing) {
          client.destroy()
          return
        }
        const upstream = Tls.connect({
          host: target.host,
          port: target.port,
          servername: target.servername,
          ca,
          ALPNProtocols: alpn
        })
        upstream.setNoDelay(true)
        const link: Link = { id: nextId++, client, upstream, toServer: "", toClient: "" }
        links.push(link)
        open.add(link)
        for (const socket of [client, upstream]) {
          socket.on("error", () => kill(link))
          socket.on("close", () => kill(link))
        }
        client.on("data", (data: Buffer) => forward(link, "toServer", data))
        upstream.on("data", (data: Buffer) => forward(link, "toClient", data))
        client.on("end", () => upstream.end())
        upstream.on("end", () => client.end())
      })
      // A TCP-level refusal while refusing, before any TLS is spent.
      server.on("connection", (socket: Net.Socket) => {
        if (refusing) socket.destroy()
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        resume(Effect.succeed({
          server,
          relay: {
            port,
            links,
            openLinks: () => open.size,
            killAll: () => {
              for (const link of [...open]) kill(link)
            },
            refuse: (on) => (refusing = on),
            blackHole: (on, direction) => {
              if (direction !== "toClient") swallowing.toServer = on
              if (direction !== "toServer") swallowing.toClient = on
            },
            killWhen: (rule) => void rules.push(rule),
            rewrite: (direction, edit) => (edits[direction] = edit)
          }
        }))
      })
    }),
    ({ relay, server }) =>
      Effect.callback<void>((resume) => {
        relay.killAll()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ relay }) => relay))
