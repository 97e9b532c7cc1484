/**
 * A scripted Openfire-like connection manager: an in-memory `HttpClient`
 * layer that answers BOSH bodies the way Openfire does where it differs
 * from the XEPs (Openfire cannot be installed here; its quirks are known
 * from its users and from the 2008 Gajim work):
 *
 * - the session creation response has no `ver` (so the client must assume 1.5);
 * - stanzas inside `<body/>` carry no `xmlns` (they are `jabber:client`);
 * - the restart is recognized only with the literal `xmpp:restart` prefix,
 *   and its answer is an empty body: the features come on the next response;
 * - an unknown `sid` is answered with HTTP 404 and no body.
 *
 * Holds at most one request (`hold='1'`); what the server has to say goes to
 * the held request, or to the next request when none is held.
 */
import { RequestWritten } from "@xmpp-core/client"
import { BodyParser, Element } from "@xmpp-core/protocol"
import { Deferred, Effect, Layer, Result } from "effect"
import { HttpClient, HttpClientResponse } from "effect/http"

const BIND = "<body xmlns='http://jabber.org/protocol/httpbind'"
const SASL = "urn:ietf:params:xml:ns:xmpp-sasl"

export interface Script {
  /** Every request body, in arrival order. */
  readonly requests: Array<string>
  /** The server sends these stanzas (XML text, no `xmlns`) to the client. */
  readonly push: (xml: string) => Effect.Effect<void>
  /** The manager ends the session: the held request (or else the next one) is answered with this terminate body (XML text). */
  readonly terminate: (bodyXml: string) => Effect.Effect<void>
  /** The manager forgets the session: the held request and later ones get HTTP 404. */
  readonly forget: Effect.Effect<void>
  /** When false, the features after the restart never come (a broken manager). */
  sendFeaturesAfterRestart: boolean
}

interface Answer {
  readonly status: number
  readonly text: string
}

interface Held {
  readonly answer: Deferred.Deferred<Answer>
}

const encoder = new TextEncoder()

export const make = (): { readonly script: Script; readonly layer: Layer.Layer<HttpClient.HttpClient> } => {
  const outbox: Array<string> = []
  let held: Held | undefined
  let sid: string | undefined
  /** A terminate with no request held to carry it: the next request gets it. */
  let pendingTerminate: string | undefined
  let resource = "openfire"

  const flush = (): string => {
    const xml = outbox.join("")
    outbox.length = 0
    return xml
  }
  const body = (payload: string, attributes = "") =>
    payload.length === 0 ? `${BIND}${attributes}/>` : `${BIND}${attributes}>${payload}</body>`

  // Gives what is waiting to the held request, if any.
  const release = Effect.suspend(() => {
    if (held === undefined) return Effect.void
    const { answer } = held
    held = undefined
    return Deferred.succeed(answer, { status: 200, text: body(flush()) })
  })

  const script: Script = {
    requests: [],
    push: (xml) =>
      Effect.suspend(() => {
        outbox.push(xml)
        return release
      }),
    terminate: (bodyXml) =>
      Effect.suspend(() => {
        const waiting = held
        held = undefined
        if (waiting === undefined) {
          pendingTerminate = bodyXml
          return Effect.void
        }
        sid = undefined
        return Deferred.succeed(waiting.answer, { status: 200, text: bodyXml })
      }),
    forget: Effect.suspend(() => {
      sid = undefined
      const waiting = held
      held = undefined
      return waiting === undefined ? Effect.void : Deferred.succeed(waiting.answer, { status: 404, text: "" })
    }),
    sendFeaturesAfterRestart: true
  }

  const respond = (text: string): Effect.Effect<Answer> =>
    Effect.gen(function*() {
      const parsed = BodyParser.parseBody(encoder.encode(text))
      if (Result.isFailure(parsed)) return { status: 400, text: "" }
      const request = parsed.success
      const requestSid = Element.attribute(request, "sid")
      if (requestSid === undefined) {
        sid = "openfire-sid"
        // No `ver`: Openfire's answer; the client must assume 1.5.
        return {
          status: 200,
          text: body(
            `<stream:features><mechanisms xmlns='${SASL}'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`,
            ` sid='${sid}' wait='60' requests='2' hold='1' inactivity='30' polling='0' authid='openfire-1' from='localhost' xmlns:stream='http://etherx.jabber.org/streams'`
          )
        }
      }
      if (requestSid !== sid) return { status: 404, text: "" }
      if (pendingTerminate !== undefined) {
        const text = pendingTerminate
        pendingTerminate = undefined
        sid = undefined
        return { status: 200, text }
      }
      for (const child of Element.elements(request)) {
        if (child.name === "auth") outbox.push(`<success xmlns='${SASL}'/>`)
        if (child.name === "iq") {
          const bind = Element.elements(child)[0]
          const wanted = bind === undefined ? undefined : Element.child(bind, "resource", bind.namespace)
          if (wanted !== undefined) resource = Element.text(wanted)
          // No xmlns on the stanza: Openfire's way.
          outbox.push(
            `<iq type='result' id='${Element.attribute(child, "id") ?? ""}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@localhost/${resource}</jid></bind></iq>`
          )
        }
      }
      if (Element.attribute(request, "type") === "terminate") {
        yield* release
        sid = undefined
        return { status: 200, text: body("", " type='terminate'") }
      }
      // Only the literal prefix counts, as in Openfire.
      if (/\sxmpp:restart='true'/.test(text)) {
        yield* release
        if (script.sendFeaturesAfterRestart) {
          outbox.push("<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>")
        }
        // The restart's own answer carries no features.
        return { status: 200, text: body("") }
      }
      yield* release
      if (outbox.length > 0) return { status: 200, text: body(flush()) }
      const answer = yield* Deferred.make<Answer>()
      held = { answer }
      return yield* Deferred.await(answer)
    })

  const layer = Layer.succeed(HttpClient.HttpClient)(
    HttpClient.make((request) =>
      Effect.gen(function*() {
        const bytes = request.body._tag === "Uint8Array" ? request.body.body : new Uint8Array()
        const text = new TextDecoder().decode(bytes)
        script.requests.push(text)
        // The request reached the manager: the driver may send the next one.
        const written = yield* Effect.service(RequestWritten.RequestWritten)
        written?.()
        const answer = yield* respond(text)
        return HttpClientResponse.fromWeb(
          request,
          new Response(answer.text.length === 0 ? null : encoder.encode(answer.text), { status: answer.status })
        )
      })
    )
  )
  return { script, layer }
}
