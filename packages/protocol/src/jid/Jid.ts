/**
 * XMPP addresses (RFC 7622): `[localpart@]domainpart[/resourcepart]`.
 *
 * `parse` prepares and checks each part, so two JIDs that RFC 7622 calls
 * equal have equal parts: the localpart is width-mapped, lower-cased and put
 * in NFC (PRECIS UsernameCaseMapped), the domainpart lower-cased, put in NFC
 * and stripped of one trailing dot, the resourcepart's non-ASCII spaces
 * mapped to U+0020 and put in NFC (PRECIS OpaqueString). What of PRECIS is
 * not checked is listed in `Precis.ts`; IDNA2008 is approximated by
 * per-label character and length checks (no Punycode, no Bidi Rule).
 *
 * @since 0.1.0
 */
import { Result } from "effect"
import { JidError } from "./JidError.js"
import type { JidPart } from "./JidError.js"
import * as Precis from "./Precis.js"

/**
 * A JID whose parts are already prepared; build one with `parse` or `make`.
 *
 * @since 0.1.0
 */
export interface Jid {
  readonly local: string | undefined
  readonly domain: string
  readonly resource: string | undefined
}

/** RFC 7622 §3.1: each part is at most 1023 bytes. */
const MAX_PART_BYTES = 1023

/** RFC 7622 §3.3.1: characters a localpart may not hold beyond what UsernameCaseMapped forbids. */
const LOCALPART_EXTRA_FORBIDDEN = new Set(["\"", "&", "'", "/", ":", "<", ">", "@"])

const fail = (reason: JidError["reason"], part: JidPart, message: string): Result.Result<never, JidError> =>
  Result.fail(new JidError({ reason, part, message }))

const describe = (cp: number): string => `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`

const checkLength = (value: string, part: JidPart): Result.Result<string, JidError> => {
  if (value.length === 0) return fail("Empty", part, `the ${part} is empty`)
  const bytes = Precis.utf8Length(value)
  return bytes > MAX_PART_BYTES
    ? fail("TooLong", part, `the ${part} is ${bytes} bytes, more than ${MAX_PART_BYTES}`)
    : Result.succeed(value)
}

/**
 * Prepares a localpart (PRECIS UsernameCaseMapped, RFC 8265 §3.3, plus RFC 7622 §3.3.1).
 *
 * @since 0.1.0
 */
export const prepareLocal = (input: string): Result.Result<string, JidError> => {
  if (input.length === 0) return fail("Empty", "localpart", "the localpart is empty")
  const value = Precis.mapWidth(input).toLowerCase().normalize("NFC")
  for (const char of value) {
    if (LOCALPART_EXTRA_FORBIDDEN.has(char)) {
      return fail("ForbiddenCharacter", "localpart", `the localpart may not contain ${JSON.stringify(char)}`)
    }
  }
  const bad = Precis.firstDisallowed(value, true)
  if (bad !== undefined) {
    return fail("ForbiddenCharacter", "localpart", `the localpart may not contain ${describe(bad)}`)
  }
  return checkLength(value, "localpart")
}

/**
 * Prepares a resourcepart (PRECIS OpaqueString, RFC 8265 §4.2).
 *
 * @since 0.1.0
 */
export const prepareResource = (input: string): Result.Result<string, JidError> => {
  if (input.length === 0) return fail("Empty", "resourcepart", "the resourcepart is empty")
  const value = Precis.mapSpaces(input).normalize("NFC")
  const bad = Precis.firstDisallowed(value, false)
  if (bad !== undefined) {
    return fail("ForbiddenCharacter", "resourcepart", `the resourcepart may not contain ${describe(bad)}`)
  }
  return checkLength(value, "resourcepart")
}

const ipv4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/
const hexGroup = /^[0-9a-f]{1,4}$/

/** An IPv6 address as RFC 4291 §2.2 writes it (already lower-cased), possibly ending in dotted IPv4. */
const isIpv6 = (input: string): boolean => {
  let text = input
  if (text.includes(".")) {
    const colon = text.lastIndexOf(":")
    if (colon === -1 || !ipv4.test(text.slice(colon + 1))) return false
    // The IPv4 tail stands for two 16-bit groups.
    text = text.slice(0, colon + 1) + "0:0"
  }
  const halves = text.split("::")
  if (halves.length > 2) return false
  const groupsOf = (half: string): Array<string> => half === "" ? [] : half.split(":")
  if (halves.length === 1) {
    const groups = groupsOf(text)
    return groups.length === 8 && groups.every((group) => hexGroup.test(group))
  }
  const groups = [...groupsOf(halves[0] ?? ""), ...groupsOf(halves[1] ?? "")]
  return groups.length <= 7 && groups.every((group) => hexGroup.test(group))
}

const ldhLabel = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/

/**
 * Prepares a domainpart (RFC 7622 §3.2): an IP literal, or labels of letters,
 * digits and hyphens, lower-cased, NFC, without a trailing dot.
 *
 * @since 0.1.0
 */
export const prepareDomain = (input: string): Result.Result<string, JidError> => {
  let value = input.toLowerCase().normalize("NFC")
  if (value.endsWith(".")) value = value.slice(0, -1)
  const length = checkLength(value, "domainpart")
  if (Result.isFailure(length)) return length
  if (value.startsWith("[")) {
    return value.endsWith("]") && isIpv6(value.slice(1, -1))
      ? Result.succeed(value)
      : fail("InvalidDomain", "domainpart", `${JSON.stringify(value)} is not an IPv6 literal`)
  }
  for (const label of value.split(".")) {
    if (label.length === 0) return fail("InvalidDomain", "domainpart", "the domainpart has an empty label")
    if (/^[\x00-\x7F]*$/.test(label)) {
      if (!ldhLabel.test(label)) {
        return fail(
          "InvalidDomain",
          "domainpart",
          `the label ${JSON.stringify(label)} is not letters, digits and inner hyphens`
        )
      }
      if (label.length > 63) return fail("InvalidDomain", "domainpart", "a label is longer than 63 bytes")
      continue
    }
    if (label.startsWith("-") || label.endsWith("-")) {
      return fail("InvalidDomain", "domainpart", `the label ${JSON.stringify(label)} starts or ends with "-"`)
    }
    for (const char of label) {
      if (char === "-" || /^[a-z0-9]$/.test(char)) continue
      const cp = char.codePointAt(0) ?? 0
      if (cp < 0x80 || Precis.firstDisallowed(char, true) !== undefined) {
        return fail("ForbiddenCharacter", "domainpart", `the domainpart may not contain ${describe(cp)}`)
      }
    }
  }
  return Result.succeed(value)
}

/**
 * Builds a JID from its parts, preparing and checking each.
 *
 * @since 0.1.0
 */
export const make = (parts: {
  readonly local?: string | undefined
  readonly domain: string
  readonly resource?: string | undefined
}): Result.Result<Jid, JidError> => {
  const local = parts.local === undefined ? Result.succeed(undefined) : prepareLocal(parts.local)
  if (Result.isFailure(local)) return Result.fail(local.failure)
  const domain = prepareDomain(parts.domain)
  if (Result.isFailure(domain)) return Result.fail(domain.failure)
  const resource = parts.resource === undefined ? Result.succeed(undefined) : prepareResource(parts.resource)
  if (Result.isFailure(resource)) return Result.fail(resource.failure)
  return Result.succeed({ local: local.success, domain: domain.success, resource: resource.success })
}

/**
 * Parses `[localpart@]domainpart[/resourcepart]` (RFC 7622 §3.1: the first
 * `/` starts the resourcepart, which may itself hold `@` and `/`; the first
 * `@` before it ends the localpart). Never throws.
 *
 * @since 0.1.0
 */
export const parse = (input: string): Result.Result<Jid, JidError> => {
  const slash = input.indexOf("/")
  const address = slash === -1 ? input : input.slice(0, slash)
  const resource = slash === -1 ? undefined : input.slice(slash + 1)
  const at = address.indexOf("@")
  const local = at === -1 ? undefined : address.slice(0, at)
  const domain = at === -1 ? address : address.slice(at + 1)
  return make({ local, domain, resource })
}

/**
 * The string form, `local@domain/resource`.
 *
 * @since 0.1.0
 */
export const format = (jid: Jid): string =>
  (jid.local === undefined ? "" : jid.local + "@") + jid.domain + (jid.resource === undefined ? "" : "/" + jid.resource)

/**
 * The bare JID: the same without its resourcepart.
 *
 * @since 0.1.0
 */
export const bare = (jid: Jid): Jid => jid.resource === undefined ? jid : { ...jid, resource: undefined }

/**
 * Whether the JID has no resourcepart.
 *
 * @since 0.1.0
 */
export const isBare = (jid: Jid): boolean => jid.resource === undefined

/**
 * RFC 7622 equality: part by part, after preparation (which `parse` did).
 *
 * @since 0.1.0
 */
export const equals = (a: Jid, b: Jid): boolean =>
  a.local === b.local && a.domain === b.domain && a.resource === b.resource
