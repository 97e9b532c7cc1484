/**
 * The local test servers, as `./run servers up` describes them in
 * `.state/servers.json` (see SERVERS.md). Missing file: a clear failure,
 * never a skip, because `./run test` starts the servers first.
 */
import { Schema } from "effect"
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const Port = Schema.Int
const Proxy = Schema.Struct({ open: Port, auth: Port, user: Schema.String, password: Schema.String })

const ServersSchema = Schema.Struct({
  ca: Schema.String,
  domain: Schema.String,
  prosody: Schema.Struct({ c2s: Port, c2sDirectTls: Port }),
  tinyproxy: Proxy,
  microsocks: Proxy,
  dnsmasq: Schema.Struct({ port: Port, srvDomain: Schema.String }),
  untrusted: Schema.Struct({ https: Port }),
  wrongName: Schema.Struct({ tls: Port }),
  /** A port nothing listens on, which tinyproxy still allows CONNECT to. */
  closedPort: Port
})

export type Servers = typeof ServersSchema.Type

const file = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", ".state", "servers.json")

export const servers = (): Servers => {
  let text: string
  try {
    text = readFileSync(file, "utf8")
  } catch (cause) {
    throw new Error(`${file} is missing: start the test servers with \`./run servers up\` (./run test does it)`, { cause })
  }
  return Schema.decodeUnknownSync(ServersSchema)(JSON.parse(text))
}

/** The PEM of the test CA. */
export const caPem = (s: Servers): string => readFileSync(s.ca, "utf8")

export const streamHeader = (to: string) =>
  `<?xml version='1.0'?><stream:stream to='${to}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`
