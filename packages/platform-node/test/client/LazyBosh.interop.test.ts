/**
 * BOSH's HTTP stack (undici) is loaded on the first BOSH session only: a
 * process that imports the package and logs in over TCP never loads undici
 * (about 10 MB of RSS); its first BOSH login does. Runs the built package
 * (`dist`, as `./run test` builds it first) in a child process that records
 * every module Node loads.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { servers } from "./Servers.js"

const s = servers()
const packageDir = fileURLToPath(new URL("../..", import.meta.url))

// Prints, after each step, whether a module of undici has been loaded.
const script = `
import { registerHooks } from "node:module"
let undici = false
registerHooks({ load(url, context, next) { if (url.includes("/undici/")) undici = true; return next(url, context) } })
const { XmppClient, XmppClientConfig } = await import("@xmpp-core/client")
const { NodeXmppClient } = await import("@xmpp-core/platform-node")
const { Effect, Schema } = await import("effect")
const [ca, domain, c2s, boshUrl, password] = process.argv.slice(1)
const steps = { imported: undici }
const login = (transport) => Effect.runPromise(Effect.scoped(Effect.flatMap(
  XmppClient.connect(Schema.decodeUnknownSync(XmppClientConfig.XmppClientConfig)({
    jid: "alice@" + domain, password, ca, allowPlaintext: true, resource: "lazy-bosh", transport
  })),
  (client) => client.close
)).pipe(Effect.provide(NodeXmppClient.layerPorts())))
await login({ _tag: "tcp", host: "127.0.0.1", port: Number(c2s), directTls: false })
steps.tcp = undici
await login({ _tag: "bosh", url: boshUrl })
steps.bosh = undici
console.log(JSON.stringify(steps))
`

describe("NodeXmppClient loads undici on the first BOSH session", () => {
  it.effect("not on import, not for a TCP login; for a BOSH login", () =>
    Effect.sync(() => {
      const ca = readFileSync(s.ca, "utf8")
      const child = spawnSync(process.execPath, [
        "--input-type=module",
        "-e",
        script,
        "--",
        ca,
        s.domain,
        String(s.prosody.c2s),
        `http://127.0.0.1:${s.prosody.http}${s.prosody.boshPath}`,
        s.accounts.alice
      ], { cwd: packageDir, encoding: "utf8", timeout: 20_000 })
      assert.strictEqual(child.status, 0, child.stderr)
      assert.deepStrictEqual(JSON.parse(child.stdout.trim()), { imported: false, tcp: false, bosh: true })
    }))
})
