/**
 * Whatever a hostile proxy sends, the handshakes answer with a step: they
 * never throw and never buffer beyond their bound.
 */
import { describe, it } from "@effect/vitest"
import { HttpConnect, Socks5 } from "@xmpp-core/protocol"
import { Result } from "effect"
import * as fc from "fast-check"

const chunks = fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 40 })

describe("proxy handshakes on arbitrary bytes", () => {
  it("HTTP CONNECT: any bytes give a step, and buffering stays under the bound", () => {
    const maxHeaderBytes = 1024
    fc.assert(
      fc.property(chunks, (input) => {
        const handshake = Result.getOrThrow(HttpConnect.make({ host: "h", port: 1, maxHeaderBytes }))
        let state = handshake.state
        for (const chunk of input) {
          const step = HttpConnect.step(state, chunk)
          if (step._tag !== "Continue") return true
          // One chunk may overshoot the bound before the check; never by more than that chunk.
          if (step.state.buffered.length > maxHeaderBytes + chunk.length) return false
          state = step.state
        }
        return true
      })
    )
  })

  it("SOCKS5: any bytes give a step; a waiting state never holds more than one reply (262 bytes)", () => {
    fc.assert(
      fc.property(chunks, fc.boolean(), (input, withAuth) => {
        const handshake = Result.getOrThrow(Socks5.make({
          host: "localhost",
          port: 5222,
          credentials: withAuth ? { username: "u", password: "p" } : undefined
        }))
        let state = handshake.state
        for (const chunk of input) {
          const step = Socks5.step(state, chunk)
          if (step._tag !== "Continue") return true
          // The longest reply: 4 header bytes, a 1+255 byte domain, 2 port bytes.
          if (step.state.buffered.length >= 4 + 1 + 255 + 2) return false
          state = step.state
        }
        return true
      })
    )
  })
})
