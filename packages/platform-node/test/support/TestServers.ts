/**
 * The local test servers, as `./run servers up` describes them in
 * `.state/servers.json`: the one reader every platform-node test uses.
 * A missing file is a clear failure, never a skip, because `./run test`
 * starts the servers first.
 */
import { Schema } from "effect"
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const Port = Schema.Int
const Proxy = Schema.Struct({ open: Port, auth: Port, user: Schema.String, password: Schema.String })
const XmppServer = Schema.Struct({
  c2s: Port,
  c2sDirectTls: Port,
  http: Port,
  https: Port,
  boshPath: Schema.String,
  /** The domain where a client certificate logs in with SASL EXTERNAL. */
  certificateDomain: Schema.String
})
const Pem = Schema.Struct({ cert: Schema.String, key: Schema.String })

const TestServersSchema = Schema.Struct({
  ca: Schema.String,
  domain: Schema.String,
  /** The domain where SASL ANONYMOUS logs in (no accounts). */
  anonymousDomain: Schema.String,
  /** A client certificate per account (id-on-xmppAddr), PEM files. */
  clientCertificates: Schema.Struct({ "alice@localhost": Pem, "alice@cert.localhost": Pem }),
  accounts: Schema.Struct({ alice: Schema.String, bob: Schema.String }),
  prosody: XmppServer,
  ejabberd: XmppServer,
  tinyproxy: Proxy,
  microsocks: Proxy,
  dnsmasq: Schema.Struct({ port: Port, srvDomain: Schema.String }),
  untrusted: Schema.Struct({ https: Port }),
  wrongName: Schema.Struct({ tls: Port }),
  /** A port nothing listens on, which tinyproxy still allows CONNECT to. */
  closedPort: Port
})

export type TestServers = typeof TestServersSchema.Type

export const statePath = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", ".state", "servers.json")

export const testServers = (): TestServers => {
  let text: string
  try {
    text = readFileSync(statePath, "utf8")
  } catch (cause) {
    throw new Error(`${statePath} is missing: start the test servers with \`./run servers up\` (./run test does it)`, {
      cause
    })
  }
  return Schema.decodeUnknownSync(TestServersSchema)(JSON.parse(text))
}

/** The PEM of the test CA. */
export const caPem = (servers: TestServers): string => readFileSync(servers.ca, "utf8")
