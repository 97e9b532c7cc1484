/**
 * Driving the BOSH machine by hand in unit tests: a session opened like
 * XEP-0124 example 2, steps, answers, and what the actions say.
 */
import { BodyParser, BoshSession, Element } from "@xmpp-core/protocol"
import { Result } from "effect"

export const encoder = new TextEncoder()
export const parse = (xml: string): Element.Element => {
  const parsed = BodyParser.parseBody(encoder.encode(xml))
  if (Result.isFailure(parsed)) throw new Error(parsed.failure.message)
  return parsed.success
}

export const randomness = { rid: new Uint8Array([0, 0, 0, 0, 0, 99]), keySeed: new Uint8Array(16).fill(1) }
export const FIRST_RID = 100 // initialRid of the bytes above: 99 + 1

export type Machine = { state: BoshSession.State; actions: Array<BoshSession.Action> }

export const requests = (actions: ReadonlyArray<BoshSession.Action>) =>
  actions.filter((a): a is BoshSession.Request => a._tag === "Request")
export const delivered = (actions: ReadonlyArray<BoshSession.Action>) =>
  actions.flatMap((a) => a._tag === "Deliver" ? a.payloads.map((p) => Element.attribute(p, "id") ?? p.name) : [])
export const terminated = (actions: ReadonlyArray<BoshSession.Action>) =>
  actions.flatMap((a) => a._tag === "Terminated" ? [a.error] : [])

export const step = (m: Machine, event: BoshSession.Event, now: number): Machine => {
  const next = BoshSession.step(m.state, event, now)
  return { state: next.state, actions: [...next.actions] }
}

export const respond = (m: Machine, rid: number, xml: string, now: number, extra: Partial<{ status: number; reasonPhrase: string }> = {}) =>
  step(m, { _tag: "HttpResponse", rid, status: extra.status ?? 200, reasonPhrase: extra.reasonPhrase, body: parse(xml) }, now)

export const creationResponse = (attributes = "") =>
  `<body xmlns='http://jabber.org/protocol/httpbind' sid='SomeSID' wait='60' requests='2' hold='1' polling='5' inactivity='30' ver='1.6' ${attributes}/>`

export const message = (id: string) =>
  Element.make("message", {
    namespace: "jabber:client",
    attributes: { id, to: "contact@example.com" },
    children: [Element.make("body", { namespace: "jabber:client", children: ["Good morning!"] })]
  })

/** A session opened like XEP-0124 example 2; returns the machine after the first empty request went out. */
export const open = (options: Partial<BoshSession.Options> = {}, response = creationResponse()): Machine => {
  const started = BoshSession.make({ to: "jabber.org", ...options }, randomness, 0)
  // The caller waits for payloads from the start, so the machine keeps a request at the manager.
  const waiting = step({ state: started.state, actions: [] }, BoshSession.Event.receive(), 0)
  return respond(waiting, FIRST_RID, response, 10)
}
