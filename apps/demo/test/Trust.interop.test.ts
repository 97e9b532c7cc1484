/**
 * What `--ca` and `--no-system-roots` mean, the same over TCP and BOSH, as a
 * real process against the real servers. The process's system trust is made
 * the test CA through `NODE_EXTRA_CA_CERTS` (part of what Node trusts by
 * default), and `--ca` names a certificate that vouches for nothing here:
 *
 * - `--ca` adds to the system's roots: the servers are trusted through the
 *   system's (a `ca` that replaced them, as TCP's once did, fails);
 * - `--no-system-roots` trusts `--ca` alone: both transports refuse the
 *   servers with the same typed cause.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { servers } from "./RunCli.js"

const s = servers()
const main = fileURLToPath(new URL("../dist/bundle/main.js", import.meta.url))
const SLOW = 30_000
// A self-signed certificate of a server the tests never trust: as a trust anchor it vouches for nothing here.
const unrelatedCa = s.ca.replace(/ca\.pem$/, "untrusted.pem")

interface Ended {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const run = (argv: ReadonlyArray<string>) =>
  Effect.callback<Ended>((resume) => {
    const child = spawn(process.execPath, [main, ...argv], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: s.ca, DEMO_TRUST_PASSWORD: s.accounts.alice },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    child.on("exit", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

const routes = {
  tcp: ["--port", String(s.prosody.c2s)],
  bosh: ["--transport", "bosh", "--bosh-url", `https://${s.domain}:${s.prosody.https}${s.prosody.boshPath}`]
} as const

const send = (route: ReadonlyArray<string>, trust: ReadonlyArray<string>) =>
  run([
    "send",
    "--jid",
    `alice@${s.domain}`,
    "--password-env",
    "DEMO_TRUST_PASSWORD",
    "--to",
    `bob@${s.domain}/nobody`,
    "--body",
    "trust",
    ...route,
    ...trust
  ])

describe("demo CLI: one meaning of --ca on every transport", () => {
  for (const [name, route] of Object.entries(routes)) {
    it.live(`${name}: --ca adds to the system's roots, which still vouch for the server`, () =>
      Effect.gen(function*() {
        const ended = yield* send(route, ["--ca", unrelatedCa])
        assert.strictEqual(ended.code, 0, ended.stderr)
        assert.match(ended.stdout, /^bound alice@localhost\//m)
      }), SLOW)

    it.live(`${name}: --no-system-roots trusts --ca alone: the server is refused as untrusted`, () =>
      Effect.gen(function*() {
        const ended = yield* send(route, ["--ca", unrelatedCa, "--no-system-roots"])
        assert.strictEqual(ended.code, 3, ended.stderr)
        assert.match(ended.stderr, /^error: ConnectFailed: .*is not trusted.*\(TlsFailed\)$/m)
      }), SLOW)
  }
})
