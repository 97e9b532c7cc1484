/**
 * The small stream rules the transports and the client apply: the footer,
 * the stream error we send, the condition for XML we refuse, the header a
 * BOSH session stands for, and what the events of a bound stream mean.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  BoshStreamHeader,
  BoundStream,
  Element,
  Namespaces,
  StreamError,
  StreamFooter,
  XmlError,
  XmlErrorCondition,
  XmlSerializer,
  XmlStreamEvent,
  XmlStreamParser
} from "@xmpp-core/protocol"
import { Result } from "effect"

const streamScope = XmlSerializer.scopeWithDefault(Namespaces.JABBER_CLIENT, { stream: Namespaces.STREAMS })
const xmlError = (reason: XmlError["reason"]) => new XmlError({ reason, message: reason, offset: 0 })

describe("StreamFooter", () => {
  it("is the closing tag of the stream root", () => {
    assert.strictEqual(StreamFooter.xml, "</stream:stream>")
  })
})

describe("StreamError.toElement", () => {
  it("writes the condition in the stream errors namespace inside <stream:error/>", () => {
    assert.strictEqual(
      XmlSerializer.toXml(StreamError.toElement("restricted-xml"), streamScope),
      "<stream:error><restricted-xml xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
    )
  })

  it("reads back as the same condition", () => {
    const error = StreamError.fromElement(StreamError.toElement("policy-violation"))
    assert.strictEqual(error.reason, "policy-violation")
    assert.isTrue(StreamError.isStreamError(StreamError.toElement("policy-violation")))
  })
})

describe("XmlErrorCondition", () => {
  it("maps each XML error to its RFC 6120 §4.9.3 condition", () => {
    const table: ReadonlyArray<readonly [XmlError["reason"], StreamError.Condition]> = [
      ["RestrictedXml", "restricted-xml"],
      ["UnsupportedEncoding", "unsupported-encoding"],
      ["TooLarge", "policy-violation"],
      ["TooDeep", "policy-violation"],
      ["TooManyAttributes", "policy-violation"],
      ["UnexpectedNamespace", "invalid-namespace"],
      ["UnexpectedElement", "invalid-xml"],
      ["Malformed", "not-well-formed"],
      ["InvalidCharacter", "not-well-formed"],
      ["InvalidUtf8", "not-well-formed"]
    ]
    for (const [reason, condition] of table) {
      assert.strictEqual(XmlErrorCondition.conditionOf(xmlError(reason)), condition, reason)
    }
  })
})

describe("XmlErrorCondition on the parser's refusals", () => {
  const refused = (xml: string): XmlError => {
    const parsed = XmlStreamParser.make().push(new TextEncoder().encode(xml))
    if (Result.isSuccess(parsed)) return assert.fail(`expected ${xml} to be refused`)
    return parsed.failure
  }

  it("a stream header in another namespace is invalid-namespace (RFC 6120 §4.9.3.10)", () => {
    const wrong = "<stream:stream xmlns='jabber:client' xmlns:stream='urn:example:not-streams' to='localhost' version='1.0'>"
    assert.strictEqual(XmlErrorCondition.conditionOf(refused(wrong)), "invalid-namespace")
    assert.strictEqual(XmlErrorCondition.conditionOf(refused("<stream xmlns='jabber:client'>")), "invalid-namespace")
  })

  it("a root that is not a stream at all stays invalid-xml", () => {
    assert.strictEqual(XmlErrorCondition.conditionOf(refused("<html>")), "invalid-xml")
    assert.strictEqual(
      XmlErrorCondition.conditionOf(refused(`<stream:features xmlns:stream='${Namespaces.STREAMS}'>`)),
      "invalid-xml"
    )
  })
})

describe("BoshStreamHeader", () => {
  it("synthesizes the stream header from the session creation response", () => {
    const header = BoshStreamHeader.fromSession({ from: "localhost", authid: "abc", xmppVersion: "1.0" }, "example.org")
    assert.strictEqual(header.name, "stream")
    assert.strictEqual(header.namespace, Namespaces.STREAMS)
    assert.deepStrictEqual({ ...header.attributes }, { from: "localhost", id: "abc", version: "1.0" })
    const fallback = BoshStreamHeader.fromSession({ from: undefined, authid: undefined }, "example.org")
    assert.strictEqual(Element.attribute(fallback, "from"), "example.org")
    assert.strictEqual(Element.attribute(fallback, "version"), "1.0")
  })
})

describe("BoundStream", () => {
  const element = (name: string, namespace: string) =>
    XmlStreamEvent.streamElement(Element.make(name, { namespace }))

  it("knows the three stanzas of jabber:client and nothing else", () => {
    for (const name of ["message", "presence", "iq"]) {
      assert.isTrue(BoundStream.isStanza(Element.make(name, { namespace: Namespaces.JABBER_CLIENT })), name)
    }
    assert.isFalse(BoundStream.isStanza(Element.make("message", { namespace: "jabber:server" })))
    assert.isFalse(BoundStream.isStanza(Element.make("r", { namespace: "urn:xmpp:sm:3" })))
  })

  it("classifies stanzas, the end, stream errors and everything else", () => {
    const stanza = BoundStream.classify(element("message", Namespaces.JABBER_CLIENT))
    assert.strictEqual(stanza._tag, "Stanza")
    assert.strictEqual(BoundStream.classify(XmlStreamEvent.streamClose)._tag, "End")
    const failed = BoundStream.classify(XmlStreamEvent.streamElement(StreamError.toElement("conflict")))
    assert.isTrue(failed._tag === "StreamError" && failed.error.reason === "conflict")
    const header = BoundStream.classify(XmlStreamEvent.streamOpen(Element.make("stream", { namespace: Namespaces.STREAMS })))
    assert.deepStrictEqual(header, { _tag: "Unexpected", message: "a second stream header on a bound stream" })
    const other = BoundStream.classify(element("features", Namespaces.STREAMS))
    assert.deepStrictEqual(other, {
      _tag: "Unexpected",
      message: `the server sent <features xmlns='${Namespaces.STREAMS}'/>, which is not a stanza`
    })
  })
})
