/**
 * A scripted connection manager for driver tests: an in-memory `HttpClient`
 * that answers the session creation request at once and every later request
 * as the test says (a body, or never), counting the exchanges that are live
 * for each `rid`. It stands in where the test needs to control exactly what
 * one answer holds; the simulated manager covers the protocol itself.
 */
import { RequestWritten } from "@xmpp-core/client"
import { BodyParser, Element } from "@xmpp-core/protocol"
import { Effect, Layer, Result } from "effect"
import { HttpClient, HttpClientResponse } from "effect/http"

export const SID = "scripted-sid"

export const creationBody = (attributes = "") =>
  `<body xmlns='http://jabber.org/protocol/httpbind' sid='${SID}' wait='10' requests='2' hold='1' ` +
  `inactivity='60' polling='2' ver='1.11' authid='scripted' from='localhost'${attributes}/>`

/** How the manager answers a request after the creation: a body (XML text), or never (`undefined`). */
export type Answer = (request: Element.Element, text: string) => string | undefined

export interface Script {
  /** Every request body after the creation, in arrival order. */
  readonly requests: Array<string>
  /** The creation request's text. */
  creation: string | undefined
  /** The most exchanges ever live at once for one rid. */
  readonly maxLivePerRid: () => number
}

const encoder = new TextEncoder()

export const make = (answer: Answer): { readonly script: Script; readonly layer: Layer.Layer<HttpClient.HttpClient> } => {
  const live = new Map<string, number>()
  let maxLive = 0
  const script: Script = { requests: [], creation: undefined, maxLivePerRid: () => maxLive }
  const respond = (text: string): Effect.Effect<string> => {
    const parsed = BodyParser.parseBody(encoder.encode(text))
    if (Result.isFailure(parsed)) return Effect.die(parsed.failure)
    const request = parsed.success
    if (Element.attribute(request, "sid") === undefined) {
      script.creation = text
      return Effect.succeed(creationBody())
    }
    script.requests.push(text)
    const reply = answer(request, text)
    return reply === undefined ? Effect.never : Effect.succeed(reply)
  }
  const layer = Layer.succeed(HttpClient.HttpClient)(
    HttpClient.make((request) =>
      Effect.gen(function*() {
        const bytes = request.body._tag === "Uint8Array" ? request.body.body : new Uint8Array()
        const text = new TextDecoder().decode(bytes)
        const rid = /\srid='(\d+)'/.exec(text)?.[1] ?? "?"
        const written = yield* Effect.service(RequestWritten.RequestWritten)
        written?.()
        const count = (live.get(rid) ?? 0) + 1
        live.set(rid, count)
        maxLive = Math.max(maxLive, count)
        const reply = yield* respond(text).pipe(
          Effect.ensuring(Effect.sync(() => live.set(rid, (live.get(rid) ?? 1) - 1)))
        )
        return HttpClientResponse.fromWeb(request, new Response(encoder.encode(reply), { status: 200 }))
      })
    )
  )
  return { script, layer }
}
