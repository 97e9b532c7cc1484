/**
 * Test-only builders for server elements and a small driver for the
 * negotiation machine.
 */
import { Element, Jid, Namespaces, Negotiation, XmlStreamEvent } from "@xmpp-core/protocol"
import { computeWithNode } from "../sasl/NodeScramCompute.js"

export const serverHeader = (attributes: Record<string, string | undefined> = {}) =>
  XmlStreamEvent.streamOpen(Element.make("stream", {
    namespace: Namespaces.STREAMS,
    prefix: "stream",
    attributes: { from: "localhost", id: "s1", version: "1.0", "xml:lang": "en", ...attributes }
  }))

export const features = (...children: Array<Element.Element | undefined>) =>
  Element.make("features", { namespace: Namespaces.STREAMS, prefix: "stream", children })

export const starttls = (required = false) =>
  Element.make("starttls", {
    namespace: Namespaces.TLS,
    children: [required ? Element.make("required", { namespace: Namespaces.TLS }) : undefined]
  })

export const mechanisms = (...names: Array<string>) =>
  Element.make("mechanisms", {
    namespace: Namespaces.SASL,
    children: names.map((name) => Element.make("mechanism", { namespace: Namespaces.SASL, children: [name] }))
  })

export const channelBindingTypes = (...types: Array<string>) =>
  Element.make("sasl-channel-binding", {
    namespace: Negotiation.SASL_CHANNEL_BINDING,
    children: types.map((type) =>
      Element.make("channel-binding", { namespace: Negotiation.SASL_CHANNEL_BINDING, attributes: { type } })
    )
  })

export const bindFeature = () => Element.make("bind", { namespace: Namespaces.BIND })
export const sessionFeature = (optional: boolean) =>
  Element.make("session", {
    namespace: Namespaces.SESSION,
    children: [optional ? Element.make("optional", { namespace: Namespaces.SESSION }) : undefined]
  })

export const sasl = (name: string, text?: string) =>
  Element.make(name, { namespace: Namespaces.SASL, children: [text] })

export const saslFailure = (condition: string, text?: string) =>
  Element.make("failure", {
    namespace: Namespaces.SASL,
    children: [
      Element.make(condition, { namespace: Namespaces.SASL }),
      text === undefined ? undefined : Element.make("text", { namespace: Namespaces.SASL, children: [text] })
    ]
  })

export const streamError = (condition: string, options: { text?: string; body?: string } = {}) =>
  Element.make("error", {
    namespace: Namespaces.STREAMS,
    prefix: "stream",
    children: [
      Element.make(condition, { namespace: Namespaces.STREAM_ERRORS, children: [options.body] }),
      options.text === undefined
        ? undefined
        : Element.make("text", { namespace: Namespaces.STREAM_ERRORS, children: [options.text] })
    ]
  })

export const bindResult = (jid: string, id = "bind_1") =>
  Element.make("iq", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { type: "result", id },
    children: [
      Element.make("bind", {
        namespace: Namespaces.BIND,
        children: [Element.make("jid", { namespace: Namespaces.BIND, children: [jid] })]
      })
    ]
  })

export const iqError = (id: string, condition: string) =>
  Element.make("iq", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { type: "error", id },
    children: [
      Element.make("error", {
        namespace: Namespaces.JABBER_CLIENT,
        attributes: { type: "cancel" },
        children: [Element.make(condition, { namespace: Namespaces.STANZAS })]
      })
    ]
  })

export const iqResult = (id: string) =>
  Element.make("iq", { namespace: Namespaces.JABBER_CLIENT, attributes: { type: "result", id } })

export const el = (element: Element.Element) => XmlStreamEvent.streamElement(element)

/**
 * Runs the machine: feeds each event at time `now` (1 ms apart), answers
 * ComputeScram requests with node:crypto, collects every action.
 */
export const drive = (
  config: Negotiation.Config,
  events: ReadonlyArray<Negotiation.Event>,
  options: { readonly start?: number } = {}
) => {
  let now = options.start ?? 0
  let transition = Negotiation.make(config, now)
  const actions: Array<Negotiation.Action> = [...transition.actions]
  const feed = (event: Negotiation.Event) => {
    transition = Negotiation.step(transition.state, event, now)
    actions.push(...transition.actions)
    for (const action of transition.actions) {
      if (action._tag === "ComputeScram") {
        transition = Negotiation.step(
          transition.state,
          Negotiation.scramComputed(computeWithNode(action.request)),
          now
        )
        actions.push(...transition.actions)
      }
    }
  }
  for (const event of events) {
    now += 1
    feed(event)
  }
  return { state: transition.state, actions }
}

/** Actions as short strings, for readable expectations. */
export const summarize = (actions: ReadonlyArray<Negotiation.Action>): Array<string> =>
  actions.map((action) => {
    switch (action._tag) {
      case "Send": {
        const e = action.element
        const mechanism = Element.attribute(e, "mechanism")
        return `Send ${e.name}${mechanism === undefined ? "" : ` ${mechanism}`}`
      }
      case "Failed":
        return `Failed ${action.error._tag} ${action.error.reason}`
      case "Bound":
        return `Bound ${Jid.format(action.jid)}`
      default:
        return action._tag
    }
  })

export const payloadOf = (action: Negotiation.Action | undefined): string => {
  if (action === undefined || action._tag !== "Send") throw new Error("not a Send action")
  const text = Element.text(action.element)
  return text === "=" ? "" : Buffer.from(text, "base64").toString("utf8")
}

export const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64")

export const tls13 = (data = new Uint8Array([9, 9, 9])) => ({
  tlsVersion: "TLSv1.3",
  bindings: [{ type: "tls-exporter" as const, data }, { type: "tls-server-end-point" as const, data: new Uint8Array([7]) }]
})
export const tls12 = () => ({
  tlsVersion: "TLSv1.2",
  bindings: [
    { type: "tls-unique" as const, data: new Uint8Array([5, 5]) },
    { type: "tls-server-end-point" as const, data: new Uint8Array([7]) }
  ]
})
