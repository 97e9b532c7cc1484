/**
 * packages/protocol must stay pure: no Node built-ins, no clock, no
 * randomness, no timers. Time and random bytes come in as inputs.
 */
import { assert, describe, it } from "@effect/vitest"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { builtinModules } from "node:module"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..")
const sourceRoot = join(packageRoot, "src")

const sourceFiles = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry)
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : []
  })

// Comments may mention the forbidden names when explaining why they are absent.
const stripComments = (code: string): string =>
  code.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1")

const importedSpecifiers = (code: string): Array<string> => {
  const specifiers: Array<string> = []
  // Static imports and re-exports start a statement; dynamic imports and
  // require() may stand anywhere. A string like "invalid-from" is not an import.
  const pattern =
    /(?:^\s*(?:import|export)\b[^;]*?\bfrom\s*|^\s*import\s+|\bimport\s*\(\s*|\brequire\s*\(\s*)["']([^"']+)["']/gm
  for (const match of code.matchAll(pattern)) {
    if (match[1] !== undefined) specifiers.push(match[1])
  }
  return specifiers
}

const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]))
const allowedPackages = new Set(["effect", "saxes"])

export const forbiddenCalls: ReadonlyArray<readonly [string, RegExp]> = [
  ["Date.now()", /\bDate\s*\.\s*now\b/],
  ["new Date()", /\bnew\s+Date\b/],
  ["performance.now()", /\bperformance\s*\.\s*now\b/],
  ["Math.random()", /\bMath\s*\.\s*random\b/],
  ["setTimeout", /\bsetTimeout\b/],
  ["setInterval", /\bsetInterval\b/],
  ["setImmediate", /\bsetImmediate\b/],
  ["process", /\bprocess\s*\./],
  ["crypto.getRandomValues", /\bgetRandomValues\b/],
  ["Effect.sleep / Clock", /\b(?:Effect\s*\.\s*sleep|Clock\s*\.\s*currentTimeMillis|Clock\s*\.\s*currentTimeNanos)\b/]
]

/** Everything in `code` that breaks purity, as human-readable findings. */
export const purityViolations = (code: string): Array<string> => {
  const stripped = stripComments(code)
  const findings: Array<string> = []
  for (const specifier of importedSpecifiers(stripped)) {
    if (builtins.has(specifier) || specifier.startsWith("node:")) findings.push(`imports Node built-in ${specifier}`)
    else if (!specifier.startsWith(".")) {
      const packageName = specifier.startsWith("@")
        ? specifier.split("/").slice(0, 2).join("/")
        : specifier.split("/")[0] ?? specifier
      if (!allowedPackages.has(packageName)) findings.push(`imports ${specifier}`)
    }
  }
  for (const [name, pattern] of forbiddenCalls) {
    if (pattern.test(stripped)) findings.push(`uses ${name}`)
  }
  return findings
}

describe("protocol purity guard", () => {
  it("finds violations in code that has them", () => {
    // The guard itself must be able to fail.
    assert.deepStrictEqual(purityViolations(`import * as fs from "node:fs"`), ["imports Node built-in node:fs"])
    assert.deepStrictEqual(purityViolations(`import { x } from "net"`), ["imports Node built-in net"])
    assert.deepStrictEqual(purityViolations(`import { c } from "@xmpp-core/client"`), ["imports @xmpp-core/client"])
    assert.deepStrictEqual(purityViolations(`const t = Date.now()`), ["uses Date.now()"])
    assert.deepStrictEqual(purityViolations(`const t = new Date()`), ["uses new Date()"])
    assert.deepStrictEqual(purityViolations(`const t = performance.now()`), ["uses performance.now()"])
    assert.deepStrictEqual(purityViolations(`const r = Math.random()`), ["uses Math.random()"])
    assert.deepStrictEqual(purityViolations(`setTimeout(f, 1)`), ["uses setTimeout"])
    assert.deepStrictEqual(purityViolations(`const m = await import("node:crypto")`), [
      "imports Node built-in node:crypto"
    ])
    assert.deepStrictEqual(purityViolations(`// Date.now() is never called here\nconst x = 1`), [])
    assert.deepStrictEqual(purityViolations(`const reason = "invalid-from"\nconst a = attribute(x, "from")`), [])
    assert.deepStrictEqual(purityViolations(`export { a } from "node:fs"`), ["imports Node built-in node:fs"])
    assert.deepStrictEqual(purityViolations(`import {\n  a,\n  b\n} from "node:os"`), ["imports Node built-in node:os"])
    assert.deepStrictEqual(purityViolations(`import { Data } from "effect"\nimport { SaxesParser } from "saxes"`), [])
  })

  it("packages/protocol/src has no Node built-in, clock, randomness or timer", () => {
    const files = sourceFiles(sourceRoot)
    assert.isAbove(files.length, 0)
    const findings = files.flatMap((file) =>
      purityViolations(readFileSync(file, "utf8")).map((finding) => `${relative(packageRoot, file)}: ${finding}`)
    )
    assert.deepStrictEqual(findings, [])
  })

  it("packages/protocol depends only on effect and saxes", () => {
    const manifest = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as {
      readonly dependencies?: Record<string, string>
    }
    for (const name of Object.keys(manifest.dependencies ?? {})) {
      assert.isTrue(allowedPackages.has(name), `unexpected dependency ${name}`)
    }
  })
})
