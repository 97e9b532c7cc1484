/**
 * A discrete simulation for the XEP-0198 machine: the client machine and a
 * model of a server (what Prosody and ejabberd do: count, answer `<r/>`,
 * keep unacknowledged stanzas, resume or refuse) joined by a link that can
 * die (a reset the client sees), go silent (a black hole only an ack
 * timeout finds), or lose the server's session (expired with its `h`, or a
 * restart that forgets everything). The callers on both sides hand their
 * stanzas over one by one; a client caller resends what comes back.
 *
 * Test code only. `stepWith` lets a test run a deliberately broken machine.
 */
import { Element, HandledCount, Namespaces, StreamManagement } from "@xmpp-core/protocol"

const SM = Namespaces.STREAM_MANAGEMENT

export type Op =
  | { readonly _tag: "ClientSend" }
  | { readonly _tag: "ServerSend" }
  | { readonly _tag: "Flush"; readonly deferred?: boolean }
  | { readonly _tag: "DeliverToServer" }
  | { readonly _tag: "DeliverToClient" }
  | { readonly _tag: "ServerRequest" }
  | { readonly _tag: "Kill" }
  | { readonly _tag: "BlackHole" }
  | { readonly _tag: "Expire" }
  | { readonly _tag: "Restart" }
  | { readonly _tag: "Advance"; readonly ms: number }

export type Stepper = (state: StreamManagement.State, event: StreamManagement.Event, now: number) => StreamManagement.Step

export const options: StreamManagement.Options = {
  ...StreamManagement.defaults,
  requestEvery: 4,
  ackTimeoutMs: 5_000,
  idleRequestMs: 10_000,
  maxUnacked: 1_000
}

interface ServerSession {
  inbound: number
  outAcked: number
  outUnacked: Array<string>
  expired: boolean
}

/** What a run saw, for the properties. */
export interface Outcome {
  /** Client stanzas as the server's caller got them, in order. */
  readonly serverGot: ReadonlyArray<string>
  /** Server stanzas as the client's caller got them, in order. */
  readonly clientGot: ReadonlyArray<string>
  readonly clientSent: number
  readonly serverSent: number
  /** Each hand-back: what came back, and what the server's caller lacked at that moment. */
  readonly handBacks: ReadonlyArray<{ readonly returned: ReadonlyArray<string>; readonly lacked: ReadonlyArray<string>; readonly reason: string }>
  readonly restarts: number
  readonly protocolErrors: ReadonlyArray<string>
}

const stanza = (id: string) => Element.make("message", { namespace: Namespaces.JABBER_CLIENT, attributes: { id } })
const sm = (name: string, attributes: Record<string, string> = {}) => Element.make(name, { namespace: SM, attributes })

export const simulate = (ops: ReadonlyArray<Op>, stepWith: Stepper = StreamManagement.step): Outcome => {
  let now = 0
  let clientSent = 0
  let serverSent = 0
  let restarts = 0
  const appQueue: Array<string> = []
  const serverQueue: Array<string> = []
  const serverGot: Array<string> = []
  const clientGot: Array<string> = []
  const handBacks: Array<{ returned: Array<string>; lacked: Array<string>; reason: string }> = []
  const protocolErrors: Array<string> = []
  const sessions = new Map<string, ServerSession>()
  /** The h of sessions that expired: as Prosody does, a later <resume/> still learns it (<failed h/>). */
  const tombstones = new Map<string, number>()
  let nextSessionId = 0
  let current: string | undefined
  let link = { up: true, silent: false, toServer: [] as Array<Element.Element>, toClient: [] as Array<Element.Element> }
  let state: StreamManagement.State

  const idOf = (element: Element.Element) => Element.attribute(element, "id") ?? "?"

  const write = (element: Element.Element) => {
    if (link.up && !link.silent) link.toServer.push(element)
  }

  const perform = (actions: ReadonlyArray<StreamManagement.Action>) => {
    for (const action of actions) {
      switch (action._tag) {
        case "Write":
          write(action.element)
          break
        case "Unacknowledged": {
          const returned = action.stanzas.map((s) => idOf(s.element))
          const got = new Set(serverGot)
          const lacked = [...new Set([...appSentSoFar])].filter((id) => !got.has(id) && !appQueue.includes(id))
          handBacks.push({ returned, lacked, reason: action.error.reason })
          // The caller resends them first, in a new session.
          appQueue.unshift(...returned)
          break
        }
        case "ProtocolError":
          protocolErrors.push(action.error.message)
          break
        case "LinkDead":
          kill()
          feed({ _tag: "LinkLost" })
          break
        case "Resume":
          // Reconnect at once; the new link carries the <resume/>.
          newLink()
          feed({ _tag: "Reconnected" })
          break
        default:
          break
      }
    }
  }

  /** Every client stanza id handed to the machine so far (for "what the server lacks"). */
  const appSentSoFar: Array<string> = []

  const feed = (event: StreamManagement.Event) => {
    const next = stepWith(state, event, now)
    state = next.state
    perform(next.actions)
    if (state._tag === "Off") {
      // A new session on a new link: a fresh machine and a fresh <enable/>.
      newLink()
      const started = StreamManagement.make(options, now)
      state = started.state
      perform(started.actions)
    }
  }

  const newLink = () => {
    link = { up: true, silent: false, toServer: [], toClient: [] }
    current = undefined
  }

  const kill = () => {
    link.up = false
    link.toServer = []
    link.toClient = []
    current = undefined
  }

  const serverWrite = (element: Element.Element) => {
    if (link.up && !link.silent) link.toClient.push(element)
  }

  const trim = (session: ServerSession, h: number) => {
    const count = HandledCount.distance(session.outAcked, h)
    session.outUnacked.splice(0, Math.min(count, session.outUnacked.length))
    session.outAcked = h
  }

  const serverReceive = (element: Element.Element) => {
    const session = current === undefined ? undefined : sessions.get(current)
    if (element.namespace === Namespaces.JABBER_CLIENT) {
      if (session === undefined) return
      serverGot.push(idOf(element))
      session.inbound = HandledCount.add(session.inbound, 1)
      return
    }
    switch (element.name) {
      case "enable": {
        // The client started over: its earlier sessions can no longer be resumed. A server lets them
        // expire and keeps what they did not deliver for the account (offline storage).
        for (const [old, detached] of sessions) {
          serverQueue.unshift(...detached.outUnacked)
          sessions.delete(old)
          tombstones.set(old, detached.inbound)
        }
        const id = `s${nextSessionId++}`
        sessions.set(id, { inbound: 0, outAcked: 0, outUnacked: [], expired: false })
        current = id
        serverWrite(sm("enabled", { id, resume: "true", max: "60" }))
        return
      }
      case "resume": {
        const previd = Element.attribute(element, "previd") ?? ""
        const h = Number(Element.attribute(element, "h") ?? "0")
        const known = sessions.get(previd)
        if (known === undefined) {
          const h = tombstones.get(previd)
          serverWrite(Element.make("failed", {
            namespace: SM,
            attributes: h === undefined ? {} : { h: String(h) },
            children: [Element.make("item-not-found", { namespace: Namespaces.STANZAS })]
          }))
          return
        }
        trim(known, h)
        if (known.expired) {
          sessions.delete(previd)
          tombstones.set(previd, known.inbound)
          // Its own unacknowledged stanzas go back to the server's caller (offline storage).
          serverQueue.unshift(...known.outUnacked)
          serverWrite(sm("failed", { h: String(known.inbound) }))
          return
        }
        current = previd
        serverWrite(sm("resumed", { previd, h: String(known.inbound) }))
        for (const id of known.outUnacked) serverWrite(stanza(id))
        return
      }
      case "r":
        if (session !== undefined) serverWrite(sm("a", { h: String(session.inbound) }))
        return
      case "a":
        if (session !== undefined) trim(session, Number(Element.attribute(element, "h") ?? "0"))
        return
    }
  }

  const started = StreamManagement.make(options, now)
  state = started.state
  perform(started.actions)

  const apply = (op: Op) => {
    switch (op._tag) {
      case "ClientSend": {
        const id = appQueue.shift() ?? `c${clientSent++}`
        if (!appSentSoFar.includes(id)) appSentSoFar.push(id)
        const next = stepWith(state, { _tag: "Send", element: stanza(id) }, now)
        state = next.state
        if (next.actions.some((a) => a._tag === "Refused")) appQueue.unshift(id)
        perform(next.actions)
        return
      }
      case "ServerSend": {
        const session = current === undefined ? undefined : sessions.get(current)
        if (session === undefined || !link.up) return
        const id = serverQueue.shift() ?? `s-${serverSent++}`
        session.outUnacked.push(id)
        serverWrite(stanza(id))
        return
      }
      case "Flush":
        feed({ _tag: "Flush", deferred: op.deferred })
        return
      case "DeliverToServer": {
        const element = link.toServer.shift()
        if (element !== undefined) serverReceive(element)
        return
      }
      case "DeliverToClient": {
        const element = link.toClient.shift()
        if (element === undefined) return
        if (element.namespace === Namespaces.JABBER_CLIENT) clientGot.push(idOf(element))
        feed({ _tag: "Received", element })
        return
      }
      case "ServerRequest":
        if (current !== undefined) serverWrite(sm("r"))
        return
      case "Kill":
        kill()
        feed({ _tag: "LinkLost" })
        return
      case "BlackHole":
        link.silent = true
        link.toServer = []
        link.toClient = []
        return
      case "Expire":
        if (current !== undefined) {
          const session = sessions.get(current)
          if (session !== undefined) session.expired = true
        }
        kill()
        feed({ _tag: "LinkLost" })
        return
      case "Restart":
        restarts++
        for (const session of sessions.values()) serverQueue.unshift(...session.outUnacked)
        sessions.clear()
        tombstones.clear()
        kill()
        feed({ _tag: "LinkLost" })
        return
      case "Advance": {
        now += op.ms
        const deadline = StreamManagement.nextDeadline(state)
        if (deadline !== undefined && deadline <= now) feed({ _tag: "Tick" })
        return
      }
    }
  }

  for (const op of ops) apply(op)

  // Settle: let everything through, and time find any black hole, until both callers have everything.
  for (let round = 0; round < 200; round++) {
    while (appQueue.length > 0) apply({ _tag: "ClientSend" })
    apply({ _tag: "Flush" })
    while (serverQueue.length > 0 && current !== undefined && link.up && !link.silent) apply({ _tag: "ServerSend" })
    if (current !== undefined) apply({ _tag: "ServerRequest" })
    let moved = true
    while (moved) {
      moved = link.toServer.length > 0 || link.toClient.length > 0
      apply({ _tag: "DeliverToServer" })
      apply({ _tag: "DeliverToClient" })
    }
    const quiet = appQueue.length === 0 && serverQueue.length === 0 && StreamManagement.unacknowledged(state).length === 0 &&
      [...sessions.values()].every((s) => s.outUnacked.length === 0) && state._tag === "Enabled" && !link.silent
    if (quiet) break
    apply({ _tag: "Advance", ms: 5_000 })
  }

  return { serverGot, clientGot, clientSent, serverSent, handBacks, restarts, protocolErrors }
}
