/**
 * Replays login transcripts recorded from the real Prosody and ejabberd
 * (scripts/record-transcripts.mjs) through the negotiation machine: the
 * recorded server side goes in, with the same client nonce, and what the
 * machine sends must be exactly what the recording client sent (and the real
 * server accepted), all the way to Bound with the recorded JID.
 */
import { assert, describe, it } from "@effect/vitest"
import { BodyParser, Element, Jid, Negotiation, XmlStreamEvent, XmlStreamParser } from "@xmpp-core/protocol"
import { Result } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { computeWithNode } from "../sasl/NodeScramCompute.js"

interface Transcript {
  readonly server: string
  readonly transport?: "bosh" | undefined
  readonly mechanism: "PLAIN" | "SCRAM-SHA-1" | "SCRAM-SHA-256" | "SCRAM-SHA-512" | "SCRAM-SHA-256-PLUS"
  readonly domain: string
  readonly username: string
  readonly password: string
  readonly resource: string
  readonly clientNonce: string
  readonly tlsVersion: string
  readonly jid: string
  /** The recorded connection's binding data (base64), for -PLUS recordings. */
  readonly channelBinding?: { readonly type: "tls-unique" | "tls-exporter" | "tls-server-end-point"; readonly data: string }
  /** TCP: one segment per XML stream (a restart or TLS begins a new one). */
  readonly segments: ReadonlyArray<{ readonly client: string; readonly server: string; readonly then: string }>
  /** BOSH: each HTTP request body and the body that answered it. */
  readonly exchanges: ReadonlyArray<{ readonly request: string; readonly response: string }>
}

const directory = join(dirname(fileURLToPath(import.meta.url)), "../fixtures/transcripts")
const files = readdirSync(directory).filter((file) => file.endsWith(".json")).sort()

// Each segment is one XML stream (a restart begins a new document).
const parseStream = (text: string): ReadonlyArray<XmlStreamEvent.XmlStreamEvent> =>
  Result.getOrThrow(XmlStreamParser.make().push(new TextEncoder().encode(text)))

// A comparable form of an element: names, namespaces, attributes other than
// namespace declarations, and children, with whitespace-only text dropped.
const canonical = (node: Element.Node): unknown =>
  typeof node === "string"
    ? node.trim()
    : {
      name: node.name,
      namespace: node.namespace,
      attributes: Object.fromEntries(
        Object.entries(node.attributes).filter(([key]) => !key.startsWith("xmlns")).sort(([a], [b]) => a.localeCompare(b))
      ),
      children: node.children.map(canonical).filter((child) => child !== "")
    }

const headerOf = (header: Element.Element) => ({
  name: header.name,
  namespace: header.namespace,
  to: Element.attribute(header, "to"),
  account: Element.attribute(header, `from`),
  version: Element.attribute(header, "version")
})

const replay = (transcript: Transcript) => {
  let now = 0
  let transition = Negotiation.make({
    transport: "tcp",
    domain: transcript.domain,
    credentials: { _tag: "Password", username: transcript.username, password: transcript.password },
    clientNonce: transcript.clientNonce,
    resource: transcript.resource,
    mechanisms: [transcript.mechanism]
  }, now)
  // What the machine sent, split into one list per stream.
  const sent: Array<Array<unknown>> = [[]]
  const collect = (actions: ReadonlyArray<Negotiation.Action>) => {
    for (const action of actions) {
      if (action._tag === "RestartStream") sent.push([])
      else if (action._tag === "SendStreamHeader") sent.at(-1)?.push(headerOf(action.header))
      else if (action._tag === "Send") sent.at(-1)?.push(canonical(action.element))
      else if (action._tag === "ComputeScram") {
        transition = Negotiation.step(transition.state, Negotiation.scramComputed(computeWithNode(action.request)), now)
        collect(transition.actions)
      }
    }
  }
  collect(transition.actions)
  for (const segment of transcript.segments) {
    for (const event of parseStream(segment.server)) {
      now += 1
      transition = Negotiation.step(transition.state, event, now)
      collect(transition.actions)
    }
    if (segment.then === "starttls") {
      transition = Negotiation.step(
        transition.state,
        Negotiation.tlsEstablished({
          tlsVersion: transcript.tlsVersion,
          bindings: transcript.channelBinding === undefined ? [] : [{
            type: transcript.channelBinding.type,
            data: new Uint8Array(Buffer.from(transcript.channelBinding.data, "base64"))
          }]
        }),
        now
      )
      collect(transition.actions)
    }
  }
  const recorded = transcript.segments.map((segment) =>
    parseStream(segment.client).map((event) =>
      event._tag === "StreamOpen" ? headerOf(event.header) : event._tag === "StreamElement" ? canonical(event.element) : "close"
    )
  )
  return { sent, recorded, state: transition.state }
}

const parseBody = (text: string): Element.Element =>
  Result.getOrThrow(BodyParser.parseBody(new TextEncoder().encode(text)))

// Over BOSH the transport, not the machine, wraps elements in <body/>: the
// machine's Sends must be the children of the recorded request bodies, and
// its RestartStream the `xmpp:restart='true'` request.
const replayBosh = (transcript: Transcript) => {
  let now = 0
  let transition = Negotiation.make({
    transport: "bosh",
    domain: transcript.domain,
    credentials: { _tag: "Password", username: transcript.username, password: transcript.password },
    clientNonce: transcript.clientNonce,
    resource: transcript.resource,
    mechanisms: [transcript.mechanism],
    secure: true
  }, now)
  const sent: Array<unknown> = []
  const collect = (actions: ReadonlyArray<Negotiation.Action>) => {
    for (const action of actions) {
      if (action._tag === "RestartStream") sent.push("restart")
      else if (action._tag === "Send") sent.push(canonical(action.element))
      else if (action._tag === "SendStreamHeader") sent.push("unexpected stream header")
      else if (action._tag === "ComputeScram") {
        transition = Negotiation.step(transition.state, Negotiation.scramComputed(computeWithNode(action.request)), now)
        collect(transition.actions)
      }
    }
  }
  collect(transition.actions)
  transcript.exchanges.forEach((exchange, index) => {
    const body = parseBody(exchange.response)
    // The transport turns the session creation response into the stream header.
    const events = [
      ...(index === 0 ? [XmlStreamEvent.streamOpen(Element.withChildren(body, []))] : []),
      ...Element.elements(body).map(XmlStreamEvent.streamElement)
    ]
    for (const event of events) {
      now += 1
      transition = Negotiation.step(transition.state, event, now)
      collect(transition.actions)
    }
  })
  const recorded = transcript.exchanges.slice(1).flatMap((exchange) => {
    const body = parseBody(exchange.request)
    return Element.attribute(body, "xmpp:restart") === "true" ? ["restart"] : Element.elements(body).map(canonical)
  })
  return { sent, recorded, state: transition.state }
}

describe("Recorded transcripts from Prosody and ejabberd", () => {
  it("are present for both servers: PLAIN, SCRAM-SHA-1, -256, -256-PLUS over TCP; PLAIN, SCRAM-SHA-1 over BOSH", () => {
    for (const server of ["prosody", "ejabberd"]) {
      for (const mechanism of ["plain", "scram-sha-1", "scram-sha-256", "scram-sha-256-plus"]) {
        assert.include(files, `${server}-${mechanism}.json`)
      }
      for (const mechanism of ["plain", "scram-sha-1"]) assert.include(files, `${server}-bosh-${mechanism}.json`)
    }
  })

  for (const file of files) {
    it(`replays ${file}: same client messages, bound with the recorded JID`, () => {
      const transcript: Transcript = JSON.parse(readFileSync(join(directory, file), "utf8"))
      const { recorded, sent, state } = transcript.transport === "bosh" ? replayBosh(transcript) : replay(transcript)
      assert.deepStrictEqual(sent, recorded)
      assert.strictEqual(state._tag, "Bound")
      if (state._tag === "Bound") assert.strictEqual(Jid.format(state.jid), transcript.jid)
    })
  }
})
