/**
 * What the connection manager granted in its session creation response
 * (XEP-0124 §7.2), with the XEP's defaults for what it left out.
 *
 * @since 0.1.0
 */
import { Result } from "effect"
import * as Element from "../xml/Element.js"
import { BoshError } from "./BoshError.js"

/**
 * A BOSH protocol version, compared as two integers (`1.11` is after `1.6`).
 *
 * @since 0.1.0
 */
export interface Version {
  readonly major: number
  readonly minor: number
}

/**
 * @since 0.1.0
 */
export interface SessionParameters {
  readonly sid: string
  /** Seconds the manager may hold a request. */
  readonly wait: number
  /** Most simultaneous requests; absent means `hold + 1`, the XEP's recommended value. */
  readonly requests: number
  /** Most requests the manager keeps waiting. */
  readonly hold: number
  /** Seconds with no request held before the manager drops the session; absent: no limit. */
  readonly inactivity: number | undefined
  /** Shortest allowed interval between empty polls, seconds; absent: 0. */
  readonly polling: number
  /** Longest pause the manager grants, seconds; absent: pausing not offered. */
  readonly maxpause: number | undefined
  /** The manager will set `ack` on its responses. */
  readonly acknowledgements: boolean
  /** Absent `ver` means 1.5 (what Openfire relies on); `legacy` then tells so. */
  readonly version: Version
  readonly legacy: boolean
  readonly accept: ReadonlyArray<string>
  readonly charsets: ReadonlyArray<string>
  readonly authid: string | undefined
  readonly from: string | undefined
  /** XEP-0206 `xmpp:version` of the answer (the stream version); absent when not sent. */
  readonly xmppVersion?: string | undefined
}

/**
 * What the client asked for, to check the answer against.
 *
 * @since 0.1.0
 */
export interface Requested {
  readonly rid: number
  readonly wait: number
  readonly hold: number
}

const invalid = (message: string) => new BoshError({ reason: "invalid-session-response", message })

const integer = (body: Element.Element, name: string): Result.Result<number | undefined, BoshError> => {
  const raw = Element.attribute(body, name)
  if (raw === undefined) return Result.succeed(undefined)
  if (!/^\s*\d{1,15}\s*$/.test(raw)) {
    return Result.fail(invalid(`'${name}' must be a non-negative integer, got ${JSON.stringify(raw)}`))
  }
  return Result.succeed(Number(raw))
}

/**
 * Parses a `ver` value; absent means 1.5.
 *
 * @since 0.1.0
 */
export const parseVersion = (raw: string | undefined): Version | undefined => {
  if (raw === undefined) return { major: 1, minor: 5 }
  const match = /^\s*(\d{1,6})\.(\d{1,6})\s*$/.exec(raw)
  if (match === null) return undefined
  return { major: Number(match[1]), minor: Number(match[2]) }
}

const list = (raw: string | undefined): ReadonlyArray<string> =>
  raw === undefined ? [] : raw.split(/[\s,]+/).filter((token) => token.length > 0)

/**
 * Reads the session creation response, refusing impossible values.
 *
 * @since 0.1.0
 */
export const parse = (body: Element.Element, requested: Requested): Result.Result<SessionParameters, BoshError> =>
  Result.gen(function*() {
    const sid = Element.attribute(body, "sid")
    if (sid === undefined || sid.length === 0) return yield* Result.fail(invalid("the response has no 'sid'"))
    const wait = yield* integer(body, "wait")
    if (wait === undefined) return yield* Result.fail(invalid("the response has no 'wait'"))
    if (wait > requested.wait) {
      return yield* Result.fail(invalid(`'wait' ${wait} is longer than the ${requested.wait} asked for`))
    }
    const hold = (yield* integer(body, "hold")) ?? requested.hold
    if (hold > requested.hold) {
      return yield* Result.fail(invalid(`'hold' ${hold} is more than the ${requested.hold} asked for`))
    }
    const requests = (yield* integer(body, "requests")) ?? hold + 1
    if (requests < 1) return yield* Result.fail(invalid("'requests' must be at least 1"))
    const inactivity = yield* integer(body, "inactivity")
    const polling = (yield* integer(body, "polling")) ?? 0
    if (inactivity !== undefined && inactivity > 0 && polling >= inactivity) {
      return yield* Result.fail(invalid(`'polling' ${polling} leaves no time inside 'inactivity' ${inactivity}`))
    }
    const maxpause = yield* integer(body, "maxpause")
    const ackRaw = Element.attribute(body, "ack")
    if (ackRaw !== undefined && ackRaw.trim() !== String(requested.rid)) {
      return yield* Result.fail(invalid(`'ack' ${JSON.stringify(ackRaw)} is not the rid of the creation request`))
    }
    const verRaw = Element.attribute(body, "ver")
    const version = parseVersion(verRaw)
    if (version === undefined) return yield* Result.fail(invalid(`'ver' ${JSON.stringify(verRaw)} is not major.minor`))
    return {
      sid,
      wait,
      requests,
      hold,
      inactivity: inactivity === undefined || inactivity === 0 ? undefined : inactivity,
      polling,
      maxpause,
      acknowledgements: ackRaw !== undefined,
      version,
      legacy: verRaw === undefined,
      accept: list(Element.attribute(body, "accept")),
      charsets: list(Element.attribute(body, "charsets")),
      authid: Element.attribute(body, "authid"),
      xmppVersion: Element.attribute(body, "xmpp:version"),
      from: Element.attribute(body, "from")
    }
  })
