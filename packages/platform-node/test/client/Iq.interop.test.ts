/**
 * `iq` with correlation against the real servers, over TCP and BOSH: an
 * XEP-0199 ping to the server is answered with a result; a ping to a
 * resource that does not exist comes back as an error with its condition.
 */
import { assert, describe, it } from "@effect/vitest"
import { XmppClient } from "@xmpp-core/client"
import { NodeXmppClient } from "@xmpp-core/platform-node"
import { Element, Namespaces } from "@xmpp-core/protocol"
import { Effect } from "effect"
import { boshConfig, config, servers } from "./Servers.js"

const s = servers()
const ping = (to: string) =>
  Element.make("iq", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { type: "get", to },
    children: [Element.make("ping", { namespace: "urn:xmpp:ping" })]
  })

describe("iq with correlation, real servers", () => {
  for (const server of ["prosody", "ejabberd"] as const) {
    for (const transport of ["tcp", "bosh"] as const) {
      it.live(`${server} over ${transport}: a ping is answered; a ping to nobody fails with its stanza condition`, () =>
        Effect.gen(function*() {
          const resource = `iq-${transport}`
          const client = yield* XmppClient.connect(
            transport === "tcp" ? config(s, server, "alice", { resource }) : boshConfig(s, server, "alice", "https", { resource })
          )
          const pong = yield* client.iq(ping(s.domain))
          assert.strictEqual(Element.attribute(pong, "type"), "result")
          const error = yield* Effect.flip(client.iq(ping(`bob@${s.domain}/no-such-resource`)))
          assert.strictEqual(error.reason, "IqError")
          assert.include(["service-unavailable", "item-not-found", "recipient-unavailable"], error.condition)
        }).pipe(Effect.scoped, Effect.provide(NodeXmppClient.layerPorts())), 30_000)
    }
  }
})
