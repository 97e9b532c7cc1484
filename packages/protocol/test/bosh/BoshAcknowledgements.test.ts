/**
 * XEP-0124 §9 from the caller's side: which payloads the manager has
 * (`Acknowledged`), how a caller waiting for that gets it without a held
 * `wait`, and what goes back when the session ends.
 */
import { BoshSession, Element } from "@xmpp-core/protocol"
import { assert, describe, it } from "@effect/vitest"
import { FIRST_RID, type Machine, message, open, requests, respond, step } from "./Steps.js"

const EMPTY = `<body xmlns='http://jabber.org/protocol/httpbind'/>`

const acknowledged = (m: Machine) => m.actions.flatMap((a) => a._tag === "Acknowledged" ? [a.upTo] : [])
const ids = (elements: ReadonlyArray<Element.Element>) => elements.map((e) => Element.attribute(e, "id"))

/** Open (one poll held: rid +1), then `a` in rid +2: both request slots are busy. */
const withPayloadOut = (): Machine => step(open(), BoshSession.Event.send([message("a")]), 20)

describe("BOSH acknowledgements (XEP-0124 §9)", () => {
  it("a request's payloads are acknowledged when its answer is processed in rid order, not before", () => {
    let m = withPayloadOut()
    assert.strictEqual(requests(m.actions)[0]?.rid, FIRST_RID + 2)
    // The answer to rid +2 arriving first is held back until rid +1's is processed.
    m = respond(m, FIRST_RID + 2, EMPTY, 30)
    assert.deepStrictEqual(acknowledged(m), [])
    m = respond(m, FIRST_RID + 1, EMPTY, 31)
    assert.deepStrictEqual(acknowledged(m), [1])
    assert.deepStrictEqual(BoshSession.unacknowledged(m.state), [])
  })

  it("a caller waiting for an acknowledgement gets one empty request at once to release the held request", () => {
    let m = withPayloadOut()
    m = step(m, BoshSession.Event.awaitAcknowledgement(BoshSession.acceptedPayloads(m.state)), 20)
    // The manager answers the older poll and holds the request with `a`.
    m = respond(m, FIRST_RID + 1, EMPTY, 30)
    const [release] = requests(m.actions)
    assert.strictEqual(release?.rid, FIRST_RID + 3)
    assert.deepStrictEqual(release?.payloads, [])
    // Within the rules (§11): the request before it carried payloads, so `polling` does not apply.
    m = respond(m, FIRST_RID + 2, EMPTY, 40)
    assert.deepStrictEqual(acknowledged(m), [1])
    // Nobody waits any more: no further request beyond the held one.
    assert.deepStrictEqual(requests(m.actions), [])
  })

  it("without a caller waiting, the request with the payloads is left held (as before)", () => {
    let m = withPayloadOut()
    m = respond(m, FIRST_RID + 1, EMPTY, 30)
    assert.deepStrictEqual(requests(m.actions), [])
    assert.deepStrictEqual(ids(BoshSession.unacknowledged(m.state)), ["a"])
  })

  it("a session that ends badly hands back what the manager may not have: sent and unanswered, then unsent", () => {
    let m = withPayloadOut()
    m = step(m, BoshSession.Event.send([message("b")]), 21)
    assert.deepStrictEqual(requests(m.actions), [])
    m = respond(m, FIRST_RID + 1, `<body type='terminate' condition='remote-connection-failed' xmlns='http://jabber.org/protocol/httpbind'/>`, 30)
    const end = m.actions.find((a) => a._tag === "Terminated")
    assert.deepStrictEqual(end?._tag === "Terminated" ? ids(end.unacknowledged) : [], ["a", "b"])
    assert.deepStrictEqual(ids(BoshSession.unacknowledged(m.state)), ["a", "b"])
  })

  it("a clean close acknowledges everything: the terminate went after it", () => {
    let m = withPayloadOut()
    m = step(m, BoshSession.Event.close([message("last")]), 21)
    // Both slots busy: the terminate takes the extra one §11 allows.
    const terminate = requests(m.actions).find((r) => r.attributes.type === "terminate")
    assert.strictEqual(terminate?.rid, FIRST_RID + 3)
    m = respond(m, FIRST_RID + 1, EMPTY, 30)
    m = respond(m, FIRST_RID + 2, EMPTY, 31)
    assert.deepStrictEqual(acknowledged(m), [1])
    m = respond(m, FIRST_RID + 3, `<body type='terminate' xmlns='http://jabber.org/protocol/httpbind'/>`, 40)
    assert.deepStrictEqual(acknowledged(m), [2])
    assert.isTrue(m.actions.some((a) => a._tag === "Closed"))
    assert.deepStrictEqual(BoshSession.unacknowledged(m.state), [])
  })
})
