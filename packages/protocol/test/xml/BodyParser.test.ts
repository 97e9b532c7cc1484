import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { BodyParser, Element, Namespaces } from "@xmpp-core/protocol"
import type { XmlError } from "@xmpp-core/protocol"
import { utf8 } from "./helpers.js"

const body = (xml: string): Element.Element => {
  const result = BodyParser.parseBody(utf8(xml))
  if (Result.isFailure(result)) assert.fail(`parseBody failed: ${result.failure.reason} ${result.failure.message}`)
  return result.success
}

const failure = (xml: string): XmlError => {
  const result = BodyParser.parseBody(utf8(xml))
  if (Result.isSuccess(result)) assert.fail("expected an XmlError")
  return result.failure
}

describe("BodyParser.parseBody", () => {
  it("returns <body/> with its attributes and children", () => {
    const parsed = body(
      "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh' sid='s1' rid='10' " +
        "wait='60' xmpp:version='1.0'><message xmlns='jabber:client' to='a@b'/></body>"
    )
    assert.strictEqual(parsed.name, "body")
    assert.strictEqual(parsed.namespace, Namespaces.HTTP_BIND)
    assert.deepStrictEqual(parsed.attributes, {
      "xmlns:xmpp": Namespaces.XBOSH,
      sid: "s1",
      rid: "10",
      wait: "60",
      "xmpp:version": "1.0"
    })
    assert.strictEqual(parsed.children.length, 1)
    const [message] = Element.elements(parsed)
    assert.strictEqual(message?.namespace, Namespaces.JABBER_CLIENT)
    assert.strictEqual(message && Element.attribute(message, "to"), "a@b")
  })

  it("an empty body has no children", () => {
    assert.deepStrictEqual(body("<body xmlns='http://jabber.org/protocol/httpbind' type='terminate'/>").children, [])
  })

  it("puts children without their own xmlns in jabber:client (XEP-0206; Openfire), descendants too", () => {
    const parsed = body(
      "<body xmlns='http://jabber.org/protocol/httpbind'><message to='a@b'><body>hi</body>" +
        "<x xmlns='jabber:x:oob'><url>u</url></x></message></body>"
    )
    const [message] = Element.elements(parsed)
    if (message === undefined) assert.fail("no message")
    assert.strictEqual(message.name, "message")
    assert.strictEqual(message.namespace, Namespaces.JABBER_CLIENT)
    assert.strictEqual(Element.child(message, "body")?.namespace, Namespaces.JABBER_CLIENT)
    const x = Element.child(message, "x")
    assert.strictEqual(x?.namespace, "jabber:x:oob")
    assert.strictEqual(x && Element.child(x, "url")?.namespace, "jabber:x:oob")
  })

  it("resolves stream:features with xmlns:stream declared on the body (ejabberd)", () => {
    const parsed = body(
      "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:stream='http://etherx.jabber.org/streams' " +
        "xmlns:xmpp='urn:xmpp:xbosh' xmpp:restartlogic='true'><stream:features>" +
        "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>" +
        "<register/></stream:features></body>"
    )
    const [features] = Element.elements(parsed)
    if (features === undefined) assert.fail("no features")
    assert.strictEqual(features.name, "features")
    assert.strictEqual(features.prefix, "stream")
    assert.strictEqual(features.namespace, Namespaces.STREAMS)
    const mechanisms = Element.child(features, "mechanisms", Namespaces.SASL)
    assert.strictEqual(mechanisms && Element.text(Element.child(mechanisms, "mechanism") ?? mechanisms), "PLAIN")
    // An unnamespaced child of the features inherits the body's default, so it too is jabber:client.
    assert.strictEqual(Element.child(features, "register")?.namespace, Namespaces.JABBER_CLIENT)
  })

  it("a descendant that declares httpbind itself stays in httpbind", () => {
    const parsed = body(
      "<body xmlns='http://jabber.org/protocol/httpbind'><a><b xmlns='http://jabber.org/protocol/httpbind'><c/></b></a></body>"
    )
    const a = Element.elements(parsed)[0]
    const b = a && Element.child(a, "b")
    assert.strictEqual(a?.namespace, Namespaces.JABBER_CLIENT)
    assert.strictEqual(b?.namespace, Namespaces.HTTP_BIND)
    assert.strictEqual(b && Element.child(b, "c")?.namespace, Namespaces.HTTP_BIND)
  })

  it("a prefixed body resolves unprefixed children to jabber:client too", () => {
    const parsed = body("<b:body xmlns:b='http://jabber.org/protocol/httpbind'><iq type='get'/></b:body>")
    assert.strictEqual(Element.elements(parsed)[0]?.namespace, Namespaces.JABBER_CLIENT)
  })

  it("ignores whitespace between children", () => {
    const parsed = body("<body xmlns='http://jabber.org/protocol/httpbind'>\n  <presence/>\n  <presence/>\n</body>")
    assert.strictEqual(parsed.children.length, 2)
  })

  it("rejects a root that is not body in the httpbind namespace", () => {
    assert.strictEqual(failure("<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>").reason, "UnexpectedElement")
    assert.strictEqual(failure("<body xmlns='jabber:client'/>").reason, "UnexpectedNamespace")
    assert.strictEqual(failure("<body/>").reason, "UnexpectedNamespace")
  })

  it("rejects a truncated body", () => {
    assert.strictEqual(failure("<body xmlns='http://jabber.org/protocol/httpbind'><message>").reason, "Malformed")
    assert.strictEqual(failure("").reason, "Malformed")
  })

  it("applies restricted XML and the limits", () => {
    assert.strictEqual(failure("<body xmlns='http://jabber.org/protocol/httpbind'><!-- c --></body>").reason, "RestrictedXml")
    assert.strictEqual(
      failure("<!DOCTYPE body><body xmlns='http://jabber.org/protocol/httpbind'/>").reason,
      "RestrictedXml"
    )
    const deep = "<a>".repeat(100) + "</a>".repeat(100)
    assert.strictEqual(failure(`<body xmlns='http://jabber.org/protocol/httpbind'>${deep}</body>`).reason, "TooDeep")
    const result = BodyParser.parseBody(
      utf8("<body xmlns='http://jabber.org/protocol/httpbind'><message><body>" + "z".repeat(100) + "</body></message></body>"),
      { maxStanzaBytes: 50 }
    )
    assert.isTrue(Result.isFailure(result) && result.failure.reason === "TooLarge")
  })

  it("rejects trailing content after </body>", () => {
    assert.strictEqual(failure("<body xmlns='http://jabber.org/protocol/httpbind'/><x/>").reason, "Malformed")
  })
})
