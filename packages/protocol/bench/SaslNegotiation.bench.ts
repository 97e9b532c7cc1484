// The pure negotiation machine's own cost, without crypto or I/O: a whole
// TCP login (header, features, SASL PLAIN, restart, bind) stepped in memory.
import { Element, Namespaces, Negotiation, XmlStreamEvent } from "@xmpp-core/protocol"
import { measure, report } from "../../../scripts/bench-harness.mjs"

const el = (e: Element.Element) => XmlStreamEvent.streamElement(e)
const features = (...children: Array<Element.Element>) =>
  el(Element.make("features", { namespace: Namespaces.STREAMS, prefix: "stream", children }))
const header = XmlStreamEvent.streamOpen(Element.make("stream", {
  namespace: Namespaces.STREAMS,
  prefix: "stream",
  attributes: { from: "localhost", id: "x", version: "1.0" }
}))
const script: ReadonlyArray<Negotiation.Event> = [
  header,
  features(Element.make("mechanisms", {
    namespace: Namespaces.SASL,
    children: ["SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"].map((m) =>
      Element.make("mechanism", { namespace: Namespaces.SASL, children: [m] })
    )
  })),
  el(Element.make("success", { namespace: Namespaces.SASL })),
  header,
  features(Element.make("bind", { namespace: Namespaces.BIND })),
  el(Element.make("iq", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { type: "result", id: "bind_1" },
    children: [Element.make("bind", {
      namespace: Namespaces.BIND,
      children: [Element.make("jid", { namespace: Namespaces.BIND, children: ["alice@localhost/r"] })]
    })]
  }))
]
const config: Negotiation.Config = {
  transport: "tcp",
  domain: "localhost",
  credentials: { _tag: "Password", username: "alice", password: "alicepass" },
  mechanisms: ["PLAIN"],
  clientNonce: "abc",
  tls: { tlsVersion: "TLSv1.3", bindings: [] }
}
const login = () => {
  let t = Negotiation.make(config, 0)
  for (const event of script) t = Negotiation.step(t.state, event, 1)
  if (t.state._tag !== "Bound") throw new Error("did not bind")
}
const timing = measure(login, { iterations: 20_000 })
report("Negotiation machine, PLAIN login to Bound (no crypto, no I/O)", [
  ["median per login", `${(timing.medianNs / 1000).toFixed(2)} µs`]
])
