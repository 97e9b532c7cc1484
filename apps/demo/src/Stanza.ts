/**
 * The few stanzas the demo builds and reads: a chat message and its body.
 *
 * @since 0.1.0
 */
import { Element, Jid, Namespaces } from "@xmpp-core/protocol"

/**
 * A `<message type='chat'>` with a body.
 *
 * @since 0.1.0
 */
export const chat = (options: { readonly to: Jid.Jid; readonly body: string; readonly id?: string | undefined }) =>
  Element.make("message", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { to: Jid.format(options.to), type: "chat", ...(options.id === undefined ? {} : { id: options.id }) },
    children: [Element.make("body", { namespace: Namespaces.JABBER_CLIENT, children: [options.body] })]
  })

/**
 * Initial presence, so the server routes messages for the bare JID to us.
 *
 * @since 0.1.0
 */
export const presence = Element.make("presence", { namespace: Namespaces.JABBER_CLIENT })

/**
 * The text of a message's `<body/>`, if it has one.
 *
 * @since 0.1.0
 */
export const body = (stanza: Element.Element): string | undefined => {
  const child = Element.child(stanza, "body", Namespaces.JABBER_CLIENT)
  return child === undefined ? undefined : Element.text(child)
}
