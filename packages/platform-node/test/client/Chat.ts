/**
 * Chat messages as the interop tests send and read them: a body, numbered
 * runs of bodies, and the body of what arrived.
 */
import { Element, Namespaces } from "@xmpp-core/protocol"

/** A `type='chat'` message to `to` carrying `body`. */
export const chat = (to: string, body: string) =>
  Element.make("message", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { to, type: "chat" },
    children: [Element.make("body", { namespace: Namespaces.JABBER_CLIENT, children: [body] })]
  })

/** The text of a stanza's `<body/>`, if it has one. */
export const bodyOf = (stanza: Element.Element) => {
  const body = Element.child(stanza, "body", Namespaces.JABBER_CLIENT)
  return body === undefined ? undefined : Element.text(body)
}

/** `prefix` numbered from `from` up to `to` (not included). */
export const numberedFrom = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`)

/** `n` bodies: `prefix` numbered from 0. */
export const numbered = (prefix: string, n: number) => numberedFrom(prefix, 0, n)
