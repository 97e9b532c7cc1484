import { assert, describe, it } from "@effect/vitest"
import { ChannelBinding } from "@xmpp-core/protocol"

const exporter = ChannelBinding.make("tls-exporter", new Uint8Array([1]))
const endPoint = ChannelBinding.make("tls-server-end-point", new Uint8Array([2]))
const unique = ChannelBinding.make("tls-unique", new Uint8Array([3]))

describe("ChannelBinding.select", () => {
  it("uses tls-exporter on TLS 1.3", () => {
    assert.strictEqual(ChannelBinding.select({ tlsVersion: "TLSv1.3", bindings: [unique, endPoint, exporter] }, undefined), exporter)
  })
  it("uses tls-unique on TLS 1.2 when the server lists nothing (RFC 5802's default; Prosody 0.12, ejabberd 23.01)", () => {
    assert.strictEqual(ChannelBinding.select({ tlsVersion: "TLSv1.2", bindings: [unique, endPoint] }, undefined), unique)
    assert.isUndefined(ChannelBinding.select({ tlsVersion: "TLSv1.2", bindings: [endPoint] }, undefined))
  })
  it("on TLS 1.2 with a server list: tls-server-end-point if listed, tls-unique if that is all", () => {
    assert.strictEqual(ChannelBinding.select({ tlsVersion: "TLSv1.2", bindings: [unique, endPoint] }, ["tls-unique"]), unique)
    assert.strictEqual(
      ChannelBinding.select({ tlsVersion: "TLSv1.2", bindings: [unique, endPoint] }, ["tls-unique", "tls-server-end-point"]),
      endPoint
    )
  })
  it("never uses tls-unique on TLS 1.3, nor a type the server does not list", () => {
    assert.isUndefined(ChannelBinding.select({ tlsVersion: "TLSv1.3", bindings: [unique] }, ["tls-unique"]))
    assert.isUndefined(ChannelBinding.select({ tlsVersion: "TLSv1.3", bindings: [exporter] }, ["tls-server-end-point"]))
    assert.isUndefined(ChannelBinding.select({ tlsVersion: "TLSv1.2", bindings: [unique] }, ["tls-server-end-point"]))
    assert.isUndefined(ChannelBinding.select({ tlsVersion: "TLSv1.3", bindings: [endPoint] }, undefined))
    assert.strictEqual(ChannelBinding.select({ tlsVersion: "TLSv1.3", bindings: [endPoint] }, ["tls-server-end-point"]), endPoint)
  })
  it("ignores empty binding data", () => {
    assert.isUndefined(
      ChannelBinding.select({ tlsVersion: "TLSv1.3", bindings: [ChannelBinding.make("tls-exporter", new Uint8Array())] }, undefined)
    )
  })
})
