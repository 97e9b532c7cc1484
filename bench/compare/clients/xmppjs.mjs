// @xmpp/client 0.14 over TCP+STARTTLS, through its public API (client,
// send, the `stanza` event). Variant "nodelay" calls setNoDelay on its
// socket once online; "shipped" leaves Nagle on. Its SASL is SCRAM-SHA-1
// (the only SCRAM it has). The test CA comes from NODE_EXTRA_CA_CERTS.
import { client as xmppClient, xml } from "@xmpp/client"

export const mechanism = "SCRAM-SHA-1 (its only SCRAM)"

export const login = async (target, account) => {
  const xmpp = xmppClient({
    service: `xmpp://${target.host}:${target.c2s}`,
    domain: target.domain,
    username: account.user,
    password: account.password,
    resource: account.resource
  })
  xmpp.reconnect.stop()
  const listeners = []
  xmpp.on("stanza", (stanza) => {
    if (stanza.is("message")) {
      const text = stanza.getChildText("body") ?? ""
      for (const listener of listeners) listener(text)
    }
  })
  xmpp.on("error", () => {})
  const address = await xmpp.start()
  // xmpp.socket is its TLS wrapper after STARTTLS; .socket under it is the node:tls socket
  if (target.variant === "nodelay") xmpp.socket.socket.setNoDelay(true)
  return {
    jid: address.toString(),
    onMessage: (listener) => listeners.push(listener),
    send: (to, body) => xmpp.send(xml("message", { to, type: "chat" }, xml("body", {}, body))),
    close: () => xmpp.stop()
  }
}
