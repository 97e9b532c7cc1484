/**
 * What the demo prints. Results go to stdout; progress, the XML console and
 * errors go to stderr, so stdout stays usable in a pipe. Everything goes
 * through Effect's `Console` reference, which tests replace to capture it.
 *
 * @since 0.1.0
 */
import type { Traffic } from "@xmpp-core/client"
import { Console, Effect } from "effect"

/**
 * A result line on stdout.
 *
 * @since 0.1.0
 */
export const result = (line: string) => Console.log(line)

/**
 * A progress line on stderr.
 *
 * @since 0.1.0
 */
export const progress = (line: string) => Console.error(`» ${line}`)

/**
 * The error line of a failed run: `error: <reason>: <message> (<condition>)`.
 *
 * @since 0.1.0
 */
export const failure = (reason: string, message: string, condition?: string | undefined) =>
  Console.error(
    `error: ${reason}: ${message}${condition === undefined || message.includes(condition) ? "" : ` (${condition})`}`
  )

/**
 * Milliseconds with one decimal, for timings.
 *
 * @since 0.1.0
 */
export const ms = (millis: number): string => `${millis < 10 ? millis.toFixed(1) : Math.round(millis)} ms`

/**
 * Progress read off the outgoing traffic, so the CLI can say which step a
 * login is at without the client growing an event API. It only looks at the
 * names the client writes; it draws no protocol conclusion from them.
 */
const stepOf = (xml: string): string | undefined => {
  if (xml.startsWith("<starttls")) return "starting TLS"
  if (xml.startsWith("<auth")) {
    const mechanism = /mechanism=['"]([^'"]+)['"]/.exec(xml)?.[1]
    return `authenticating with ${mechanism ?? "SASL"}`
  }
  if (xml.includes("urn:ietf:params:xml:ns:xmpp-bind")) return "binding a resource"
  return undefined
}

/**
 * The `onTraffic` hook of a login: progress steps with the time since
 * `startedAt`, and with `debug` the XML console (`→` out, `←` in). The client
 * has already redacted SASL payloads before this sees them.
 *
 * @since 0.1.0
 */
export const trafficPrinter = (options: {
  readonly label: string
  readonly debug: boolean
  readonly startedAt: number
}): Effect.Effect<Traffic.OnTraffic> =>
  Console.consoleWith((console) =>
    Effect.succeed<Traffic.OnTraffic>((direction, xml) => {
    if (options.debug) console.error(`${options.label} ${direction === "out" ? "→" : "←"} ${xml}`)
    if (direction === "out") {
      const step = stepOf(xml)
      if (step !== undefined) console.error(`» ${options.label} ${step} (${ms(performance.now() - options.startedAt)})`)
    }
  }))
