import { assert, describe, it } from "@effect/vitest"
import { XmppClient } from "@xmpp-core/client"
import { NodeXmppClient } from "@xmpp-core/platform-node"
import { Effect } from "effect"
import { boshConfig, servers } from "./Servers.js"

const s = servers()
const ports = NodeXmppClient.layerPorts()

describe.each(["prosody", "ejabberd"] as const)("BOSH %s", (server) => {
  it.live("smoke", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const client = yield* XmppClient.connect(boshConfig(s, server, "alice", "https", { resource: "smoke" }), {
        onTraffic: (d, x) => lines.push(`${d} ${x}`)
      }).pipe(Effect.tapError(() => Effect.sync(() => console.log(lines.join("\n")))))
      console.log(lines.join("\n"))
      assert.strictEqual(client.jid.resource, "smoke")
      yield* client.close.pipe(Effect.tapError(() => Effect.sync(() => console.log("AFTER\n" + lines.join("\n")))))
    }).pipe(Effect.scoped, Effect.provide(ports)), 20_000)
})
