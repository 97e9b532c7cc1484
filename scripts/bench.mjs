// `pnpm bench` / `./run bench`: runs every compiled benchmark
// (packages/*/dist-bench/*.bench.js, apps/*/dist-bench/*.bench.js) one after
// another in its own process. `./run bench NAME` runs those whose file name contains NAME.
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"

const filter = process.argv[2]
const roots = ["packages", "apps"].flatMap((dir) => readdirSync(dir).map((name) => join(dir, name, "dist-bench")))
const files = roots
  .filter((dir) => existsSync(dir))
  .flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith(".bench.js")).map((f) => join(dir, f)))
  .filter((file) => filter === undefined || file.includes(filter))
if (files.length === 0) {
  console.error("no benchmarks found (run `tsc -b` first)")
  process.exit(1)
}
let failed = false
for (const file of files) {
  console.log(`\n# ${file}`)
  const result = spawnSync(process.execPath, ["--expose-gc", file], { stdio: "inherit" })
  if (result.status !== 0) failed = true
}
process.exit(failed ? 1 : 0)
