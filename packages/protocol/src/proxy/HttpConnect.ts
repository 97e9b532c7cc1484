/**
 * The HTTP CONNECT handshake (RFC 9110 §9.3.6) as a pure machine: the request
 * bytes, then the proxy's response parsed incrementally from whatever chunks
 * arrive. A 2xx opens the tunnel; bytes after the response header belong to
 * the tunnel and come back as `leftover`.
 *
 * @since 0.1.0
 */
import { Bytes, Result } from "effect"
import { Base64 } from "effect/encoding"
import { encode as utf8 } from "../encoding/Utf8.js"
import { type Handshake, latin1, type Step } from "./Handshake.js"
import { ProxyHandshakeError } from "./ProxyHandshakeError.js"

/**
 * What to ask the proxy for.
 *
 * @since 0.1.0
 */
export interface Options {
  /** The target host name or IP literal (IPv6 with or without brackets). */
  readonly host: string
  readonly port: number
  /** Sent as `Proxy-Authorization: Basic` (RFC 7617) when present. */
  readonly credentials?: { readonly username: string; readonly password: string } | undefined
  /** Upper bound on the response header, in bytes (default 16 KiB): a proxy cannot make us buffer more. */
  readonly maxHeaderBytes?: number | undefined
}

/**
 * The machine waits for one thing only: the end of the response header.
 *
 * @since 0.1.0
 */
export interface AwaitingResponse {
  readonly _tag: "AwaitingResponse"
  /** Bytes received so far that are not yet a complete header. */
  readonly buffered: Uint8Array
  /** Offset in `buffered` before which no header end can start (avoids rescanning). */
  readonly scanned: number
  readonly maxHeaderBytes: number
}

/**
 * @since 0.1.0
 */
export type State = AwaitingResponse

/** 16 KiB: far above any real proxy's CONNECT answer, small enough to bound memory. */
const defaultMaxHeaderBytes = 16 * 1024

const LF = 0x0a
const CR = 0x0d



// RFC 3986 reg-name and IP-literal characters; anything else (space, CR, LF, "/", "@") could
// smuggle a second request line or header into the proxy.
const hostPattern = /^[A-Za-z0-9._~!$&'()*+,;=:%-]+$/
// RFC 7617 §2: the user-id cannot contain ":"; neither field may contain control characters.
const controlCharacter = /[\u0000-\u001f\u007f]/

const invalid = (message: string) => new ProxyHandshakeError({ reason: "InvalidRequest", message })

/**
 * The request target in authority form, `host:port`, with IPv6 literals bracketed.
 *
 * @since 0.1.0
 */
export const authority = (host: string, port: number): Result.Result<string, ProxyHandshakeError> => {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host
  if (bare.length === 0 || !hostPattern.test(bare)) return Result.fail(invalid(`invalid target host ${JSON.stringify(host)}`))
  if (!Number.isInteger(port) || port < 1 || port > 65535) return Result.fail(invalid(`invalid target port ${port}`))
  return Result.succeed(bare.includes(":") ? `[${bare}]:${port}` : `${bare}:${port}`)
}

/**
 * Builds the handshake: the CONNECT request to send first and the first state.
 * Fails with `InvalidRequest` when the options cannot be sent safely.
 *
 * @since 0.1.0
 */
export const make = (options: Options): Result.Result<Handshake<State>, ProxyHandshakeError> =>
  Result.flatMap(authority(options.host, options.port), (target) => {
    const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`]
    const credentials = options.credentials
    if (credentials !== undefined) {
      if (credentials.username.includes(":")) return Result.fail(invalid("a Basic user name cannot contain ':'"))
      if (controlCharacter.test(credentials.username) || controlCharacter.test(credentials.password)) {
        return Result.fail(invalid("credentials cannot contain control characters"))
      }
      lines.push(`Proxy-Authorization: Basic ${Base64.encode(utf8(`${credentials.username}:${credentials.password}`))}`)
    }
    const request = utf8(`${lines.join("\r\n")}\r\n\r\n`)
    const maxHeaderBytes = options.maxHeaderBytes ?? defaultMaxHeaderBytes
    return Result.succeed<Handshake<State>>({
      state: { _tag: "AwaitingResponse", buffered: new Uint8Array(0), scanned: 0, maxHeaderBytes },
      output: [request],
      step
    })
  })

/** Index just past the blank line that ends a header (CRLF CRLF, or bare LF tolerated per RFC 9112 §2.2), or -1. */
const headerEnd = (bytes: Uint8Array, from: number): number => {
  for (let i = from; i < bytes.length; i++) {
    if (bytes[i] !== LF) continue
    if (bytes[i + 1] === LF) return i + 2
    if (bytes[i + 1] === CR && bytes[i + 2] === LF) return i + 3
  }
  return -1
}

const statusLine = /^HTTP\/1\.[01] ([1-9][0-9]{2})(?: [^\r\n]*)?$/

const badResponse = (message: string) => new ProxyHandshakeError({ reason: "BadResponse", message })

/** Parses a complete header; returns the status or an error. */
const parseHeader = (header: string): Result.Result<number, ProxyHandshakeError> => {
  const lines = header.split(/\r?\n/)
  const first = lines[0] ?? ""
  const match = statusLine.exec(first)
  if (match === null || match[1] === undefined) {
    return Result.fail(badResponse(`not an HTTP/1.x status line: ${JSON.stringify(first.slice(0, 80))}`))
  }
  for (const line of lines.slice(1)) {
    if (line.length > 0 && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+:/.test(line)) {
      return Result.fail(badResponse(`malformed header field: ${JSON.stringify(line.slice(0, 80))}`))
    }
  }
  return Result.succeed(Number(match[1]))
}

/**
 * Feeds bytes from the proxy. Informational (1xx) responses are skipped; a 2xx
 * opens the tunnel, 407 (or 401) fails with `AuthRequired`, any other status with
 * `Refused` carrying the status.
 *
 * @since 0.1.0
 */
export const step = (state: State, bytes: Uint8Array): Step<State> => {
  let buffered = Bytes.concat([state.buffered, bytes])
  let scanned = state.scanned
  for (;;) {
    const end = headerEnd(buffered, scanned)
    if (end === -1) {
      if (buffered.length > state.maxHeaderBytes) {
        return { _tag: "Failed", error: badResponse(`response header exceeds ${state.maxHeaderBytes} bytes`) }
      }
      // A header end starts at an LF: the last two bytes may begin one that is not complete yet.
      return { _tag: "Continue", state: { ...state, buffered, scanned: Math.max(0, buffered.length - 2) }, output: [] }
    }
    if (end > state.maxHeaderBytes) {
      return { _tag: "Failed", error: badResponse(`response header exceeds ${state.maxHeaderBytes} bytes`) }
    }
    const parsed = parseHeader(latin1(buffered.subarray(0, end)).replace(/\r?\n\r?\n$/, ""))
    if (Result.isFailure(parsed)) return { _tag: "Failed", error: parsed.failure }
    const status = parsed.success
    const rest = buffered.subarray(end)
    if (status >= 100 && status < 200) {
      buffered = rest
      scanned = 0
      continue
    }
    if (status >= 200 && status < 300) return { _tag: "Established", output: [], leftover: rest }
    // 407 is the proxy's challenge. To a CONNECT, a 401 can only come from the proxy too:
    // tinyproxy 1.11 answers rejected Proxy-Authorization credentials that way.
    if (status === 407 || status === 401) {
      return {
        _tag: "Failed",
        error: new ProxyHandshakeError({ reason: "AuthRequired", message: `proxy requires authentication (${status})`, status })
      }
    }
    return {
      _tag: "Failed",
      error: new ProxyHandshakeError({ reason: "Refused", message: `proxy refused CONNECT with status ${status}`, status })
    }
  }
}
