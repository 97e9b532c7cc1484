import { it } from "@effect/vitest"
import { run } from "./Simulation.js"
it("debug", () => {
  const s = JSON.parse(process.env.SCENARIO ?? "{}")
  const o = run({ ...s, horizon: 400000 })
  console.log(JSON.stringify(o.requests.slice(0, 40)), o.manager.terminations, o.manager.violations, o.error?.message)
})
