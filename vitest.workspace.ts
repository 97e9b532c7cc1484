/**
 * The test projects of the monorepo. vitest 5 no longer reads this file by
 * itself: `vitest.config.ts` imports the list into `test.projects`.
 */
export const projects = [
  "packages/protocol",
  "packages/client",
  "packages/platform-node",
  "apps/demo"
] as const

export default projects
