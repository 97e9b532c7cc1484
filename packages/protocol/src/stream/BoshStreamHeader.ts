/**
 * The stream header a BOSH session stands for (XEP-0206 §4): over BOSH the
 * server writes no `<stream:stream>`, so the transport synthesizes the one
 * a TCP server would have sent from the session creation response, and
 * negotiation sees the same `StreamOpen` over either transport.
 *
 * @since 0.1.0
 */
import * as Element from "../xml/Element.js"
import * as Namespaces from "../xml/Namespaces.js"

/**
 * What the session creation response carries for the header.
 *
 * @since 0.1.0
 */
export interface SessionAttributes {
  /** The response's `from` (the domain when absent). */
  readonly from: string | undefined
  /** The response's `authid`: the stream id. */
  readonly authid: string | undefined
  /** The response's `xmpp:version` (1.0 when absent). */
  readonly xmppVersion?: string | undefined
}

/**
 * The `<stream:stream from=… id=… version=…>` header of a session: `from`
 * (or the requested `domain`), `authid` as the stream id, `xmpp:version`.
 *
 * @since 0.1.0
 */
export const fromSession = (attributes: SessionAttributes, domain: string): Element.Element =>
  Element.make("stream", {
    namespace: Namespaces.STREAMS,
    prefix: "stream",
    attributes: {
      from: attributes.from ?? domain,
      id: attributes.authid,
      version: attributes.xmppVersion ?? "1.0"
    }
  })
