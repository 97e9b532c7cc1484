import { assert, describe, it } from "@effect/vitest"
import { ChannelBinding, ChannelBindingChoice, Element } from "@xmpp-core/protocol"

const exporter = ChannelBinding.make("tls-exporter", new Uint8Array([1]))
const endPoint = ChannelBinding.make("tls-server-end-point", new Uint8Array([2]))
const unique = ChannelBinding.make("tls-unique", new Uint8Array([3]))
const tls13 = { tlsVersion: "TLSv1.3", bindings: [exporter, endPoint] }
const tls12 = { tlsVersion: "TLSv1.2", bindings: [unique, endPoint] }

const choose = (
  channel: ChannelBinding.TlsChannel | undefined,
  serverTypes: ReadonlyArray<ChannelBinding.ChannelBindingType> | undefined,
  enabled = true
) => ChannelBindingChoice.choose({ channel, serverTypes, enabled })

const bound = (choice: ChannelBindingChoice.Choice) => (choice._tag === "Bind" ? choice.binding.type : choice._tag)

describe("ChannelBindingChoice.choose", () => {
  it("binds with a type the server lists: tls-exporter on TLS 1.3, tls-unique on TLS 1.2", () => {
    assert.strictEqual(bound(choose(tls13, ["tls-exporter", "tls-server-end-point"])), "tls-exporter")
    assert.strictEqual(bound(choose(tls12, ["tls-unique", "tls-server-end-point"])), "tls-unique")
  })

  it("binds with tls-server-end-point where it is the one the server lists", () => {
    assert.strictEqual(bound(choose(tls13, ["tls-server-end-point"])), "tls-server-end-point")
    assert.strictEqual(bound(choose(tls12, ["tls-server-end-point"])), "tls-server-end-point")
  })

  it("never uses tls-unique on TLS 1.3 nor tls-exporter on TLS 1.2, even when listed", () => {
    const anyData = { tlsVersion: "TLSv1.3", bindings: [unique, exporter] }
    assert.strictEqual(bound(choose(anyData, ["tls-unique"])), "NotOffered")
    assert.strictEqual(bound(choose({ tlsVersion: "TLSv1.2", bindings: [exporter, unique] }, ["tls-exporter"])), "NotOffered")
  })

  it("without a list: tls-unique on TLS 1.2 (RFC 5802's default); on TLS 1.3 no binding, said with y", () => {
    assert.strictEqual(bound(choose(tls12, undefined)), "tls-unique")
    const onTls13 = choose(tls13, undefined)
    assert.strictEqual(onTls13._tag, "NotOffered")
    if (onTls13._tag === "NotOffered") assert.match(onTls13.reason, /XEP-0440/)
  })

  it("a list without a usable type is NotOffered (y), not a binding the server did not name", () => {
    assert.strictEqual(bound(choose(tls13, [])), "NotOffered")
    assert.strictEqual(bound(choose(tls12, ["tls-exporter"])), "NotOffered")
  })

  it("Unavailable (n) without a channel, without data, or when turned off", () => {
    assert.strictEqual(bound(choose(undefined, ["tls-exporter"])), "Unavailable")
    assert.strictEqual(bound(choose({ tlsVersion: "TLSv1.3", bindings: [] }, ["tls-exporter"])), "Unavailable")
    assert.strictEqual(
      bound(choose({ tlsVersion: "TLSv1.3", bindings: [ChannelBinding.make("tls-exporter", new Uint8Array())] }, undefined)),
      "Unavailable"
    )
    const off = choose(tls13, ["tls-exporter"], false)
    assert.strictEqual(off._tag, "Unavailable")
    if (off._tag === "Unavailable") assert.match(off.reason, /setting channelBinding/)
  })
})

describe("ChannelBindingChoice.advertisedTypes", () => {
  const features = (...children: Array<Element.Element>) =>
    Element.make("features", { namespace: "http://etherx.jabber.org/streams", children })
  const list = (...types: Array<string>) =>
    Element.make("sasl-channel-binding", {
      namespace: ChannelBindingChoice.NAMESPACE,
      children: types.map((type) =>
        Element.make("channel-binding", { namespace: ChannelBindingChoice.NAMESPACE, attributes: { type } })
      )
    })

  it("reads the XEP-0440 list, leaves out unknown types, and tells an empty list from none", () => {
    assert.deepStrictEqual(
      ChannelBindingChoice.advertisedTypes(features(list("tls-exporter", "made-up", "tls-server-end-point"))),
      ["tls-exporter", "tls-server-end-point"]
    )
    assert.deepStrictEqual(ChannelBindingChoice.advertisedTypes(features(list())), [])
    assert.isUndefined(ChannelBindingChoice.advertisedTypes(features()))
  })
})

describe("ChannelBindingChoice.suspectsDowngrade", () => {
  const failure = (condition: string, text: string | undefined, answersClientFirst = true) =>
    ChannelBindingChoice.suspectsDowngrade({ _tag: "Failure", condition, text, answersClientFirst })

  it("RFC 5802's server-does-support-channel-binding, a failure naming channel binding, Prosody's bare malformed-request", () => {
    assert.isTrue(
      ChannelBindingChoice.suspectsDowngrade({ _tag: "ScramServerError", serverError: "server-does-support-channel-binding" })
    )
    assert.isTrue(failure("not-authorized", "Invalid channel binding"))
    assert.isTrue(failure("malformed-request", undefined))
  })

  it("not a wrong password, an unknown user, another SCRAM error, or anything after the client-first", () => {
    assert.isFalse(ChannelBindingChoice.suspectsDowngrade({ _tag: "ScramServerError", serverError: "invalid-proof" }))
    assert.isFalse(failure("not-authorized", undefined))
    assert.isFalse(failure("not-authorized", "Invalid username or password"))
    assert.isFalse(failure("malformed-request", "Invalid username."))
    assert.isFalse(failure("malformed-request", undefined, false))
  })
})
