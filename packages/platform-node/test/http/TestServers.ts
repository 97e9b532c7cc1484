// Reads `.state/servers.json`, written by `./run servers up` (see the servers
// contract). No skipping: `./run test` starts the servers first, so a missing
// file is a failure with a message that says what to do.
import * as TestServers from "../support/TestServers.js"

export type Servers = TestServers.TestServers

export const statePath = TestServers.statePath

export const load = (): Servers & { readonly caPem: string } => {
  const servers = TestServers.testServers()
  return { ...servers, caPem: TestServers.caPem(servers) }
}
