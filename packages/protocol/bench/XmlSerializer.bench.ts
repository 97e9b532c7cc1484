import { Element, XmlSerializer } from "@xmpp-core/protocol"
import { measure, report } from "../../../scripts/bench-harness.mjs"

const message = Element.make("message", {
  namespace: "jabber:client",
  attributes: { to: "bob@localhost/desk", from: "alice@localhost/phone", type: "chat", id: "m-1" },
  children: [Element.make("body", { namespace: "jabber:client", children: ["Hello <Bob> & 'friends' — 🎉"] })]
})
const timing = measure(() => XmlSerializer.toXml(message), { iterations: 100_000 })
const checked = measure(() => XmlSerializer.serialize(message), { iterations: 100_000 })
report("XML serializer, one chat message", [
  ["toXml (unchecked), median", `${(timing.medianNs / 1000).toFixed(2)} µs`],
  ["serialize (validated), median", `${(checked.medianNs / 1000).toFixed(2)} µs`]
])
