/**
 * A test `HttpClient` Layer that routes every POST to the pure simulated
 * connection manager, in memory, on the Effect `Clock` (so `TestClock`
 * drives the manager's `wait` and `inactivity` too).
 */
import { BodyParser, type Element, XmlSerializer } from "@xmpp-core/protocol"
import { BoshSimulatedConnectionManager as CM } from "@xmpp-core/protocol/testing"
import { RequestWritten } from "@xmpp-core/client"
import { Clock, Deferred, Effect, Layer, Result } from "effect"
import { HttpClient, HttpClientResponse } from "effect/http"

export interface Faults {
  /** Exchanges (numbered from 0) whose request never reaches the manager and never comes back. */
  readonly hang?: ReadonlySet<number> | undefined
  /** From this exchange on, every request is refused (the manager is gone). */
  readonly goneFrom?: number | undefined
  /** Terminal answers carry their condition only in the HTTP reason phrase, with an empty body. */
  readonly conditionOnlyInReasonPhrase?: boolean | undefined
}

export interface Recorder {
  /** Every request body text, in order of posting. */
  readonly posted: Array<string>
  /** Set by the layer: the server sends stanzas through the manager. */
  push?: (stanzas: ReadonlyArray<Element.Element>) => Effect.Effect<void>
}

const encoder = new TextEncoder()

export const layerTestSimulatedManager = (
  cm: CM.ConnectionManager,
  faults: Faults = {},
  recorder: Recorder = { posted: [] }
): Layer.Layer<HttpClient.HttpClient> =>
  Layer.effect(
    HttpClient.HttpClient,
    Effect.gen(function*() {
      const waiting = new Map<number, Deferred.Deferred<CM.Answer>>()
      let exchanges = 0
      const settle = (answers: ReadonlyArray<CM.Answer>) =>
        Effect.forEach(answers, (answer) =>
          Effect.forEach(answer.exchanges, (exchange) => {
            const deferred = waiting.get(exchange)
            waiting.delete(exchange)
            return deferred === undefined ? Effect.void : Deferred.succeed(deferred, answer)
          }, { discard: true }), { discard: true })
      recorder.push = (stanzas) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => settle(CM.push(cm, stanzas, now)))
      // The manager's own clock: answer after `wait`, notice inactivity.
      yield* Effect.forkScoped(Effect.forever(
        Effect.gen(function*() {
          yield* Effect.sleep("100 millis")
          yield* settle(CM.tick(cm, yield* Clock.currentTimeMillis))
        })
      ))
      return HttpClient.make((request) =>
        Effect.gen(function*() {
          const exchange = exchanges++
          const bytes = request.body._tag === "Uint8Array" ? request.body.body : new Uint8Array()
          const text = new TextDecoder().decode(bytes)
          recorder.posted.push(text)
          if (faults.goneFrom !== undefined && exchange >= faults.goneFrom) {
            return HttpClientResponse.fromWeb(request, new Response(null, { status: 502 }))
          }
          if (faults.hang?.has(exchange) === true) return yield* Effect.never
          const parsed = BodyParser.parseBody(bytes)
          if (Result.isFailure(parsed)) {
            return HttpClientResponse.fromWeb(request, new Response(null, { status: 400 }))
          }
          // The request reached the manager: the driver may send the next one.
          const written = yield* Effect.service(RequestWritten.RequestWritten)
          written?.()
          const deferred = yield* Deferred.make<CM.Answer>()
          waiting.set(exchange, deferred)
          const body = parsed.success
          const now = yield* Clock.currentTimeMillis
          yield* settle(CM.receive(cm, exchange, {
            text,
            attributes: body.attributes,
            payloads: body.children.filter((child) => typeof child !== "string")
          }, now))
          const answer = yield* Deferred.await(deferred)
          const phraseOnly = faults.conditionOnlyInReasonPhrase === true && answer.reasonPhrase !== "OK"
          const reply = phraseOnly
            ? "<body xmlns='http://jabber.org/protocol/httpbind'/>"
            : XmlSerializer.toXml(answer.body)
          return HttpClientResponse.fromWeb(
            request,
            new Response(encoder.encode(reply), { status: answer.status, statusText: answer.reasonPhrase })
          )
        })
      )
    })
  )
