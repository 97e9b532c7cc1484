import { assert, describe, it } from "@effect/vitest"
import { Socks5 } from "@xmpp-core/protocol"
import { Result } from "effect"
import * as fc from "fast-check"
import { bytes, drive, splitAt } from "./drive.js"

const handshake = (options: Socks5.Options) => {
  const made = Socks5.make(options)
  if (Result.isFailure(made)) throw new Error(`unexpected: ${made.failure.message}`)
  return made.success
}

const hex = (data: Uint8Array) => Buffer.from(data).toString("hex")

const credentials = { username: "sockuser", password: "sockpass" }
const authRequest = bytes([1, 8], "sockuser", [8], "sockpass")
const connectLocalhost = bytes([5, 1, 0, 3, 9], "localhost", [0x62, 0x7e]) // port 25214
const successReply = bytes([5, 0, 0, 1, 127, 0, 0, 1, 0x04, 0x38])

describe("Socks5", () => {
  it("greets offering no authentication only, or also username/password when credentials are given", () => {
    assert.strictEqual(hex(drive(handshake({ host: "localhost", port: 1 }), []).sent), "050100")
    assert.strictEqual(hex(drive(handshake({ host: "localhost", port: 1, credentials }), []).sent), "05020002")
  })

  it("without authentication: CONNECT by domain name after method X'00'", () => {
    const { sent, outcome } = drive(handshake({ host: "localhost", port: 25214 }), [bytes([5, 0]), successReply])
    assert.strictEqual(hex(sent), hex(bytes([5, 1, 0], connectLocalhost)))
    assert.isTrue(outcome._tag === "Established" && outcome.leftover.length === 0)
  })

  it("with authentication: sub-negotiation (RFC 1929), then CONNECT", () => {
    const { sent, outcome } = drive(handshake({ host: "localhost", port: 25214, credentials }), [
      bytes([5, 2]),
      bytes([1, 0]),
      successReply
    ])
    assert.strictEqual(hex(sent), hex(bytes([5, 2, 0, 2], authRequest, connectLocalhost)))
    assert.strictEqual(outcome._tag, "Established")
  })

  it("a proxy that picks no authentication although credentials were offered is fine", () => {
    const { sent, outcome } = drive(handshake({ host: "localhost", port: 25214, credentials }), [bytes([5, 0]), successReply])
    assert.strictEqual(hex(sent), hex(bytes([5, 2, 0, 2], connectLocalhost)))
    assert.strictEqual(outcome._tag, "Established")
  })

  it("sends IP literals as addresses (ATYP 1 and 4)", () => {
    assert.strictEqual(hex(Result.getOrThrow(Socks5.destinationAddress("127.0.0.1"))), "017f000001")
    assert.strictEqual(hex(Result.getOrThrow(Socks5.destinationAddress("::1"))), "04" + "00".repeat(15) + "01")
    assert.strictEqual(hex(Result.getOrThrow(Socks5.destinationAddress("[2001:db8::5]"))), "0420010db8" + "00".repeat(10) + "0005")
    assert.strictEqual(hex(Result.getOrThrow(Socks5.destinationAddress("::ffff:10.0.0.1"))), "04" + "00".repeat(10) + "ffff0a000001")
    // Not valid literals: sent as names, or refused.
    assert.strictEqual(hex(Result.getOrThrow(Socks5.destinationAddress("256.1.1.1"))).slice(0, 2), "03")
    assert.isTrue(Result.isFailure(Socks5.destinationAddress("1::2::3")))
  })

  it("names every reply code of RFC 1928 §6 and keeps the byte", () => {
    const expected = ["GeneralFailure", "ConnectionNotAllowed", "NetworkUnreachable", "HostUnreachable", "ConnectionRefused", "TtlExpired", "CommandNotSupported", "AddressTypeNotSupported"]
    for (let code = 1; code <= 255; code++) {
      const { outcome } = drive(handshake({ host: "localhost", port: 1 }), [bytes([5, 0]), bytes([5, code])])
      assert.isTrue(outcome._tag === "Failed", String(code))
      if (outcome._tag === "Failed") {
        assert.strictEqual(outcome.error.reason, expected[code - 1] ?? "UnassignedReplyCode")
        assert.strictEqual(outcome.error.replyCode, code)
      }
    }
  })

  it("X'FF' method fails with NoAcceptableMethods, a rejected password with AuthFailed", () => {
    const none = drive(handshake({ host: "localhost", port: 1 }), [bytes([5, 0xff])])
    assert.isTrue(none.outcome._tag === "Failed" && none.outcome.error.reason === "NoAcceptableMethods")
    const wrong = drive(handshake({ host: "localhost", port: 1, credentials }), [bytes([5, 2, 1, 1])])
    assert.isTrue(wrong.outcome._tag === "Failed" && wrong.outcome.error.reason === "AuthFailed")
  })

  it("protocol violations fail with BadResponse", () => {
    const cases: ReadonlyArray<[string, ReadonlyArray<Uint8Array>]> = [
      ["HTTP answer", [bytes("HTTP/1.1 400 Bad Request\r\n\r\n")]],
      ["method not offered", [bytes([5, 2])]],
      ["reply version", [bytes([5, 0]), bytes([4, 0, 0, 1])]],
      ["reserved byte", [bytes([5, 0]), bytes([5, 0, 7, 1, 0])]],
      ["address type", [bytes([5, 0]), bytes([5, 0, 0, 9, 0])]]
    ]
    for (const [name, chunks] of cases) {
      const { outcome } = drive(handshake({ host: "localhost", port: 1 }), chunks)
      assert.isTrue(outcome._tag === "Failed" && outcome.error.reason === "BadResponse", name)
    }
    const authVersion = drive(handshake({ host: "localhost", port: 1, credentials }), [bytes([5, 2, 5, 0])])
    assert.isTrue(authVersion.outcome._tag === "Failed" && authVersion.outcome.error.reason === "BadResponse")
  })

  it("refuses fields RFC 1928/1929 cannot carry", () => {
    const invalid = (options: Socks5.Options) => {
      const made = Socks5.make(options)
      return Result.isFailure(made) && made.failure.reason === "InvalidRequest"
    }
    assert.isTrue(invalid({ host: "a".repeat(256), port: 1 }))
    assert.isTrue(invalid({ host: "bad host", port: 1 }))
    assert.isTrue(invalid({ host: "h", port: 70000 }))
    assert.isTrue(invalid({ host: "h", port: 1, credentials: { username: "u".repeat(256), password: "p" } }))
    assert.isTrue(invalid({ host: "h", port: 1, credentials: { username: "u", password: "" } }))
  })

  it("property: any chunking of the proxy's bytes gives the same requests and hands on every tunnel byte", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          bytes([5, 0, 0, 1, 10, 0, 0, 1, 0, 80]),
          bytes([5, 0, 0, 4], new Uint8Array(16), [1, 187]),
          bytes([5, 0, 0, 3, 11], "example.org", [0x14, 0x66])
        ),
        fc.boolean(),
        fc.uint8Array({ maxLength: 40 }),
        fc.array(fc.nat({ max: 80 }), { maxLength: 10 }),
        (reply, withAuth, tunnel, cuts) => {
          const h = handshake({ host: "localhost", port: 25214, credentials: withAuth ? credentials : undefined })
          const wire = withAuth ? bytes([5, 2, 1, 0], reply, tunnel) : bytes([5, 0], reply, tunnel)
          const { sent, outcome } = drive(h, splitAt(wire, cuts))
          const expectedSent = withAuth ? bytes([5, 2, 0, 2], authRequest, connectLocalhost) : bytes([5, 1, 0], connectLocalhost)
          return outcome._tag === "Established" &&
            Buffer.from(sent).equals(Buffer.from(expectedSent)) &&
            Buffer.from(bytes(outcome.leftover, ...outcome.unread)).equals(Buffer.from(tunnel))
        }
      )
    )
  })
})
