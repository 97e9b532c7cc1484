// Reads vitest's JSON report and prints the plain line "N passed, N failed".
// A test file that fails to load has no failed test of its own but counts
// as one failure here. Exits non-zero when anything failed or nothing ran.
import { readFileSync } from "node:fs"

const path = process.argv[2] ?? ".reports/vitest.json"
let report
try {
  report = JSON.parse(readFileSync(path, "utf8"))
} catch (error) {
  console.log("0 passed, 1 failed")
  console.error(`no readable vitest report at ${path}: ${error}`)
  process.exit(1)
}
const passed = report.numPassedTests ?? 0
let failed = report.numFailedTests ?? 0
for (const file of report.testResults ?? []) {
  const failedInFile = (file.assertionResults ?? []).filter((test) => test.status === "failed").length
  if (file.status === "failed" && failedInFile === 0) failed += 1
}
console.log(`${passed} passed, ${failed} failed`)
if (failed > 0 || passed === 0) process.exit(1)
