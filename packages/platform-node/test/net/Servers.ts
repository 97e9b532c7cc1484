/**
 * The local test servers, as `./run servers up` describes them in
 * `.state/servers.json` (written by scripts/servers.sh). Missing file: a clear failure,
 * never a skip, because `./run test` starts the servers first.
 */
import * as TestServers from "../support/TestServers.js"

export type Servers = TestServers.TestServers

export const servers = TestServers.testServers

/** The PEM of the test CA. */
export const caPem = TestServers.caPem

export const streamHeader = (to: string) =>
  `<?xml version='1.0'?><stream:stream to='${to}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`
