/**
 * The local test servers for platform-node tests: the one Schema and reader
 * of `.state/servers.json` (`@xmpp-core/platform-node/testing`).
 */
import { TestServers } from "@xmpp-core/platform-node/testing"

export type TestServers = TestServers.TestServers

export const statePath = TestServers.statePath

export const testServers = TestServers.read

/** The PEM of the test CA. */
export const caPem = TestServers.caPem
