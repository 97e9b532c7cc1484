// Strophe.js 5 over BOSH, through its public API (Strophe.Connection,
// addHandler, send, flush). Variant "flush" calls flush() after each send;
// "shipped" leaves the sending to Strophe's 100 ms idle loop.
import { install } from "./xhr.mjs"
install()
const { Strophe, $msg } = await import("strophe.js")
// Its default level logs every request on the console.
Strophe.setLogLevel(Strophe.LogLevel.FATAL)

export const mechanism = "SCRAM-SHA-256 (Strophe's choice)"

export const login = (target, account) =>
  new Promise((resolve, reject) => {
    const connection = new Strophe.Connection(target.boshUrl)
    const listeners = []
    connection.addHandler(
      (stanza) => {
        const body = stanza.getElementsByTagName("body")[0]
        const text = body === undefined ? "" : body.textContent
        for (const listener of listeners) listener(text)
        return true
      },
      null,
      "message"
    )
    let closed
    connection.connect(`${account.user}@${target.domain}/${account.resource}`, account.password, (status, condition) => {
      if (status === Strophe.Status.CONNECTED) {
        resolve({
          jid: connection.jid,
          onMessage: (listener) => listeners.push(listener),
          send: (to, body) => {
            connection.send($msg({ to, type: "chat" }).c("body").t(body))
            if (target.variant === "flush") connection.flush()
          },
          close: () =>
            new Promise((done) => {
              closed = done
              connection.disconnect()
            })
        })
      } else if (status === Strophe.Status.DISCONNECTED) {
        if (closed !== undefined) closed()
        else reject(new Error(`disconnected before login (${condition ?? "no condition"})`))
      } else if (status === Strophe.Status.AUTHFAIL || status === Strophe.Status.CONNFAIL || status === Strophe.Status.ERROR) {
        reject(new Error(`Strophe status ${status} ${condition ?? ""}`))
      }
    })
  })
