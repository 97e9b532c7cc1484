/**
 * Property tests of the XML layer: serialize ∘ parse round-trips, chunking
 * never changes the outcome, hostile input always ends in a typed error.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { Result } from "effect"
import { Element, Namespaces, XmlSerializer, XmlStreamParser } from "@xmpp-core/protocol"
import type { XmlErrorReason } from "@xmpp-core/protocol"
import { run, splitAt, STREAM_HEADER, utf8 } from "./helpers.js"

const xmlChar = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]$/u

/** Text that stresses escaping: markup characters, quotes, `]]>`, whitespace, astral-plane and other non-ASCII characters. */
const awkwardText = fc.string({
  unit: fc.oneof(
    fc.constantFrom("'", "\"", "<", ">", "&", "]]>", "]", " ", "\t", "\n", "\r", "\r\n", "🎉", "𝄞", "é", "\u00A0", "&amp;"),
    fc.string({ unit: "binary", minLength: 1, maxLength: 1 }).filter((char) => xmlChar.test(char))
  ),
  maxLength: 12
})

const names = fc.constantFrom("message", "body", "iq", "query", "x", "item", "_u", "a-b", "é", "n.1")
const attributeNames = fc.constantFrom("to", "from", "id", "type", "xml:lang", "v", "constructor", "a-b")
const namespaces = fc.constantFrom(Namespaces.JABBER_CLIENT, "urn:x", "urn:y:é", "", "jabber:iq:roster")

const attributes = fc.dictionary(attributeNames, awkwardText, { maxKeys: 4 })

/** Adjacent text children merged and empty ones dropped, as a parser reports them. */
const canonicalChildren = (children: ReadonlyArray<Element.Node>): Array<Element.Node> => {
  const out: Array<Element.Node> = []
  for (const child of children) {
    if (typeof child !== "string") out.push(child)
    else if (child.length > 0) {
      const last = out[out.length - 1]
      if (typeof last === "string") out[out.length - 1] = last + child
      else out.push(child)
    }
  }
  return out
}

const { element: elementArb } = fc.letrec<{ element: Element.Element; node: Element.Node }>((tie) => ({
  element: fc.record({
    name: names,
    namespace: namespaces,
    // A prefixed element carries its own declaration, as the parser reports it.
    prefix: fc.option(fc.constantFrom("p", "q", "stream"), { nil: undefined }),
    attributes,
    children: fc.array(tie("node"), { maxLength: 4 })
  }).map(({ attributes, children, name, namespace, prefix }) =>
    prefix !== undefined && namespace !== ""
      ? Element.make(name, {
        namespace,
        prefix,
        attributes: { [`xmlns:${prefix}`]: namespace, ...attributes },
        children: canonicalChildren(children)
      })
      : Element.make(name, { namespace, attributes, children: canonicalChildren(children) })
  ),
  node: fc.oneof({ depthSize: "small", withCrossShrink: true }, awkwardText, tie("element"))
}))

const streamScope = XmlSerializer.scopeWithDefault(Namespaces.JABBER_CLIENT, { stream: Namespaces.STREAMS })

const toXml = (element: Element.Element): string => {
  const result = XmlSerializer.serialize(element, streamScope)
  if (Result.isFailure(result)) throw new Error(`generator produced an invalid element: ${result.failure.message}`)
  return result.success
}

/** A whole stream: header, stanzas separated by whitespace keepalives, maybe the close. */
const streamArb = fc.record({
  stanzas: fc.array(fc.tuple(elementArb, fc.constantFrom("", " ", "\n", "\r\n\t ")), { maxLength: 6 }),
  closed: fc.boolean()
}).map(({ closed, stanzas }) =>
  utf8(
    STREAM_HEADER + stanzas.map(([element, space]) => space + toXml(element)).join("") +
      (closed ? "</stream:stream>" : "")
  )
)

const cutsFor = (bytes: Uint8Array) => fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 12 })

const allReasons: ReadonlyArray<XmlErrorReason> = [
  "Malformed",
  "RestrictedXml",
  "InvalidCharacter",
  "InvalidUtf8",
  "TooLarge",
  "TooDeep",
  "TooManyAttributes",
  "UnexpectedElement",
  "UnexpectedNamespace",
  "UnsupportedEncoding"
]

const smallLimits = { maxStanzaBytes: 2048, maxDepth: 16, maxAttributes: 16, maxBufferedBytes: 4096 }

/** Fragments that make any stream they are put into (after the header) fail. */
const hostileFragments = fc.constantFrom(
  "<!DOCTYPE x [<!ENTITY e 'boom'>]>",
  "<!--c-->",
  "<?pi x?>",
  "&foo;",
  "&constructor;",
  "\u0001",
  "&#0;",
  "</nope>",
  "<x:y/>",
  "<a x='1' x='2'/>",
  "<d>".repeat(100),
  "<m " + Array.from({ length: 20 }, (_, i) => `a${i}=''`).join(" ") + "/>",
  "x".repeat(5000),
  "<m a='" + "y".repeat(5000)
)

describe("XML properties", () => {
  it("serialize ∘ parse is the identity on elements with awkward text", () => {
    fc.assert(
      fc.property(elementArb, (element) => {
        const outcome = run([utf8(STREAM_HEADER + toXml(element))])
        assert.isUndefined(outcome.error, outcome.error?.message)
        const parsed = outcome.events.flatMap((event) => event._tag === "StreamElement" ? [event.element] : [])
        assert.deepStrictEqual(parsed, [element])
      }),
      { numRuns: 300 }
    )
  })

  it("any chunking of a byte stream gives the same events as one chunk", () => {
    fc.assert(
      fc.property(streamArb.chain((bytes) => fc.tuple(fc.constant(bytes), cutsFor(bytes))), ([bytes, cuts]) => {
        const whole = run([bytes], { end: true })
        const chunked = run(splitAt(bytes, cuts), { end: true })
        assert.deepStrictEqual(chunked, whole)
      }),
      { numRuns: 300 }
    )
  })

  it("byte-at-a-time gives the same events as one chunk", () => {
    fc.assert(
      fc.property(streamArb, (bytes) => {
        const cuts = Array.from({ length: bytes.length }, (_, i) => i)
        assert.deepStrictEqual(run(splitAt(bytes, cuts), { end: true }), run([bytes], { end: true }))
      }),
      { numRuns: 50 }
    )
  })

  it("hostile input put anywhere after the header ends in a typed error, the same for any chunking", () => {
    fc.assert(
      fc.property(
        streamArb.chain((bytes) =>
          fc.tuple(fc.constant(bytes), fc.integer({ min: utf8(STREAM_HEADER).length, max: bytes.length }), hostileFragments)
        ).chain(([bytes, at, fragment]) => {
          const text = new TextDecoder().decode(bytes)
          // Insert at a character boundary of the decoded text.
          const charAt = Math.min(at, text.length)
          const safeAt = charAt > 0 && /[\uDC00-\uDFFF]/.test(text[charAt] ?? "") ? charAt - 1 : charAt
          const hostile = utf8(text.slice(0, safeAt) + fragment + text.slice(safeAt))
          return fc.tuple(fc.constant(hostile), cutsFor(hostile))
        }),
        ([hostile, cuts]) => {
          const whole = run([hostile], { end: true, limits: smallLimits })
          if (whole.error === undefined) assert.fail("hostile input was accepted")
          assert.strictEqual(whole.error._tag, "XmlError")
          assert.include(allReasons, whole.error.reason)
          assert.isAtLeast(whole.error.offset, 0)
          assert.isAtMost(whole.error.offset, hostile.length)
          const chunked = run(splitAt(hostile, cuts), { end: true, limits: smallLimits })
          assert.strictEqual(chunked.error?.reason, whole.error.reason)
          assert.strictEqual(chunked.error?.offset, whole.error.offset)
        }
      ),
      { numRuns: 300 }
    )
  })

  it("invalid UTF-8 anywhere ends in the same error for any chunking", () => {
    const badBytes = fc.constantFrom(
      [0xC3, 0x28], // a lead byte without its continuation
      [0xFF], // never valid
      [0xC0, 0xAF], // overlong "/"
      [0xED, 0xA0, 0x80], // a surrogate
      [0xF4, 0x90, 0x80, 0x80], // past U+10FFFF
      [0xE2, 0x82, 0x41], // cut short, then ASCII
      [0x80] // a lone continuation byte
    )
    fc.assert(
      fc.property(
        streamArb.chain((bytes) => fc.tuple(fc.constant(bytes), fc.integer({ min: 0, max: bytes.length }), badBytes))
          .map(([bytes, at, bad]) => {
            // Cut at a character boundary: back up over continuation bytes.
            let cut = at
            while (cut > 0 && cut < bytes.length && ((bytes[cut] ?? 0) & 0xC0) === 0x80) cut--
            return new Uint8Array([...bytes.subarray(0, cut), ...bad, ...bytes.subarray(cut)])
          })
          .chain((bytes) => fc.tuple(fc.constant(bytes), cutsFor(bytes))),
        ([bytes, cuts]) => {
          const whole = run([bytes], { end: true, limits: smallLimits })
          if (whole.error === undefined) assert.fail("invalid UTF-8 was accepted")
          const chunked = run(splitAt(bytes, cuts), { end: true, limits: smallLimits })
          assert.deepStrictEqual(
            { reason: chunked.error?.reason, offset: chunked.error?.offset },
            { reason: whole.error.reason, offset: whole.error.offset }
          )
          // Events completed in the pushes before the failing one were delivered; the
          // failing push drops its own, so a finer chunking delivers at least as many.
          assert.deepStrictEqual(chunked.events.slice(0, whole.events.length), whole.events)
        }
      ),
      { numRuns: 300 }
    )
  })

  it("arbitrary bytes never throw and never pass: they end in an XmlError", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 8 }), fc.boolean(), (chunks, withHeader) => {
        const parser = XmlStreamParser.make(smallLimits)
        const all = withHeader ? [utf8(STREAM_HEADER), ...chunks] : chunks
        let failed = false
        for (const chunk of all) {
          const result = parser.push(chunk)
          if (Result.isFailure(result)) {
            failed = true
            assert.include(allReasons, result.failure.reason)
            break
          }
        }
        if (!failed) {
          const ended = parser.end()
          // Random bytes almost never close the stream; if they do, nothing may be left over.
          if (Result.isFailure(ended)) assert.include(allReasons, ended.failure.reason)
        }
      }),
      { numRuns: 500 }
    )
  })
})
