/**
 * The pure pieces of the BOSH transport: the XML console's redaction and how
 * a BoshError becomes a TransportError. (The synthesized stream header is the
 * protocol package's `BoshStreamHeader`, tested there.)
 */
import { assert, describe, it } from "@effect/vitest"
import { BoshTransport } from "@xmpp-core/client"
import { BoshError, Element, Namespaces, XmlSerializer } from "@xmpp-core/protocol"

const auth = Element.make("auth", {
  namespace: Namespaces.SASL,
  attributes: { mechanism: "PLAIN" },
  children: ["AGFsaWNlAGFsaWNlcGFzcw=="]
})
const scope = XmlSerializer.scopeWithDefault(Namespaces.HTTP_BIND)
const bodyWith = (payload: Element.Element) =>
  `<body rid='1' sid='s' xmlns='${Namespaces.HTTP_BIND}'>${XmlSerializer.toXml(payload, scope)}</body>`

describe("BoshTransport (pure parts)", () => {
  it("redacts a SASL payload in a request body and keeps the mechanism", () => {
    const text = BoshTransport.redactRequest({ text: bodyWith(auth), payloads: [auth] })
    assert.notInclude(text, "AGFsaWNlAGFsaWNlcGFzcw==")
    assert.include(text, "…redacted…")
    assert.include(text, "mechanism='PLAIN'")
    assert.include(text, "rid='1'")
  })

  it("hides the whole body when a secret payload cannot be found in its text", () => {
    const text = BoshTransport.redactRequest({ text: "<body>AGFsaWNlAGFsaWNlcGFzcw==</body>", payloads: [auth] })
    assert.notInclude(text, "AGFsaWNlAGFsaWNlcGFzcw==")
  })

  it("leaves bodies without secrets as they are", () => {
    const message = Element.make("message", { namespace: Namespaces.JABBER_CLIENT, attributes: { id: "m" } })
    const text = bodyWith(message)
    assert.strictEqual(BoshTransport.redactRequest({ text, payloads: [message] }), text)
  })

  it("maps BoshErrors: before the session ConnectFailed, after it ConnectionLost, the reason kept as condition and the error as cause", () => {
    const unreachable = new BoshError({ reason: "connection-manager-unreachable", message: "gone" })
    const early = BoshTransport.fromBoshError(unreachable, false, "https://cm.test/")
    assert.strictEqual(early.reason, "ConnectFailed")
    assert.strictEqual(early.condition, "connection-manager-unreachable")
    assert.strictEqual(early.cause, unreachable)
    const late = BoshTransport.fromBoshError(new BoshError({ reason: "item-not-found", message: "unknown sid", status: 404 }), true, "https://cm.test/")
    assert.strictEqual(late.reason, "ConnectionLost")
    assert.strictEqual(late.condition, "item-not-found")
    const bad = BoshTransport.fromBoshError(new BoshError({ reason: "invalid-response", message: "not a body" }), true, "https://cm.test/")
    assert.strictEqual(bad.reason, "InvalidXml")
  })

  it("only https URLs are secure", () => {
    assert.isTrue(BoshTransport.isSecureUrl("https://localhost/http-bind"))
    assert.isTrue(BoshTransport.isSecureUrl("HTTPS://localhost/http-bind"))
    assert.isFalse(BoshTransport.isSecureUrl("http://127.0.0.1:5280/http-bind"))
  })
})
