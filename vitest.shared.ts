import { defineProject } from "vitest/config"

/**
 * One package's test project. Tests run against the TypeScript sources
 * (the `source` export condition), so no build is needed before `vitest`.
 */
export const packageProject = (name: string, options: { readonly testTimeout?: number } = {}) =>
  defineProject({
    resolve: { conditions: ["source"] },
    ssr: { resolve: { conditions: ["source"] } },
    test: {
      name,
      include: ["test/**/*.test.ts"],
      testTimeout: options.testTimeout ?? 20_000
    }
  })
