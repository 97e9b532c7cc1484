import { describe, it } from "@effect/vitest"
import { StreamTransport } from "@xmpp-core/client"
import { Element, Namespaces, XmlSerializer } from "@xmpp-core/protocol"
import { Effect } from "effect"
import fc from "fast-check"
import * as ScriptedServer from "./ScriptedServer.js"

const scope = XmlSerializer.scopeWithDefault(Namespaces.JABBER_CLIENT)
const body = fc.stringMatching(/^[a-zA-Z0-9 <>&'"é€😀]{0,20}$/u)
const message = (id: number, text: string) =>
  Element.make("message", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { id: String(id) },
    children: [Element.make("body", { namespace: Namespaces.JABBER_CLIENT, children: [text] })]
  })

/** Cuts `bytes` at the given fractions (sorted, deduplicated). */
const cut = (bytes: Uint8Array, fractions: ReadonlyArray<number>): Array<Uint8Array> => {
  const points = [...new Set(fractions.map((f) => Math.floor(f * bytes.length)))].sort((a, b) => a - b)
  const chunks: Array<Uint8Array> = []
  let start = 0
  for (const point of [...points, bytes.length]) {
    if (point > start) chunks.push(bytes.slice(start, point))
    start = Math.max(start, point)
  }
  return chunks
}

describe("StreamTransport properties", () => {
  it("whatever the chunking, every stanza the server sent is received once, in order, then the close", () =>
    fc.assert(
      fc.asyncProperty(fc.array(body, { maxLength: 30 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 }), (bodies, fractions) =>
        Effect.runPromise(
          Effect.gen(function*() {
            const { layer, server } = yield* ScriptedServer.make()
            const transport = yield* StreamTransport.connect({ domain: "localhost", host: "127.0.0.1" }).pipe(Effect.provide(layer))
            const xml = ScriptedServer.serverHeader() + bodies.map((text, i) => XmlSerializer.toXml(message(i, text), scope)).join("") +
              "</stream:stream>"
            for (const chunk of cut(new TextEncoder().encode(xml), fractions)) yield* server.push(chunk)
            const received: Array<string> = []
            while (true) {
              const event = yield* transport.receive
              if (event._tag === "StreamClose") break
              if (event._tag === "StreamElement") {
                received.push(`${Element.attribute(event.element, "id")}:${Element.text(Element.child(event.element, "body") ?? event.element)}`)
              }
            }
            return received.join("|") === bodies.map((text, i) => `${i}:${text}`).join("|")
          }).pipe(Effect.scoped)
        )
      ),
      { numRuns: 200 }
    ))

  it("what the client sends is written in call order, byte for byte as serialized", () =>
    fc.assert(
      fc.asyncProperty(fc.array(body, { maxLength: 30 }), (bodies) =>
        Effect.runPromise(
          Effect.gen(function*() {
            const { layer, server } = yield* ScriptedServer.make()
            const transport = yield* StreamTransport.connect({ domain: "localhost", host: "127.0.0.1" }).pipe(Effect.provide(layer))
            for (const [i, text] of bodies.entries()) yield* transport.send(message(i, text))
            return server.written.join("") === bodies.map((text, i) => XmlSerializer.toXml(message(i, text), scope)).join("")
          }).pipe(Effect.scoped)
        )
      ),
      { numRuns: 100 }
    ))
})
