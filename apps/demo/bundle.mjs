// Bundles the demo CLI: tsc's apps/demo/dist/main.js and everything it imports
// (effect, @effect/platform-node, the project's packages) into one ES module,
// apps/demo/dist/bundle/main.js, which is the program `./run demo` runs and the
// demo's process tests and the benchmarks spawn. Why: the CLI as ~430 separate
// modules, JSDoc and all, held 123 MB RSS after a TCP login and 143 MB over
// BOSH; bundled (unused exports dropped, comments but legal ones stripped,
// names and lines kept readable) it holds about 80 and 105 MB.
// undici stays a chunk of its own, loaded on the first BOSH session.
//
//   node apps/demo/bundle.mjs      (after tsc -b; `./run` does both)
import { rmSync } from "node:fs"
import { dirname, join, relative, sep } from "node:path"
import { fileURLToPath } from "node:url"
import { rolldown } from "rolldown"

const here = dirname(fileURLToPath(import.meta.url))
const out = join(here, "dist", "bundle")

// Some modules find the repository from their own location (the demo's
// `Servers`, platform-node's `TestServers`): each keeps its own file's URL
// (relative to the bundle, so the checkout can move) instead of the bundle's.
const ownUrl = {
  name: "own-import-meta-url",
  transform(code, id) {
    if (id.startsWith("\0") || !code.includes("import.meta.url")) return null
    const own = `new URL(${JSON.stringify(relative(out, id).split(sep).join("/"))}, import.meta.url).href`
    return { code: code.replaceAll("import.meta.url", own), map: null }
  }
}

const bundle = await rolldown({ input: join(here, "dist", "main.js"), platform: "node", plugins: [ownUrl], logLevel: "warn" })
rmSync(out, { recursive: true, force: true })
await bundle.write({ dir: out, format: "esm", comments: { legal: true, jsdoc: false, annotation: false } })
await bundle.close()
