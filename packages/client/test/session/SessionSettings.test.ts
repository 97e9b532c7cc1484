/**
 * The session's settings: stream-management defaults are the protocol
 * machine's own, and the reconnect backoff doubles up to its cap.
 */
import { assert, describe, it } from "@effect/vitest"
import { SessionSettings } from "@xmpp-core/client"
import { StreamManagement } from "@xmpp-core/protocol"

describe("SessionSettings", () => {
  it("absent stream-management fields take the machine's defaults; given ones win", () => {
    assert.deepStrictEqual(SessionSettings.streamManagementOptions({}, true), {
      ...StreamManagement.defaults,
      resume: true,
      maxResumeSeconds: StreamManagement.defaults.maxResumeSeconds,
      idleRequestMs: StreamManagement.defaults.idleRequestMs
    })
    const given = SessionSettings.streamManagementOptions({ requestEvery: 3, ackTimeout: 1_000, resume: false }, true)
    assert.strictEqual(given.requestEvery, 3)
    assert.strictEqual(given.ackTimeoutMs, 1_000)
    assert.isFalse(given.resume)
  })

  it("stream management is on unless turned off; a resumable session is asked for only when the session reconnects", () => {
    assert.deepStrictEqual(SessionSettings.streamManagementOf(undefined), {})
    assert.deepStrictEqual(SessionSettings.streamManagementOf({ requestEvery: 3 }), { requestEvery: 3 })
    assert.isUndefined(SessionSettings.streamManagementOf({ enabled: false }))
    assert.isFalse(SessionSettings.streamManagementOptions({}, false).resume)
    assert.isTrue(SessionSettings.streamManagementOptions({}, true).resume)
    assert.isTrue(SessionSettings.streamManagementOptions({ resume: true }, false).resume)
  })

  it("the backoff starts at initialDelay, doubles each try, and stops at maxDelay", () => {
    const policy = { initialDelay: 100, maxDelay: 1_000 }
    assert.deepStrictEqual([1, 2, 3, 4, 5, 6].map((attempt) => SessionSettings.backoff(policy, attempt)), [100, 200, 400, 800, 1_000, 1_000])
    assert.strictEqual(SessionSettings.backoff({}, 1), SessionSettings.reconnectDefaults.initialDelay)
  })
})
