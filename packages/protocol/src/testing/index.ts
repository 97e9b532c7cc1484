/**
 * @xmpp-core/protocol/testing: test doubles for the protocol's machines,
 * shared by the tests and benchmarks of this package and of the packages
 * above it (as `effect/testing` is). Never imported by production code.
 *
 * @since 0.1.0
 */
export * as BoshSimulatedConnectionManager from "./BoshSimulatedConnectionManager.js"
