// The processes the runner measures: one job is one process with a timeout
// that prints one JSON line; the memory figures (bare Node, the demo CLI after
// login, a JavaScript client's worker) are shared by `run.mjs` and `rss.mjs`.
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, "..", "..")

/** Runs `command`, resolves with the JSON of its last stdout line, or `{ error }`. */
export const spawnJob = (command, args, timeoutSeconds, env = process.env) =>
  new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] })
    let out = "", err = ""
    child.stdout.on("data", (d) => (out += d))
    child.stderr.on("data", (d) => (err = (err + d).slice(-2000)))
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      resolve({ error: `timed out after ${timeoutSeconds} s` })
    }, timeoutSeconds * 1000)
    child.on("close", () => {
      clearTimeout(timer)
      const line = out.trim().split("\n").at(-1) ?? ""
      try {
        resolve(JSON.parse(line))
      } catch {
        resolve({ error: `no result (${(err.trim().split("\n").at(-1) ?? "").slice(0, 160)})` })
      }
    })
  })

/** One measure of one JavaScript client (`clients/<client>.mjs`) in `worker.mjs`. */
export const workerJob = (servers, { client, variant, measure, n, seconds, timeout, heapSnapshot }, httpPort = servers.prosody.http) => {
  const prosody = servers.prosody
  const job = {
    client,
    variant,
    measure,
    n,
    seconds,
    ...(heapSnapshot === undefined ? {} : { heapSnapshot }),
    accounts: servers.accounts,
    target: {
      domain: servers.domain,
      host: "127.0.0.1",
      c2s: prosody.c2s,
      boshUrl: `http://127.0.0.1:${httpPort}${prosody.boshPath}`,
      ca: servers.ca
    }
  }
  // NODE_EXTRA_CA_CERTS: the peers trust the test CA the way Node offers (the project takes `ca`).
  return spawnJob(process.execPath, ["--expose-gc", join(here, "worker.mjs"), JSON.stringify(job)], timeout, {
    ...process.env,
    NODE_EXTRA_CA_CERTS: servers.ca
  })
}

/** The RSS of a bare Node after a GC. */
export const bareNode = () =>
  spawnJob(process.execPath, ["--expose-gc", "-e",
    "gc(); setTimeout(() => { console.log(JSON.stringify({ rssKiB: process.memoryUsage().rss / 1024 })) }, 200)"], 20)

/** The RSS of `demo connect` over BOSH (`apps/demo/dist/bundle/main.js`, as `./run demo` runs it), 500 ms after it printed the bound JID. */
export const cliAfterLogin = (servers) =>
  new Promise((resolve) => {
    const prosody = servers.prosody
    const child = spawn(process.execPath, [join(root, "apps", "demo", "dist", "bundle", "main.js"), "connect", "--jid", `alice@${servers.domain}`,
      "--password-env", "BENCH_PASSWORD", "--transport", "bosh", "--bosh-url", `http://127.0.0.1:${prosody.http}${prosody.boshPath}`,
      "--allow-plaintext", "--mechanisms", "SCRAM-SHA-256", "--for", "10"], {
      env: { ...process.env, BENCH_PASSWORD: servers.accounts.alice },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let done = false
    const finish = (result) => {
      if (done) return
      done = true
      clearTimeout(timer)
      child.kill("SIGTERM")
      resolve(result)
    }
    const timer = setTimeout(() => finish({ error: "the CLI printed no JID in 20 s" }), 20_000)
    child.stdout.on("data", () =>
      // It printed the bound JID: logged in. Let it settle, then read its RSS.
      setTimeout(() => {
        try {
          const status = readFileSync(`/proc/${child.pid}/status`, "utf8")
          finish({ rssKiB: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) })
        } catch (error) {
          finish({ error: `no RSS: ${error.message}` })
        }
      }, 500))
    child.on("close", () => finish({ error: "the CLI ended before it logged in" }))
  })
