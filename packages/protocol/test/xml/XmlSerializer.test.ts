import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { Element, Namespaces, XmlSerializer } from "@xmpp-core/protocol"

const serialized = (element: Element.Element, scope?: XmlSerializer.Scope): string => {
  const result = XmlSerializer.serialize(element, scope)
  if (Result.isFailure(result)) assert.fail(`serialize failed: ${result.failure.message}`)
  return result.success
}

const failure = (element: Element.Element) => {
  const result = XmlSerializer.serialize(element)
  if (Result.isSuccess(result)) assert.fail(`expected a failure, got ${result.success}`)
  return result.failure
}

describe("XmlSerializer", () => {
  describe("escaping", () => {
    it("escapes &, < and > in text", () => {
      const body = Element.make("body", { children: ["a < b && c > d"] })
      assert.strictEqual(serialized(body), "<body>a &lt; b &amp;&amp; c &gt; d</body>")
    })

    it("never writes ]]> in text (the > is escaped)", () => {
      const body = Element.make("body", { children: ["x]]>y"] })
      const xml = serialized(body)
      assert.notInclude(xml, "]]>")
      assert.strictEqual(xml, "<body>x]]&gt;y</body>")
    })

    it("keeps quotes as is in text", () => {
      assert.strictEqual(serialized(Element.make("b", { children: ["'\""] })), "<b>'\"</b>")
    })

    it("writes a carriage return in text as a character reference, so it survives end-of-line handling", () => {
      assert.strictEqual(serialized(Element.make("b", { children: ["a\r\nb"] })), "<b>a&#13;\nb</b>")
    })

    it("escapes attribute values: the quote it uses, <, &, and whitespace that would be normalized", () => {
      const element = Element.make("x", { attributes: { v: "it's <a> & \"b\"\t\n\r" } })
      assert.strictEqual(serialized(element), "<x v='it&apos;s &lt;a&gt; &amp; \"b\"&#9;&#10;&#13;'/>")
    })

    it("writes astral-plane characters as they are", () => {
      assert.strictEqual(serialized(Element.make("b", { children: ["🎉 𝄞"] })), "<b>🎉 𝄞</b>")
    })
  })

  describe("characters XML 1.0 does not allow are rejected", () => {
    for (const [label, char] of [["NUL", "\u0000"], ["U+0001", "\u0001"], ["ESC", "\u001B"], ["U+FFFE", "\uFFFE"], [
      "a lone surrogate",
      "\uD800"
    ]] as const) {
      it(`${label} in text`, () => {
        const error = failure(Element.make("b", { children: [`a${char}b`] }))
        assert.strictEqual(error._tag, "XmlError")
        assert.strictEqual(error.reason, "InvalidCharacter")
      })
      it(`${label} in an attribute value`, () => {
        assert.strictEqual(failure(Element.make("b", { attributes: { v: char } })).reason, "InvalidCharacter")
      })
    }

    it("in a nested child", () => {
      const element = Element.make("a", { children: [Element.make("b", { children: ["\u0002"] })] })
      assert.strictEqual(failure(element).reason, "InvalidCharacter")
    })

    it("tab, newline and carriage return are allowed", () => {
      assert.isTrue(Result.isSuccess(XmlSerializer.serialize(Element.make("b", { children: ["\t\n\r"] }))))
    })
  })

  describe("names are checked", () => {
    it("rejects an element name that is not an NCName", () => {
      assert.strictEqual(failure(Element.make("1a")).reason, "Malformed")
      assert.strictEqual(failure(Element.make("a b")).reason, "Malformed")
    })
    it("rejects an attribute named xmlns (the default namespace is the namespace field)", () => {
      assert.strictEqual(failure(Element.make("a", { attributes: { xmlns: "x" } })).reason, "Malformed")
    })
    it("rejects the xmlns prefix on an element", () => {
      assert.strictEqual(failure(Element.make("a", { prefix: "xmlns", namespace: "x" })).reason, "Malformed")
    })
  })

  describe("namespaces and prefixes", () => {
    it("declares the default namespace of a top element", () => {
      const message = Element.make("message", { namespace: Namespaces.JABBER_CLIENT })
      assert.strictEqual(serialized(message), "<message xmlns='jabber:client'/>")
    })

    it("leaves out a namespace the scope already has as default", () => {
      const message = Element.make("message", { namespace: Namespaces.JABBER_CLIENT })
      assert.strictEqual(serialized(message, XmlSerializer.scopeWithDefault(Namespaces.JABBER_CLIENT)), "<message/>")
    })

    it("children inherit the parent's namespace and declare only a different one", () => {
      const iq = Element.make("iq", {
        namespace: Namespaces.JABBER_CLIENT,
        attributes: { type: "set", id: "b1" },
        children: [
          Element.make("bind", {
            namespace: Namespaces.BIND,
            children: [Element.make("resource", { namespace: Namespaces.BIND, children: ["phone"] })]
          }),
          Element.make("x", { namespace: Namespaces.JABBER_CLIENT })
        ]
      })
      assert.strictEqual(
        serialized(iq),
        "<iq xmlns='jabber:client' type='set' id='b1'>" +
          "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>phone</resource></bind><x/></iq>"
      )
    })

    it("undeclares the default namespace for a child in no namespace", () => {
      const element = Element.make("a", { namespace: "urn:a", children: [Element.make("b")] })
      assert.strictEqual(serialized(element), "<a xmlns='urn:a'><b xmlns=''/></a>")
    })

    it("writes a prefixed element with its prefix, declaring it when not in scope", () => {
      const features = Element.make("features", { namespace: Namespaces.STREAMS, prefix: "stream" })
      assert.strictEqual(
        serialized(features),
        "<stream:features xmlns:stream='http://etherx.jabber.org/streams'/>"
      )
      assert.strictEqual(
        serialized(features, XmlSerializer.scopeWithDefault(Namespaces.JABBER_CLIENT, { stream: Namespaces.STREAMS })),
        "<stream:features/>"
      )
    })

    it("does not declare a prefix twice when the element carries the declaration itself", () => {
      const header = Element.make("stream", {
        namespace: Namespaces.STREAMS,
        prefix: "stream",
        attributes: { "xmlns:stream": Namespaces.STREAMS, to: "example.org", version: "1.0" }
      })
      assert.strictEqual(
        XmlSerializer.openTag(header, XmlSerializer.scopeWithDefault(Namespaces.JABBER_CLIENT)),
        "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='example.org' version='1.0'>"
      )
    })

    it("writes prefixed attributes such as xml:lang as they are keyed", () => {
      const element = Element.make("body", { attributes: { "xml:lang": "en" }, children: ["hi"] })
      assert.strictEqual(serialized(element), "<body xml:lang='en'>hi</body>")
    })
  })
})
