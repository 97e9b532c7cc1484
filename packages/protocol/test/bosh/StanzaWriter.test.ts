/**
 * The BOSH machine's stanza writer must give exactly what
 * `XmlSerializer.serialize` gives in the `<body/>` scope: the same text for
 * valid stanzas, the same `XmlError` for invalid ones.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { Result } from "effect"
import { BoshSession, Element, Namespaces, XmlSerializer } from "@xmpp-core/protocol"

const bodyScope = XmlSerializer.scopeWithDefault(Namespaces.HTTP_BIND)

/** Text mixing plain ASCII with everything the fast path must hand over or escape. */
const text = fc.string({
  unit: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom("a", "Z", "0", " ", ".", "hello") },
    fc.constantFrom("'", "\"", "<", ">", "&", "\t", "\n", "\r", "é", "🎉", "\u0000", "\u0008", "\uD800", "\uFFFE", "\u007F")
  ),
  maxLength: 10
})

const names = fc.constantFrom("message", "body", "x", "a-b", "n.1", "_u", "é", "1bad", "", "a:b", "xmlns")
const attributeNames = fc.constantFrom("to", "id", "type", "xml:lang", "xmlns", "xmlns:p", "a-b", "9x", "é", "p:q:r", "")
const namespaces = fc.constantFrom(Namespaces.JABBER_CLIENT, Namespaces.HTTP_BIND, "urn:x", "urn:é", "", "a'b", "a\u0001")

const { element: elementArb } = fc.letrec<{ element: Element.Element; node: Element.Node }>((tie) => ({
  element: fc.record({
    name: names,
    namespace: namespaces,
    prefix: fc.option(fc.constantFrom("p", "stream", "xmlns", "1"), { nil: undefined, freq: 6 }),
    attributes: fc.dictionary(attributeNames, text, { maxKeys: 4 }),
    children: fc.array(tie("node"), { maxLength: 3 })
  }).map(({ attributes, children, name, namespace, prefix }) =>
    Element.make(name, { namespace, prefix, attributes, children })
  ),
  node: fc.oneof({ depthSize: "small", withCrossShrink: true }, text, tie("element"))
}))

describe("BoshSession.serializeStanza", () => {
  it("gives XmlSerializer.serialize's text or error for any element", () => {
    fc.assert(
      fc.property(elementArb, (element) => {
        const expected = XmlSerializer.serialize(element, bodyScope)
        const actual = BoshSession.serializeStanza(element)
        if (Result.isSuccess(expected)) {
          assert.isTrue(Result.isSuccess(actual))
          if (Result.isSuccess(actual)) assert.strictEqual(actual.success, expected.success)
        } else {
          assert.isTrue(Result.isFailure(actual))
          if (Result.isFailure(actual)) {
            assert.strictEqual(actual.failure.reason, expected.failure.reason)
            assert.strictEqual(actual.failure.message, expected.failure.message)
          }
        }
      }),
      { numRuns: 2_000 }
    )
  })

  it("writes a plain stanza without the namespace the body already declares", () => {
    const stanza = Element.make("message", {
      namespace: Namespaces.JABBER_CLIENT,
      attributes: { to: "a@b", id: "x'<1>" },
      children: [Element.make("body", { namespace: Namespaces.JABBER_CLIENT, children: ["a & b\tc"] })]
    })
    const written = BoshSession.serializeStanza(stanza)
    assert.isTrue(Result.isSuccess(written))
    if (Result.isSuccess(written)) {
      assert.strictEqual(
        written.success,
        "<message xmlns='jabber:client' to='a@b' id='x&apos;&lt;1&gt;'><body>a &amp; b\tc</body></message>"
      )
    }
  })

  it("rejects a character XML 1.0 does not allow, with the serializer's error", () => {
    const written = BoshSession.serializeStanza(
      Element.make("message", { namespace: Namespaces.JABBER_CLIENT, children: ["bad \u0001"] })
    )
    assert.isTrue(Result.isFailure(written))
    if (Result.isFailure(written)) assert.strictEqual(written.failure.reason, "InvalidCharacter")
  })
})
