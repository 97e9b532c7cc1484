import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { Element, Namespaces, XmlLimits, XmlStreamParser } from "@xmpp-core/protocol"
import type { XmlError, XmlStreamEvent } from "@xmpp-core/protocol"
import { byteByByte, run, STREAM_HEADER, utf8 } from "./helpers.js"

const elements = (events: ReadonlyArray<XmlStreamEvent.XmlStreamEvent>): Array<Element.Element> =>
  events.flatMap((event) => event._tag === "StreamElement" ? [event.element] : [])

const errorOf = (input: string | Uint8Array, limits?: Partial<XmlLimits.XmlLimits>): XmlError => {
  const outcome = run([typeof input === "string" ? utf8(input) : input], { end: true, ...(limits ? { limits } : {}) })
  if (outcome.error === undefined) assert.fail("expected an XmlError")
  return outcome.error
}

/** One stanza inside a stream, parsed; fails the test on any error. */
const stanza = (xml: string): Element.Element => {
  const outcome = run([utf8(STREAM_HEADER + xml)])
  assert.isUndefined(outcome.error, outcome.error?.message)
  const [element] = elements(outcome.events)
  if (element === undefined) assert.fail("no stanza")
  return element
}

describe("XmlStreamParser", () => {
  describe("framing", () => {
    it("emits the header, each stanza whole, and the close", () => {
      const outcome = run([
        utf8(
          "<?xml version='1.0'?>" + STREAM_HEADER +
            "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>" +
            "<message to='a@b'><body>hi</body></message></stream:stream>"
        )
      ], { end: true })
      assert.isUndefined(outcome.error)
      assert.deepStrictEqual(outcome.events.map((event) => event._tag), [
        "StreamOpen",
        "StreamElement",
        "StreamElement",
        "StreamClose"
      ])
      const open = outcome.events[0]
      if (open?._tag !== "StreamOpen") assert.fail("no header")
      assert.strictEqual(open.header.name, "stream")
      assert.strictEqual(open.header.prefix, "stream")
      assert.strictEqual(open.header.namespace, Namespaces.STREAMS)
      assert.deepStrictEqual(open.header.attributes, {
        "xmlns:stream": Namespaces.STREAMS,
        from: "example.org",
        id: "s1",
        version: "1.0"
      })
      assert.deepStrictEqual(open.header.children, [])
      const [features, message] = elements(outcome.events)
      assert.strictEqual(features?.name, "features")
      assert.strictEqual(features?.prefix, "stream")
      assert.strictEqual(features?.namespace, Namespaces.STREAMS)
      assert.strictEqual(message?.name, "message")
      assert.strictEqual(message?.namespace, Namespaces.JABBER_CLIENT)
      assert.strictEqual(message && Element.text(Element.child(message, "body") ?? message), "hi")
    })

    it("emits a stanza only once it is complete", () => {
      const parser = XmlStreamParser.make()
      const first = parser.push(utf8(STREAM_HEADER + "<message><body>he"))
      assert.isTrue(Result.isSuccess(first))
      if (Result.isSuccess(first)) assert.deepStrictEqual(first.success.map((event) => event._tag), ["StreamOpen"])
      const second = parser.push(utf8("llo</body></message>"))
      if (Result.isFailure(second)) assert.fail(second.failure.message)
      assert.strictEqual(second.success.length, 1)
      const [event] = second.success
      if (event?._tag !== "StreamElement") assert.fail("expected a stanza")
      assert.strictEqual(Element.text(Element.child(event.element, "body") ?? event.element), "hello")
    })

    it("copes with a root that never closes: stanzas flow, and end() reports the truncation", () => {
      const parser = XmlStreamParser.make()
      const pushed = parser.push(utf8(STREAM_HEADER + "<presence/>"))
      if (Result.isFailure(pushed)) assert.fail(pushed.failure.message)
      assert.strictEqual(pushed.success.length, 2)
      const ended = parser.end()
      if (Result.isSuccess(ended)) assert.fail("a stream cut off before </stream:stream> must be an error")
      assert.strictEqual(ended.failure.reason, "Malformed")
    })

    it("end() after a clean close succeeds with nothing more", () => {
      const outcome = run([utf8(STREAM_HEADER + "</stream:stream>\n")], { end: true })
      assert.isUndefined(outcome.error)
      assert.deepStrictEqual(outcome.events.map((event) => event._tag), ["StreamOpen", "StreamClose"])
    })

    it("ignores whitespace keepalives between stanzas", () => {
      const outcome = run([utf8(STREAM_HEADER), utf8(" "), utf8("\n"), utf8("<presence/>"), utf8(" \t\r\n ")])
      assert.isUndefined(outcome.error)
      assert.strictEqual(elements(outcome.events).length, 1)
    })

    it("rejects text other than whitespace between stanzas", () => {
      assert.strictEqual(errorOf(STREAM_HEADER + "hello<presence/>").reason, "Malformed")
    })

    it("rejects a root that is not <stream:stream>", () => {
      assert.strictEqual(errorOf("<html>").reason, "UnexpectedElement")
      assert.strictEqual(errorOf(`<stream:features xmlns:stream='${Namespaces.STREAMS}'>`).reason, "UnexpectedElement")
    })

    it("rejects a stream root in another namespace as UnexpectedNamespace", () => {
      assert.strictEqual(errorOf("<stream xmlns='jabber:client'>").reason, "UnexpectedNamespace")
      assert.strictEqual(errorOf("<stream:stream xmlns:stream='urn:example:not-streams'>").reason, "UnexpectedNamespace")
    })

    it("rejects content after the root closed", () => {
      assert.strictEqual(errorOf(STREAM_HEADER + "</stream:stream><presence/>").reason, "Malformed")
    })

    it("stays failed after an error", () => {
      const parser = XmlStreamParser.make()
      const first = parser.push(utf8(STREAM_HEADER + "<a><!-- no --></a>"))
      if (Result.isSuccess(first)) assert.fail("expected an error")
      const again = parser.push(utf8("<presence/>"))
      if (Result.isSuccess(again)) assert.fail("a failed parser must stay failed")
      assert.strictEqual(again.failure, first.failure)
      const ended = parser.end()
      if (Result.isSuccess(ended)) assert.fail("a failed parser must stay failed")
      assert.strictEqual(ended.failure, first.failure)
    })

    it("counts the bytes consumed", () => {
      const parser = XmlStreamParser.make()
      parser.push(utf8(STREAM_HEADER))
      parser.push(utf8("<b>é</b>"))
      assert.strictEqual(parser.offset, utf8(STREAM_HEADER).length + 9)
    })
  })

  describe("namespaces", () => {
    it("children inherit the stream's default namespace", () => {
      const message = stanza("<message><body>x</body></message>")
      assert.strictEqual(message.namespace, Namespaces.JABBER_CLIENT)
      assert.strictEqual(Element.child(message, "body")?.namespace, Namespaces.JABBER_CLIENT)
    })

    it("an element's own default namespace applies to it and its descendants", () => {
      const iq = stanza("<iq><query xmlns='jabber:iq:roster'><item/></query></iq>")
      const query = Element.child(iq, "query")
      assert.strictEqual(query?.namespace, "jabber:iq:roster")
      assert.strictEqual(query && Element.child(query, "item")?.namespace, "jabber:iq:roster")
      // The element type carries the namespace in its field, never as an xmlns attribute.
      assert.deepStrictEqual(query?.attributes, {})
    })

    it("resolves prefixes declared on the header and on the stanza", () => {
      const features = stanza(
        "<stream:features><x:a xmlns:x='urn:x' x:attr='1' xml:lang='en'/></stream:features>"
      )
      assert.strictEqual(features.namespace, Namespaces.STREAMS)
      const a = Element.child(features, "a")
      assert.strictEqual(a?.namespace, "urn:x")
      assert.strictEqual(a?.prefix, "x")
      assert.deepStrictEqual(a?.attributes, { "xmlns:x": "urn:x", "x:attr": "1", "xml:lang": "en" })
    })

    it("an empty xmlns puts an element in no namespace", () => {
      const iq = stanza("<iq><x xmlns=''><y/></x></iq>")
      const x = Element.child(iq, "x")
      assert.strictEqual(x?.namespace, "")
      assert.strictEqual(x && Element.child(x, "y")?.namespace, "")
    })

    it("a prefix redeclared deeper shadows the outer one, and only there", () => {
      const a = stanza("<p:a xmlns:p='urn:1'><p:b xmlns:p='urn:2'><p:c/></p:b><p:d/></p:a>")
      assert.strictEqual(a.namespace, "urn:1")
      const b = Element.child(a, "b")
      assert.strictEqual(b?.namespace, "urn:2")
      assert.strictEqual(b && Element.child(b, "c")?.namespace, "urn:2")
      assert.strictEqual(Element.child(a, "d")?.namespace, "urn:1")
    })

    it("a stanza's default namespace does not leak to the next stanza", () => {
      const outcome = run([utf8(STREAM_HEADER + "<a xmlns='urn:x'/><b/>")])
      assert.deepStrictEqual(elements(outcome.events).map((element) => element.namespace), ["urn:x", Namespaces.JABBER_CLIENT])
    })

    const violations: ReadonlyArray<readonly [string, string]> = [
      ["an undeclared element prefix", "<x:a/>"],
      ["an undeclared attribute prefix", "<a x:b='1'/>"],
      ["two attributes with the same namespace and local name", "<a xmlns:p='urn:u' xmlns:q='urn:u' p:x='1' q:x='2'/>"],
      ["undeclaring a prefix (XML 1.0)", "<a xmlns:p=''/>"],
      ["binding xml to another namespace", "<a xmlns:xml='urn:x'/>"],
      ["binding a prefix to the xml namespace", "<a xmlns:p='http://www.w3.org/XML/1998/namespace'/>"],
      ["declaring xmlns", "<a xmlns:xmlns='urn:x'/>"],
      ["the xmlns namespace as default", "<a xmlns='http://www.w3.org/2000/xmlns/'/>"],
      ["an element with the xmlns prefix", "<xmlns:a/>"],
      ["an element name with two colons", "<p:a:b xmlns:p='urn:p'/>"],
      ["an element name starting with a colon", "<:a/>"],
      ["an attribute name ending with a colon", "<a b:='1'/>"]
    ]
    for (const [label, xml] of violations) {
      it(`rejects ${label}`, () => {
        assert.strictEqual(errorOf(STREAM_HEADER + xml).reason, "Malformed")
      })
    }

    it("accepts xml:lang without a declaration, and the xml prefix declared as it must be", () => {
      const a = stanza("<a xml:lang='en' xmlns:xml='http://www.w3.org/XML/1998/namespace'/>")
      assert.strictEqual(Element.attribute(a, "xml:lang"), "en")
    })
  })

  describe("content", () => {
    it("decodes the predefined entities and character references", () => {
      const body = stanza("<body>&lt;&gt;&amp;&quot;&apos;&#65;&#x1F389;</body>")
      assert.deepStrictEqual(body.children, ["<>&\"'A🎉"])
    })

    it("keeps mixed content in order, merging adjacent text and CDATA", () => {
      const body = stanza("<body>a<![CDATA[<b>&]]>c<i>d</i>e</body>")
      assert.deepStrictEqual(body.children.map((child) => typeof child === "string" ? child : `<${child.name}>`), [
        "a<b>&c",
        "<i>",
        "e"
      ])
    })

    it("keeps an attribute named __proto__", () => {
      const element = stanza("<x __proto__='p' constructor='c'/>")
      assert.strictEqual(Element.attribute(element, "__proto__"), "p")
      assert.strictEqual(Element.attribute(element, "constructor"), "c")
      assert.deepStrictEqual(Object.keys(element.attributes), ["__proto__", "constructor"])
    })

    it("reads a stanza fed one byte at a time, multi-byte characters split across pushes", () => {
      const text = "héllo 🎉 世界"
      const outcome = run(byteByByte(utf8(STREAM_HEADER + `<message><body>${text}</body></message>`)))
      assert.isUndefined(outcome.error)
      const [message] = elements(outcome.events)
      assert.strictEqual(message && Element.text(Element.child(message, "body") ?? message), text)
    })

    it("accepts a UTF-8 byte order mark? no: a BOM before the header is text outside the root", () => {
      // RFC 6120 §11.6 lets a BOM be rejected; saxes treats it as text before the root.
      assert.strictEqual(errorOf(new Uint8Array([0xEF, 0xBB, 0xBF, ...utf8(STREAM_HEADER)])).reason, "Malformed")
    })
  })

  describe("restricted XML (RFC 6120 §11.1)", () => {
    const cases: ReadonlyArray<readonly [string, string, XmlError["reason"]]> = [
      ["a DOCTYPE", "<!DOCTYPE stream:stream>" + STREAM_HEADER, "RestrictedXml"],
      [
        "a DOCTYPE with an internal entity",
        "<!DOCTYPE s [<!ENTITY x 'boom'>]>" + STREAM_HEADER + "<a>&x;</a>",
        "RestrictedXml"
      ],
      ["a DOCTYPE with an external entity", "<!DOCTYPE s [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>" + STREAM_HEADER, "RestrictedXml"],
      ["a DOCTYPE inside the stream", STREAM_HEADER + "<!DOCTYPE a>", "RestrictedXml"],
      ["a comment in a stanza", STREAM_HEADER + "<a><!-- x --></a>", "RestrictedXml"],
      ["a comment between stanzas", STREAM_HEADER + "<!-- x --><a/>", "RestrictedXml"],
      ["a comment before the header", "<!-- x -->" + STREAM_HEADER, "RestrictedXml"],
      ["a processing instruction", STREAM_HEADER + "<a><?php x ?></a>", "RestrictedXml"],
      ["a processing instruction before the header", "<?xml-stylesheet href='x'?>" + STREAM_HEADER, "RestrictedXml"],
      ["an undefined entity", STREAM_HEADER + "<a>&nbsp;</a>", "RestrictedXml"],
      ["an entity named after an Object property", STREAM_HEADER + "<a>&constructor;</a>", "RestrictedXml"],
      ["an entity named __proto__", STREAM_HEADER + "<a>&__proto__;</a>", "RestrictedXml"],
      ["an entity in an attribute", STREAM_HEADER + "<a v='&toString;'/>", "RestrictedXml"],
      ["an encoding other than UTF-8", "<?xml version='1.0' encoding='ISO-8859-1'?>" + STREAM_HEADER, "UnsupportedEncoding"],
      ["a control character", STREAM_HEADER + "<a>\u0001</a>", "InvalidCharacter"],
      ["a character reference to a control character", STREAM_HEADER + "<a>&#0;</a>", "InvalidCharacter"],
      ["]]> in text", STREAM_HEADER + "<a>]]></a>", "Malformed"],
      ["a mismatched end tag", STREAM_HEADER + "<a></b>", "Malformed"],
      ["a duplicate attribute", STREAM_HEADER + "<a x='1' x='2'/>", "Malformed"]
    ]
    for (const [label, input, reason] of cases) {
      it(`rejects ${label} as ${reason}`, () => {
        const error = errorOf(input)
        assert.strictEqual(error._tag, "XmlError")
        assert.strictEqual(error.reason, reason, error.message)
      })
    }

    it("accepts the XML declaration with encoding UTF-8", () => {
      const outcome = run([utf8("<?xml version='1.0' encoding='UTF-8'?>" + STREAM_HEADER)])
      assert.isUndefined(outcome.error)
    })

    it("rejects bytes that are not UTF-8, with their offset", () => {
      const header = utf8(STREAM_HEADER + "<a>")
      const error = errorOf(new Uint8Array([...header, 0xC3, 0x28]))
      assert.strictEqual(error.reason, "InvalidUtf8")
      assert.isAtMost(error.offset, header.length)
    })

    it("parses what comes before invalid UTF-8 in the same chunk, so an earlier error wins", () => {
      const bytes = new Uint8Array([...utf8(STREAM_HEADER + "<a><!--x--></a>"), 0xFF])
      assert.strictEqual(errorOf(bytes).reason, "RestrictedXml")
      const good = new Uint8Array([...utf8(STREAM_HEADER + "<presence/>"), 0xFF])
      const outcome = run([good])
      assert.strictEqual(outcome.error?.reason, "InvalidUtf8")
      assert.strictEqual(outcome.error?.offset, good.length - 1)
    })

    it("rejects input that ends inside a UTF-8 character", () => {
      const outcome = run([new Uint8Array([...utf8(STREAM_HEADER + "</stream:stream>"), 0xF0, 0x9F])], { end: true })
      assert.strictEqual(outcome.error?.reason, "InvalidUtf8")
    })

    it("reports the byte offset of the problem, counting multi-byte characters as bytes", () => {
      const before = STREAM_HEADER + "<a>🎉é"
      const error = errorOf(before + "\u0001</a>")
      assert.strictEqual(error.reason, "InvalidCharacter")
      assert.strictEqual(error.offset, utf8(before).length + 1)
    })
  })

  describe("limits", () => {
    const message = "<message to='a@b'><body>🎉 é</body></message>"
    const size = utf8(message).length

    it("a stanza of exactly maxStanzaBytes passes; one byte less is TooLarge at the limit", () => {
      const ok = run([utf8(STREAM_HEADER + " " + message)], { limits: { maxStanzaBytes: size } })
      assert.isUndefined(ok.error)
      const error = errorOf(STREAM_HEADER + " " + message, { maxStanzaBytes: size - 1 })
      assert.strictEqual(error.reason, "TooLarge")
      assert.strictEqual(error.offset, utf8(STREAM_HEADER + " ").length + size - 1)
    })

    it("maxDepth counts the stanza as depth 1", () => {
      const nested = (depth: number): string => "<a>".repeat(depth) + "</a>".repeat(depth)
      assert.isUndefined(run([utf8(STREAM_HEADER + nested(5))], { limits: { maxDepth: 5 } }).error)
      assert.strictEqual(errorOf(STREAM_HEADER + nested(6), { maxDepth: 5 }).reason, "TooDeep")
    })

    it("the default depth limit stops a deeply nested stanza", () => {
      assert.strictEqual(errorOf(STREAM_HEADER + "<a>".repeat(10_000)).reason, "TooDeep")
    })

    it("maxAttributes counts namespace declarations too", () => {
      assert.isUndefined(run([utf8(STREAM_HEADER + "<a xmlns='x' b='1'/>")], { limits: { maxAttributes: 8 } }).error)
      assert.strictEqual(errorOf(STREAM_HEADER + "<a xmlns='x' b='1' c='2'/>", { maxAttributes: 2 }).reason, "TooManyAttributes")
      assert.strictEqual(
        errorOf("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' a='1' b='2'>", { maxAttributes: 2 }).reason,
        "TooManyAttributes"
      )
    })

    it("a stanza that never closes is cut off at maxBufferedBytes, not buffered forever", () => {
      const parser = XmlStreamParser.make({ maxBufferedBytes: 4096, maxStanzaBytes: 1 << 20 })
      const header = utf8(STREAM_HEADER)
      assert.isTrue(Result.isSuccess(parser.push(header)))
      assert.isTrue(Result.isSuccess(parser.push(utf8("<message><body>"))))
      const filler = utf8("x".repeat(1000))
      let error: XmlError | undefined
      let pushes = 0
      while (error === undefined && pushes < 100) {
        const result = parser.push(filler)
        pushes++
        if (Result.isFailure(result)) error = result.failure
      }
      assert.strictEqual(error?.reason, "TooLarge")
      assert.strictEqual(error?.offset, header.length + 4096)
      // It stops within one push of crossing the limit.
      assert.strictEqual(pushes, 5)
    })

    it("an attribute value that never ends is cut off too", () => {
      const parser = XmlStreamParser.make({ maxBufferedBytes: 1024 })
      parser.push(utf8(STREAM_HEADER + "<message to='"))
      const result = parser.push(utf8("a".repeat(5000)))
      if (Result.isSuccess(result)) assert.fail("expected TooLarge")
      assert.strictEqual(result.failure.reason, "TooLarge")
    })

    it("a header that never ends is cut off", () => {
      const error = errorOf("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' a='" + "x".repeat(300_000))
      assert.strictEqual(error.reason, "TooLarge")
      assert.strictEqual(error.offset, XmlLimits.defaults.maxBufferedBytes)
    })

    it("one huge chunk is checked slice by slice", () => {
      const parser = XmlStreamParser.make({ maxBufferedBytes: 1000 })
      const result = parser.push(utf8(STREAM_HEADER + "<a>" + "y".repeat(2_000_000)))
      if (Result.isSuccess(result)) assert.fail("expected TooLarge")
      assert.strictEqual(result.failure.reason, "TooLarge")
      // Only what was needed to see the problem was read (one 64 KiB slice at most).
      assert.isAtMost(parser.offset, 64 * 1024)
    })

    it("many small stanzas never add up: the limit is per stanza", () => {
      const many = "<presence/>".repeat(2000)
      assert.isUndefined(run([utf8(STREAM_HEADER + many)], { limits: { maxStanzaBytes: 16, maxBufferedBytes: 256 } }).error)
    })

    it("the limits decode from configuration, refusing values that are not positive integers", () => {
      const decoded = XmlLimits.decode({ maxDepth: 10 })
      if (Result.isFailure(decoded)) assert.fail(decoded.failure.message)
      assert.deepStrictEqual(decoded.success, { ...XmlLimits.defaults, maxDepth: 10 })
      assert.isTrue(Result.isFailure(XmlLimits.decode({ maxDepth: 0 })))
      assert.isTrue(Result.isFailure(XmlLimits.decode({ maxStanzaBytes: 1.5 })))
      assert.isTrue(Result.isFailure(XmlLimits.decode({ maxAttributes: "64" })))
      // resolve() never lets a bad value switch a limit off.
      assert.deepStrictEqual(XmlLimits.resolve({ maxDepth: -1, maxAttributes: Number.POSITIVE_INFINITY }), XmlLimits.defaults)
    })
  })
})
