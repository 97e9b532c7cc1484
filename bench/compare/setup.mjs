// What `./run bench compare` needs on a fresh machine, installed by itself:
// the npm peers (this package's dev dependencies, through pnpm and the
// lockfile), gloox (Debian's libgloox-dev and g++, through apt-get) and the
// small C++ client compiled into build/ (gitignored). Each step is bounded by
// a timeout; a step that fails leaves a reason for the cells it concerns.
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, statSync } from "node:fs"
import { join } from "node:path"

const say = (line) => process.stderr.write(`» ${line}\n`)

const run = (command, args, options = {}) =>
  spawnSync(command, args, { stdio: ["ignore", "inherit", "inherit"], timeout: 300_000, ...options })

/** The npm peers; installs the locked workspace when one is missing. */
export const ensureNodePeers = (root, here, names) => {
  const missing = names.filter((name) => !existsSync(join(here, "node_modules", name, "package.json")))
  if (missing.length === 0) return undefined
  say(`installing the peers (${missing.join(", ")}) with pnpm install --frozen-lockfile`)
  const result = run("pnpm", ["install", "--frozen-lockfile", "--reporter=append-only"], { cwd: root })
  return result.status === 0 ? undefined : `pnpm install failed (${result.error?.message ?? `exit ${result.status}`})`
}

/** gloox and g++ from Debian, then the bench client compiled; returns the binary or why not. */
export const ensureGloox = (here) => {
  const header = "/usr/include/gloox/client.h"
  const hasCompiler = run("g++", ["--version"], { stdio: "ignore" }).status === 0
  if (!existsSync(header) || !hasCompiler) {
    say("installing libgloox-dev and g++ (apt-get)")
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
    run("apt-get", ["update", "-qq"], { env, stdio: "ignore" })
    const installed = run("apt-get", ["install", "-y", "-qq", "libgloox-dev", "g++"], { env, stdio: "ignore" })
    if (installed.status !== 0 || !existsSync(header)) {
      return { why: `libgloox-dev could not be installed (apt-get ${installed.error?.message ?? `exit ${installed.status}`})` }
    }
  }
  const source = join(here, "gloox", "gloox-bench.cpp")
  const binary = join(here, "build", "gloox-bench")
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
    say("compiling bench/compare/gloox/gloox-bench.cpp")
    mkdirSync(join(here, "build"), { recursive: true })
    const compiled = run("g++", ["-O2", "-std=c++17", "-o", binary, source, "-lgloox", "-lpthread"], { timeout: 180_000 })
    if (compiled.status !== 0) return { why: `the gloox client did not compile (g++ exit ${compiled.status})` }
  }
  return { binary }
}

/** The project's servers: started (scripts/servers.sh up) only when none are described. */
export const ensureServers = (root, statePath) => {
  if (typeof statePath !== "string") throw new Error("@xmpp-core/platform-node/testing gave no statePath")
  if (existsSync(statePath)) return
  say("no .state/servers.json: starting the test servers (scripts/servers.sh up)")
  run(join(root, "scripts", "servers.sh"), ["up"], { timeout: 600_000 })
}
