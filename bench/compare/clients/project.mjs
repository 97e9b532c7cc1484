// This project through its public API: XmppClient.connect on the Node ports
// (NodeXmppClient.layerPorts), over BOSH (HTTP keep-alive, the default mode)
// or TCP+STARTTLS, with stream management on (the default) or off. SCRAM-SHA-256.
import { XmppClient, XmppClientConfig } from "@xmpp-core/client"
import { NodeXmppClient } from "@xmpp-core/platform-node"
import { Element, Jid, Namespaces } from "@xmpp-core/protocol"
import { Effect, Exit, ManagedRuntime, Schema, Scope, Stream } from "effect"

const runtime = ManagedRuntime.make(NodeXmppClient.layerPorts())

const config = (target, account) =>
  Schema.decodeUnknownSync(XmppClientConfig.XmppClientConfig)({
    jid: `${account.user}@${target.domain}`,
    password: account.password,
    ca: target.caPem,
    mechanisms: ["SCRAM-SHA-256"],
    resource: account.resource,
    // "tcp-sm-off": stream management off, as @xmpp/client runs (it has none): the same work per stanza.
    ...(target.variant === "tcp-sm-off" ? { streamManagement: { enabled: false } } : {}),
    ...(target.variant === "tcp" || target.variant === "tcp-sm-off"
      ? {
        transport: { _tag: "tcp", host: target.host, port: target.c2s, directTls: false }
      }
      : {
        // plain-HTTP BOSH on loopback, as every BOSH peer here
        allowPlaintext: true,
        transport: { _tag: "bosh", url: target.boshUrl, mode: "keep-alive" }
      })
  })

const message = (to, body) =>
  Element.make("message", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { to, type: "chat" },
    children: [Element.make("body", { namespace: Namespaces.JABBER_CLIENT, children: [body] })]
  })

const bodyOf = (stanza) => {
  const body = stanza.children.find((child) => typeof child !== "string" && child.name === "body")
  return body === undefined ? "" : body.children.filter((c) => typeof c === "string").join("")
}

export const mechanism = "SCRAM-SHA-256"

export const login = async (target, account) => {
  const scope = await runtime.runPromise(Scope.make())
  const client = await runtime.runPromise(Scope.provide(scope)(XmppClient.connect(config(target, account))))
  const listeners = []
  runtime.runFork(
    client.stanzas.pipe(
      Stream.runForEach((stanza) =>
        Effect.sync(() => {
          if (stanza.name === "message") for (const listener of listeners) listener(bodyOf(stanza))
        })
      ),
      Effect.ignore
    )
  )
  return {
    jid: Jid.format(client.jid),
    onMessage: (listener) => listeners.push(listener),
    send: (to, body) => runtime.runPromise(client.send(message(to, body))),
    close: () => runtime.runPromise(Effect.ignore(client.close).pipe(Effect.andThen(Scope.close(scope, Exit.void))))
  }
}
