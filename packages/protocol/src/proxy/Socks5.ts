/**
 * The SOCKS5 client handshake (RFC 1928) with username/password
 * sub-negotiation (RFC 1929) as a pure machine: greeting, optional
 * authentication, then CONNECT. Host names are sent as a domain name
 * (ATYP X'03') so the proxy resolves them; IP literals are sent as addresses.
 *
 * @since 0.1.0
 */
import { Bytes, Result } from "effect"
import { encode as utf8 } from "../encoding/Utf8.js"
import { type Handshake, type Step } from "./Handshake.js"
import { ProxyHandshakeError, type ProxyHandshakeReason } from "./ProxyHandshakeError.js"

/**
 * What to ask the proxy for.
 *
 * @since 0.1.0
 */
export interface Options {
  readonly host: string
  readonly port: number
  /** Offered as method X'02' (RFC 1929) beside X'00' (no authentication) when present. */
  readonly credentials?: { readonly username: string; readonly password: string } | undefined
}

/**
 * The states, named for what the machine waits for.
 *
 * @since 0.1.0
 */
export type State =
  | { readonly _tag: "AwaitingMethod"; readonly buffered: Uint8Array; readonly offered: ReadonlyArray<number>; readonly auth: Uint8Array | undefined; readonly connect: Uint8Array }
  | { readonly _tag: "AwaitingAuthStatus"; readonly buffered: Uint8Array; readonly connect: Uint8Array }
  | { readonly _tag: "AwaitingReply"; readonly buffered: Uint8Array }

const VERSION = 0x05
const AUTH_VERSION = 0x01
const METHOD_NONE = 0x00
const METHOD_USERNAME_PASSWORD = 0x02
const METHOD_NO_ACCEPTABLE = 0xff
const CMD_CONNECT = 0x01
const ATYP_IPV4 = 0x01
const ATYP_DOMAIN = 0x03
const ATYP_IPV6 = 0x04


const invalid = (message: string) => new ProxyHandshakeError({ reason: "InvalidRequest", message })
const badResponse = (message: string) => new ProxyHandshakeError({ reason: "BadResponse", message })

/**
 * The reason for each failure reply code of RFC 1928 §6.
 *
 * @since 0.1.0
 */
export const replyReason = (code: number): ProxyHandshakeReason => {
  switch (code) {
    case 0x01: return "GeneralFailure"
    case 0x02: return "ConnectionNotAllowed"
    case 0x03: return "NetworkUnreachable"
    case 0x04: return "HostUnreachable"
    case 0x05: return "ConnectionRefused"
    case 0x06: return "TtlExpired"
    case 0x07: return "CommandNotSupported"
    case 0x08: return "AddressTypeNotSupported"
    default: return "UnassignedReplyCode"
  }
}

const ipv4 = (host: string): Uint8Array | undefined => {
  const parts = host.split(".")
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) return undefined
  return Uint8Array.from(parts.map(Number))
}

const ipv6 = (host: string): Uint8Array | undefined => {
  if (!/^[0-9A-Fa-f:.]+$/.test(host) || !host.includes(":")) return undefined
  let text = host
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const lastColon = text.lastIndexOf(":")
  const tail = text.slice(lastColon + 1)
  if (tail.includes(".")) {
    const v4 = ipv4(tail)
    if (v4 === undefined) return undefined
    const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16)
    text = `${text.slice(0, lastColon + 1)}${hex(v4[0] ?? 0, v4[1] ?? 0)}:${hex(v4[2] ?? 0, v4[3] ?? 0)}`
  }
  const halves = text.split("::")
  if (halves.length > 2) return undefined
  const groups = (s: string) => (s === "" ? [] : s.split(":"))
  const head = groups(halves[0] ?? "")
  const rest = halves.length === 2 ? groups(halves[1] ?? "") : []
  const missing = 8 - head.length - rest.length
  if (halves.length === 1 ? head.length !== 8 : missing < 1) return undefined
  const all = [...head, ...Array.from({ length: halves.length === 2 ? missing : 0 }, () => "0"), ...rest]
  if (!all.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return undefined
  const out = new Uint8Array(16)
  all.forEach((g, i) => {
    const value = parseInt(g, 16)
    out[i * 2] = value >> 8
    out[i * 2 + 1] = value & 0xff
  })
  return out
}

/**
 * The DST.ADDR field with its ATYP byte: an IPv4 or IPv6 literal as an address,
 * anything else as a domain name for the proxy to resolve.
 *
 * @since 0.1.0
 */
export const destinationAddress = (host: string): Result.Result<Uint8Array, ProxyHandshakeError> => {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host
  const v4 = ipv4(bare)
  if (v4 !== undefined) return Result.succeed(Bytes.concat([Uint8Array.of(ATYP_IPV4), v4]))
  const v6 = ipv6(bare)
  if (v6 !== undefined) return Result.succeed(Bytes.concat([Uint8Array.of(ATYP_IPV6), v6]))
  const name = utf8(bare)
  if (name.length === 0 || name.length > 255) return Result.fail(invalid("a SOCKS5 domain name must be 1 to 255 bytes"))
  if (!/^[A-Za-z0-9._-]+$/.test(bare)) return Result.fail(invalid(`invalid target host ${JSON.stringify(host)}`))
  return Result.succeed(Bytes.concat([Uint8Array.of(ATYP_DOMAIN, name.length), name]))
}

const usernamePasswordRequest = (username: string, password: string): Result.Result<Uint8Array, ProxyHandshakeError> => {
  const user = utf8(username)
  const pass = utf8(password)
  // RFC 1929 §2: both fields are 1 to 255 octets.
  if (user.length < 1 || user.length > 255) return Result.fail(invalid("a SOCKS5 user name must be 1 to 255 bytes"))
  if (pass.length < 1 || pass.length > 255) return Result.fail(invalid("a SOCKS5 password must be 1 to 255 bytes"))
  const out = new Uint8Array(3 + user.length + pass.length)
  out[0] = AUTH_VERSION
  out[1] = user.length
  out.set(user, 2)
  out[2 + user.length] = pass.length
  out.set(pass, 3 + user.length)
  return Result.succeed(out)
}

/**
 * Builds the handshake: the greeting to send first and the first state.
 * Fails with `InvalidRequest` when the options cannot be encoded.
 *
 * @since 0.1.0
 */
export const make = (options: Options): Result.Result<Handshake<State>, ProxyHandshakeError> => {
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
    return Result.fail(invalid(`invalid target port ${options.port}`))
  }
  const address = destinationAddress(options.host)
  if (Result.isFailure(address)) return Result.fail(address.failure)
  const connect = Bytes.concat([
    Uint8Array.of(VERSION, CMD_CONNECT, 0x00),
    address.success,
    Uint8Array.of(options.port >> 8, options.port & 0xff)
  ])
  let auth: Uint8Array | undefined
  if (options.credentials !== undefined) {
    const request = usernamePasswordRequest(options.credentials.username, options.credentials.password)
    if (Result.isFailure(request)) return Result.fail(request.failure)
    auth = request.success
  }
  const offered = auth === undefined ? [METHOD_NONE] : [METHOD_NONE, METHOD_USERNAME_PASSWORD]
  return Result.succeed<Handshake<State>>({
    state: { _tag: "AwaitingMethod", buffered: new Uint8Array(0), offered, auth, connect },
    output: [Uint8Array.of(VERSION, offered.length, ...offered)],
    step
  })
}

const failed = (error: ProxyHandshakeError): Step<State> => ({ _tag: "Failed", error })

/** Length of the CONNECT reply (header, address, port) once its address type is known; -1 for an unknown type. */
const replyLength = (bytes: Uint8Array): number => {
  switch (bytes[3]) {
    case ATYP_IPV4: return 4 + 4 + 2
    case ATYP_IPV6: return 4 + 16 + 2
    case ATYP_DOMAIN: return 4 + 1 + (bytes[4] ?? 0) + 2
    default: return -1
  }
}

/**
 * Feeds bytes from the proxy.
 *
 * @since 0.1.0
 */
export const step = (state: State, bytes: Uint8Array): Step<State> => {
  const buffered = Bytes.concat([state.buffered, bytes])
  switch (state._tag) {
    case "AwaitingMethod": {
      if (buffered.length < 2) return { _tag: "Continue", state: { ...state, buffered }, output: [] }
      if (buffered[0] !== VERSION) return failed(badResponse(`method selection has version ${buffered[0]}, not 5`))
      const method = buffered[1] ?? METHOD_NO_ACCEPTABLE
      const rest = buffered.subarray(2)
      if (method === METHOD_NO_ACCEPTABLE) {
        return failed(new ProxyHandshakeError({
          reason: "NoAcceptableMethods",
          message: state.auth === undefined
            ? "the proxy accepts none of the offered methods (it may require a user name and password)"
            : "the proxy accepts neither no authentication nor username/password"
        }))
      }
      if (!state.offered.includes(method)) return failed(badResponse(`the proxy chose method ${method}, which was not offered`))
      if (method === METHOD_USERNAME_PASSWORD && state.auth !== undefined) {
        const next: State = { _tag: "AwaitingAuthStatus", buffered: new Uint8Array(0), connect: state.connect }
        return rest.length === 0 ? { _tag: "Continue", state: next, output: [state.auth] } : prefixOutput([state.auth], step(next, rest))
      }
      const next: State = { _tag: "AwaitingReply", buffered: new Uint8Array(0) }
      return rest.length === 0 ? { _tag: "Continue", state: next, output: [state.connect] } : prefixOutput([state.connect], step(next, rest))
    }
    case "AwaitingAuthStatus": {
      if (buffered.length < 2) return { _tag: "Continue", state: { ...state, buffered }, output: [] }
      if (buffered[0] !== AUTH_VERSION) return failed(badResponse(`authentication status has version ${buffered[0]}, not 1`))
      if (buffered[1] !== 0x00) {
        return failed(new ProxyHandshakeError({ reason: "AuthFailed", message: "the proxy rejected the user name or password" }))
      }
      const next: State = { _tag: "AwaitingReply", buffered: new Uint8Array(0) }
      const rest = buffered.subarray(2)
      return rest.length === 0 ? { _tag: "Continue", state: next, output: [state.connect] } : prefixOutput([state.connect], step(next, rest))
    }
    case "AwaitingReply": {
      if (buffered.length >= 1 && buffered[0] !== VERSION) return failed(badResponse(`reply has version ${buffered[0]}, not 5`))
      if (buffered.length >= 2 && buffered[1] !== 0x00) {
        const code = buffered[1] ?? 0
        return failed(new ProxyHandshakeError({
          reason: replyReason(code),
          message: `the proxy answered CONNECT with reply code ${code} (${replyReason(code)})`,
          replyCode: code
        }))
      }
      if (buffered.length >= 3 && buffered[2] !== 0x00) return failed(badResponse("reply has a non-zero reserved byte"))
      // Five bytes tell the full length: the fifth is the domain length for ATYP X'03'.
      if (buffered.length < 5) return { _tag: "Continue", state: { _tag: "AwaitingReply", buffered }, output: [] }
      const length = replyLength(buffered)
      if (length === -1) return failed(badResponse(`unknown address type ${buffered[3]} in reply`))
      if (buffered.length < length) return { _tag: "Continue", state: { _tag: "AwaitingReply", buffered }, output: [] }
      return { _tag: "Established", output: [], leftover: buffered.subarray(length) }
    }
  }
}

/** The bytes of an earlier step go out before those of the step that consumed the rest. */
const prefixOutput = (output: ReadonlyArray<Uint8Array>, next: Step<State>): Step<State> =>
  next._tag === "Failed" ? next : { ...next, output: [...output, ...next.output] }
