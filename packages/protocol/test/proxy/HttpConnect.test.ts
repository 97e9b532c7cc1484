import { assert, describe, it } from "@effect/vitest"
import { HttpConnect } from "@xmpp-core/protocol"
import { Result } from "effect"
import * as fc from "fast-check"
import { bytes, drive, splitAt } from "./drive.js"

const handshake = (options: HttpConnect.Options) => {
  const made = HttpConnect.make(options)
  if (Result.isFailure(made)) throw new Error(`unexpected: ${made.failure.message}`)
  return made.success
}

const text = (data: Uint8Array) => Buffer.from(data).toString("latin1")

describe("HttpConnect", () => {
  it("sends a CONNECT request in authority form with a Host header", () => {
    const { sent } = drive(handshake({ host: "xmpp.example", port: 5222 }), [])
    assert.strictEqual(text(sent), "CONNECT xmpp.example:5222 HTTP/1.1\r\nHost: xmpp.example:5222\r\n\r\n")
  })

  it("brackets IPv6 literals", () => {
    const { sent } = drive(handshake({ host: "::1", port: 5223 }), [])
    assert.strictEqual(text(sent), "CONNECT [::1]:5223 HTTP/1.1\r\nHost: [::1]:5223\r\n\r\n")
  })

  it("adds Proxy-Authorization: Basic with UTF-8 credentials (RFC 7617)", () => {
    const { sent } = drive(handshake({ host: "h", port: 1, credentials: { username: "Aladdin", password: "open sesame" } }), [])
    assert.include(text(sent), "\r\nProxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n")
    const utf = drive(handshake({ host: "h", port: 1, credentials: { username: "test", password: "123£" } }), [])
    assert.include(text(utf.sent), `Basic ${Buffer.from("test:123£", "utf8").toString("base64")}\r\n`)
  })

  it("refuses input that could inject a request line or header", () => {
    for (const host of ["a b", "a\r\nX: y", "evil/path", "", "user@host"]) {
      const made = HttpConnect.make({ host, port: 80 })
      assert.isTrue(Result.isFailure(made) && made.failure.reason === "InvalidRequest", host)
    }
    for (const port of [0, 65536, 1.5, -1]) {
      const made = HttpConnect.make({ host: "h", port })
      assert.isTrue(Result.isFailure(made) && made.failure.reason === "InvalidRequest", String(port))
    }
    const colon = HttpConnect.make({ host: "h", port: 1, credentials: { username: "a:b", password: "p" } })
    assert.isTrue(Result.isFailure(colon) && colon.failure.reason === "InvalidRequest")
    const crlf = HttpConnect.make({ host: "h", port: 1, credentials: { username: "a", password: "p\r\nX: y" } })
    assert.isTrue(Result.isFailure(crlf) && crlf.failure.reason === "InvalidRequest")
  })

  it("opens the tunnel on 200 and hands on the bytes after the header", () => {
    const response = bytes("HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\n\r\n", "<stream:stream")
    const { outcome } = drive(handshake({ host: "h", port: 1 }), [response])
    assert.strictEqual(outcome._tag, "Established")
    if (outcome._tag === "Established") assert.strictEqual(text(outcome.leftover), "<stream:stream")
  })

  it("accepts any 2xx, HTTP/1.0, a missing reason phrase and bare LF line ends", () => {
    for (const head of ["HTTP/1.0 200 OK\r\n\r\n", "HTTP/1.1 204\r\n\r\n", "HTTP/1.1 200 OK\nVia: x\n\n"]) {
      const { outcome } = drive(handshake({ host: "h", port: 1 }), [bytes(head)])
      assert.strictEqual(outcome._tag, "Established", head)
    }
  })

  it("skips informational responses before the final one", () => {
    const { outcome } = drive(handshake({ host: "h", port: 1 }), [bytes("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nX")])
    assert.isTrue(outcome._tag === "Established" && text(outcome.leftover) === "X")
  })

  it("407 (and a 401 to CONNECT) fails with AuthRequired, other statuses with Refused and the status", () => {
    const auth = drive(handshake({ host: "h", port: 1 }), [bytes("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\n\r\n")])
    assert.isTrue(auth.outcome._tag === "Failed" && auth.outcome.error.reason === "AuthRequired" && auth.outcome.error.status === 407)
    const rejected = drive(handshake({ host: "h", port: 1 }), [bytes("HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"Tinyproxy\"\r\n\r\n")])
    assert.isTrue(rejected.outcome._tag === "Failed" && rejected.outcome.error.reason === "AuthRequired" && rejected.outcome.error.status === 401)
    for (const status of [301, 400, 403, 404, 500, 502, 503]) {
      const { outcome } = drive(handshake({ host: "h", port: 1 }), [bytes(`HTTP/1.1 ${status} No\r\nContent-Length: 0\r\n\r\n`)])
      assert.isTrue(outcome._tag === "Failed" && outcome.error.reason === "Refused" && outcome.error.status === status, String(status))
    }
  })

  it("garbage fails with BadResponse", () => {
    for (const garbage of ["SSH-2.0-OpenSSH\r\n\r\n", "HTTP/2 200\r\n\r\n", "HTTP/1.1 abc\r\n\r\n", "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "\u0005\u0000\n\n"]) {
      const { outcome } = drive(handshake({ host: "h", port: 1 }), [bytes(garbage)])
      assert.isTrue(outcome._tag === "Failed" && outcome.error.reason === "BadResponse", garbage)
    }
  })

  it("waits for more bytes while the header is incomplete", () => {
    const { outcome } = drive(handshake({ host: "h", port: 1 }), [bytes("HTTP/1.1 200 OK\r\n")])
    assert.strictEqual(outcome._tag, "Waiting")
  })

  it("bounds the header: a proxy that never ends it fails with BadResponse, whatever the chunking", () => {
    fc.assert(
      fc.property(fc.integer({ min: 64, max: 4096 }), fc.integer({ min: 1, max: 700 }), (max, chunk) => {
        const h = handshake({ host: "h", port: 1, maxHeaderBytes: max })
        const endless = Array.from({ length: Math.ceil((max * 2) / chunk) + 1 }, () => bytes("X".repeat(chunk - 1) + "\r"))
        const { outcome } = drive(h, [bytes("HTTP/1.1 200 OK\r\n"), ...endless])
        return outcome._tag === "Failed" && outcome.error.reason === "BadResponse"
      })
    )
  })

  it("property: however the response is chunked, the tunnel bytes are all handed on, in order", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("HTTP/1.1 200 Connection established\r\n\r\n", "HTTP/1.0 200 OK\r\nVia: 1.1 p\r\n\r\n", "HTTP/1.1 200 OK\n\n"),
        fc.uint8Array({ maxLength: 64 }),
        fc.array(fc.nat({ max: 200 }), { maxLength: 12 }),
        (head, tunnel, cuts) => {
          const wire = bytes(head, tunnel)
          const { outcome } = drive(handshake({ host: "h", port: 1 }), splitAt(wire, cuts))
          if (outcome._tag !== "Established") return false
          return Buffer.from(bytes(outcome.leftover, ...outcome.unread)).equals(Buffer.from(tunnel))
        }
      )
    )
  })
})
