/**
 * The project's local test servers as `scripts/servers.sh up` describes them
 * in `.state/servers.json`: one Schema for every reader (the platform-node
 * tests and benchmarks, the demo's tour and its tests). Test infrastructure,
 * offered from `@xmpp-core/platform-node/testing`, never from the main entry.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const Port = Schema.Int

/** A proxy open to all (`open`) and one that asks for `user`/`password` (`auth`). */
const Proxy = Schema.Struct({ open: Port, auth: Port, user: Schema.String, password: Schema.String })

/** One XMPP server's listeners. */
const XmppServer = Schema.Struct({
  c2s: Port,
  c2sDirectTls: Port,
  http: Port,
  https: Port,
  boshPath: Schema.String,
  /** The domain where a client certificate logs in with SASL EXTERNAL. */
  certificateDomain: Schema.String
})

const PemFiles = Schema.Struct({ cert: Schema.String, key: Schema.String })

/**
 * `.state/servers.json`.
 *
 * @since 0.1.0
 */
export const TestServers = Schema.Struct({
  /** The test CA's PEM file. */
  ca: Schema.String,
  domain: Schema.String,
  /** The domain where SASL ANONYMOUS logs in (no accounts). */
  anonymousDomain: Schema.String,
  /** A client certificate per account (id-on-xmppAddr), PEM files. */
  clientCertificates: Schema.Struct({ "alice@localhost": PemFiles, "alice@cert.localhost": PemFiles }),
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

/**
 * @since 0.1.0
 */
export type TestServers = typeof TestServers.Type

/**
 * Where the description lives: `.state/servers.json` at the repository root
 * (this module is in packages/platform-node/src/testing or dist/testing).
 *
 * @since 0.1.0
 */
export const statePath = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", ".state", "servers.json")

/**
 * The servers' description. A missing file throws a clear error (what to
 * run), never a skip: `./run test` starts the servers first.
 *
 * @since 0.1.0
 */
export const read = (): TestServers => {
  let text: string
  try {
    text = readFileSync(statePath, "utf8")
  } catch (cause) {
    throw new Error(`${statePath} is missing: start the test servers with \`./run servers up\` (./run test does it)`, {
      cause
    })
  }
  return Schema.decodeUnknownSync(TestServers)(JSON.parse(text))
}

/**
 * The PEM of the test CA.
 *
 * @since 0.1.0
 */
export const caPem = (servers: TestServers): string => readFileSync(servers.ca, "utf8")
