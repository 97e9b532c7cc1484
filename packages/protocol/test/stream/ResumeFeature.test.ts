/**
 * Resuming a stream-management session in place of binding (XEP-0198 §5):
 * the `<resume/>` goes out after authentication when the server offers
 * stream management, `<resumed/>` ends negotiation on the session's JID,
 * `<failed/>` binds a new session and says so.
 */
import { assert, describe, it } from "@effect/vitest"
import { Element, Jid, Namespaces, Negotiation, StreamManagementElements } from "@xmpp-core/protocol"
import { Result } from "effect"
import { bindFeature, bindResult, drive, el, features, mechanisms, sasl, serverHeader, summarize } from "./NegotiationFixtures.js"

const sessionJid = Result.getOrThrow(Jid.parse("user@localhost/phone"))
const request = StreamManagementElements.resume("sm-1", 7)
const smFeature = () => Element.make("sm", { namespace: Namespaces.STREAM_MANAGEMENT })
const sm = (name: string, attributes: Record<string, string> = {}, children: Array<Element.Element> = []) =>
  Element.make(name, { namespace: Namespaces.STREAM_MANAGEMENT, attributes, children })

const config: Negotiation.Config = {
  transport: "tcp",
  domain: "localhost",
  credentials: { _tag: "Password", username: "user", password: "pencil" },
  clientNonce: "fyko+d2lbbFgONRv9qkxdawL",
  tls: { tlsVersion: "TLSv1.3", bindings: [] },
  resume: { request, jid: sessionJid }
}

const loggedIn = [serverHeader(), el(features(mechanisms("PLAIN"))), el(sasl("success")), serverHeader()]

describe("ResumeFeature", () => {
  it("sends the <resume/> instead of binding; <resumed/> ends on the session's JID and carries the answer", () => {
    const resumed = sm("resumed", { previd: "sm-1", h: "3" })
    const { actions } = drive(config, [...loggedIn, el(features(bindFeature(), smFeature())), el(resumed)])
    const sent = actions.filter((a) => a._tag === "Send").map((a) => a._tag === "Send" ? a.element.name : "")
    assert.deepStrictEqual(sent.slice(-1), ["resume"])
    assert.notInclude(sent, "iq", "no bind request")
    const bound = actions.at(-1)
    assert.strictEqual(bound?._tag, "Bound")
    if (bound?._tag === "Bound") {
      assert.strictEqual(Jid.format(bound.jid), "user@localhost/phone")
      assert.strictEqual(bound.resumption, resumed)
    }
  })

  it("<failed/> binds a new session and the Bound action carries the <failed/>", () => {
    const failed = sm("failed", { h: "2" }, [Element.make("item-not-found", { namespace: Namespaces.STANZAS })])
    const { actions } = drive(config, [
      ...loggedIn,
      el(features(bindFeature(), smFeature())),
      el(failed),
      el(bindResult("user@localhost/new"))
    ])
    assert.deepStrictEqual(summarize(actions).slice(-3), ["Send resume", "Send iq", "Bound user@localhost/new"])
    const bound = actions.at(-1)
    assert.strictEqual(bound?._tag === "Bound" ? bound.resumption : undefined, failed)
  })

  it("a server that offers no stream management is bound anew, with no resumption in the Bound action", () => {
    const { actions } = drive(config, [...loggedIn, el(features(bindFeature())), el(bindResult("user@localhost/new"))])
    assert.deepStrictEqual(summarize(actions).slice(-2), ["Send iq", "Bound user@localhost/new"])
    const bound = actions.at(-1)
    assert.isUndefined(bound?._tag === "Bound" ? bound.resumption : "not bound")
  })

  it("without a session to resume, binding as always, even when stream management is offered", () => {
    const { resume: _, ...plain } = config
    const { actions } = drive(plain, [...loggedIn, el(features(bindFeature(), smFeature())), el(bindResult("user@localhost/x"))])
    assert.deepStrictEqual(summarize(actions).slice(-2), ["Send iq", "Bound user@localhost/x"])
  })

  it("anything else in answer to <resume/> is a typed error", () => {
    const { actions } = drive(config, [...loggedIn, el(features(bindFeature(), smFeature())), el(sm("a", { h: "1" }))])
    assert.strictEqual(summarize(actions).at(-1), "Failed NegotiationError unexpected-element")
  })
})
