/**
 * `@xmpp-core/platform-node/testing`: test infrastructure for the project's
 * own tests, benchmarks and demo tour (as `effect/testing` is for Effect's).
 *
 * @since 0.1.0
 */
export * as TestServers from "./testing/TestServers.js"
export * as FaultRelay from "./testing/FaultRelay.js"
