// StanzaJS 12 over BOSH only (websocket off), through its public API
// (createClient, sendMessage, the `message` event), stream management on or
// off (`useStreamManagement`).
import * as XMPP from "stanza"

export const mechanism = "SCRAM-SHA-256 (StanzaJS's choice)"

export const login = (target, account) =>
  new Promise((resolve, reject) => {
    const client = XMPP.createClient({
      jid: `${account.user}@${target.domain}`,
      password: account.password,
      resource: account.resource,
      transports: { websocket: false, bosh: target.boshUrl },
      useStreamManagement: target.variant === "sm-on"
    })
    const listeners = []
    client.on("message", (msg) => {
      for (const listener of listeners) listener(msg.body ?? "")
    })
    let online = false
    client.on("session:started", () => {
      online = true
      resolve({
        jid: client.jid,
        onMessage: (listener) => listeners.push(listener),
        send: (to, body) => {
          client.sendMessage({ to, type: "chat", body })
        },
        // Its `disconnected` event may not fire: the caller bounds this by a timeout.
        close: () =>
          new Promise((done) => {
            client.once("disconnected", () => done())
            client.disconnect()
          })
      })
    })
    client.on("auth:failed", () => reject(new Error("auth failed")))
    client.on("disconnected", (e) => {
      if (!online) reject(new Error(`disconnected before login ${e ?? ""}`))
    })
    client.connect()
  })
