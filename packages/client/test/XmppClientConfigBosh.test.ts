/**
 * The BOSH transport of the configuration takes its session settings from
 * the protocol's one Schema (`BoshOptions`): its bounds, and its defaults.
 */
import { assert, describe, it } from "@effect/vitest"
import { XmppClient, XmppClientConfig } from "@xmpp-core/client"
import { BoshOptions } from "@xmpp-core/protocol"
import { Duration, Result } from "effect"

const bosh = (fields: Record<string, unknown>) =>
  XmppClientConfig.decode({
    jid: "alice@localhost",
    password: "x",
    transport: { _tag: "bosh", url: "https://localhost:5281/http-bind", ...fields }
  })

describe("XmppClientConfig, BOSH transport", () => {
  it("takes wait as XEP-0124 does: 1 to 32,767 seconds", () => {
    for (const wait of [1, 3601, 32_767]) assert.isTrue(Result.isSuccess(bosh({ wait })), `wait ${wait}`)
    for (const wait of [0, 32_768, 2.5]) assert.isTrue(Result.isFailure(bosh({ wait })), `wait ${wait}`)
  })

  it("takes hold 0 to 16: the XEP's 127, capped by the HTTP pool (hold + 3 connections)", () => {
    for (const hold of [0, 1, 16]) assert.isTrue(Result.isSuccess(bosh({ hold })), `hold ${hold}`)
    for (const hold of [-1, 17, 127]) assert.isTrue(Result.isFailure(bosh({ hold })), `hold ${hold}`)
  })

  it("takes route as proto:host:port, and requestTimeout of at least 1 ms", () => {
    assert.isTrue(Result.isSuccess(bosh({ route: "xmpp:localhost:5222" })))
    assert.isTrue(Result.isFailure(bosh({ route: "localhost" })))
    assert.isTrue(Result.isSuccess(bosh({ requestTimeout: 1 })))
    assert.isTrue(Result.isFailure(bosh({ requestTimeout: 0 })))
  })

  it("without hold and wait, the HTTP layer is sized from the protocol's defaults", () => {
    const config = Result.getOrThrow(bosh({}))
    const transport = config.transport
    if (transport?._tag !== "bosh") throw new Error("expected a BOSH transport")
    const http = Result.getOrThrow(XmppClient.boshHttpConfig(config, transport))
    assert.strictEqual(http.hold, BoshOptions.defaults.hold)
    assert.isTrue(Duration.equals(http.timeout, Duration.seconds(BoshOptions.defaults.wait + 15)))
  })
})
