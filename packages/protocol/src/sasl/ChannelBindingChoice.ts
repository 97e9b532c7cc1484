/**
 * Which channel binding a SCRAM login uses, decided from what the TLS
 * connection can give and what the server advertises (XEP-0440), and what
 * the GS2 flag then says (RFC 5802 §6): `p=<type>` to bind, `y` when the
 * client could bind but sees no way the server takes, `n` when it cannot.
 *
 * The rule is "bind only with a type the server is known to take":
 *
 * - With a XEP-0440 list: the first type the list names that this TLS
 *   version allows and the connection provides, in this order: TLS 1.3
 *   `tls-exporter` (RFC 9266), TLS 1.2 `tls-unique` (RFC 5929), and
 *   `tls-server-end-point` when it is the one the list offers.
 * - Without a list, on TLS 1.2: `tls-unique`, RFC 5802's default, which every
 *   server from before XEP-0440 implements.
 * - Without a list, on TLS 1.3: no binding, the `y` flag. RFC 9266 makes
 *   `tls-exporter` the default there, but servers from before it offer -PLUS
 *   on TLS 1.3 and verify only `tls-unique`, which is not defined for TLS 1.3
 *   (measured: ejabberd 23.01). `y` keeps the downgrade protection: a server
 *   that does bind fails a `y` login, so an attacker who strips the list or
 *   the -PLUS mechanisms is noticed ({@link suspectsDowngrade}).
 *
 * @since 0.1.0
 */
import type { ChannelBinding, ChannelBindingType, TlsChannel } from "./ChannelBinding.js"
import { isChannelBindingType } from "./ChannelBinding.js"
import { SaslMechanismError } from "./SaslMechanismError.js"
import * as Element from "../xml/Element.js"

/** XEP-0440: the namespace of the channel binding types a server advertises. @since 0.1.0 */
export const NAMESPACE = "urn:xmpp:sasl-cb:0"

/**
 * The decision.
 *
 * - `Bind`: use -PLUS with this binding (`p=<type>`).
 * - `NotOffered`: the client could bind, but the server advertises no type it
 *   can use here (`y`); `reason` says why, for error messages.
 * - `Unavailable`: no TLS channel, no binding data, or binding turned off (`n`).
 *
 * @since 0.1.0
 */
export type Choice =
  | { readonly _tag: "Bind"; readonly binding: ChannelBinding }
  | { readonly _tag: "NotOffered"; readonly reason: string }
  | { readonly _tag: "Unavailable"; readonly reason: string }

/**
 * @since 0.1.0
 */
export interface Input {
  /** The encrypted channel, or `undefined` (no TLS, or BOSH whose connections change under the session). */
  readonly channel: TlsChannel | undefined
  /** The user's `channelBinding` setting (default true). */
  readonly enabled: boolean
  /** The XEP-0440 list from the stream features, `undefined` when the server sends none. */
  readonly serverTypes: ReadonlyArray<ChannelBindingType> | undefined
}

// The types each TLS version allows, preferred first.
const allowedTypes = (tlsVersion: string): ReadonlyArray<ChannelBindingType> =>
  tlsVersion === "TLSv1.3" ? ["tls-exporter", "tls-server-end-point"] : ["tls-unique", "tls-server-end-point"]

/**
 * Decides the binding for one SASL attempt.
 *
 * @since 0.1.0
 */
export const choose = (input: Input): Choice => {
  const { channel, serverTypes } = input
  if (!input.enabled) return { _tag: "Unavailable", reason: "channel binding is turned off (setting channelBinding)" }
  if (channel === undefined) return { _tag: "Unavailable", reason: "there is no TLS channel of its own to bind to" }
  const usable = allowedTypes(channel.tlsVersion).flatMap((type) => {
    const binding = channel.bindings.find((b) => b.type === type && b.data.length > 0)
    return binding === undefined ? [] : [binding]
  })
  if (usable.length === 0) {
    return { _tag: "Unavailable", reason: `this ${channel.tlsVersion} connection provides no channel binding data` }
  }
  if (serverTypes !== undefined) {
    const listed = usable.find((binding) => serverTypes.includes(binding.type))
    if (listed !== undefined) return { _tag: "Bind", binding: listed }
    return {
      _tag: "NotOffered",
      reason: `the server lists ${serverTypes.join(", ") || "no"} channel binding types, none usable on ${channel.tlsVersion}`
    }
  }
  if (channel.tlsVersion !== "TLSv1.3") {
    const unique = usable.find((binding) => binding.type === "tls-unique")
    if (unique !== undefined) return { _tag: "Bind", binding: unique }
  }
  return {
    _tag: "NotOffered",
    reason: `the server does not list its channel binding types (XEP-0440), and on ${channel.tlsVersion} ` +
      `servers without the list may bind only with tls-unique, which RFC 9266 rules out there`
  }
}

/**
 * The XEP-0440 list of a `<stream:features/>`, or `undefined` when the server
 * sends none. Unknown types are left out.
 *
 * @since 0.1.0
 */
export const advertisedTypes = (features: Element.Element): ReadonlyArray<ChannelBindingType> | undefined => {
  const advertised = Element.child(features, "sasl-channel-binding", NAMESPACE)
  if (advertised === undefined) return undefined
  const types: Array<ChannelBindingType> = []
  for (const binding of Element.elements(advertised, "channel-binding")) {
    const type = Element.attribute(binding, "type")
    if (type !== undefined && isChannelBindingType(type)) types.push(type)
  }
  return types
}

/**
 * Whether a server's refusal of a login sent with the `y` flag says that the
 * server does bind (RFC 5802 §6: it must then fail the login), i.e. the offer
 * the client saw had its -PLUS mechanisms or binding types removed, or the
 * server does not advertise them. The signs: the SCRAM server-final error
 * `server-does-support-channel-binding` (RFC 5802 §7), or a `<failure/>` to
 * the client-first message that names channel binding, or that is a bare
 * `malformed-request` (what Prosody 0.12 answers).
 *
 * @since 0.1.0
 */
export const suspectsDowngrade = (
  refusal:
    | { readonly _tag: "ScramServerError"; readonly serverError: string | undefined }
    | {
      readonly _tag: "Failure"
      readonly condition: string
      readonly text: string | undefined
      readonly answersClientFirst: boolean
    }
): boolean => {
  if (refusal._tag === "ScramServerError") return refusal.serverError === "server-does-support-channel-binding"
  if (!refusal.answersClientFirst) return false
  if (refusal.text !== undefined && /channel[ -]?binding/i.test(refusal.text)) return true
  return refusal.condition === "malformed-request" && (refusal.text === undefined || refusal.text.trim() === "")
}

/**
 * The error for a `y` login refused by a server that binds: the client saw
 * an offer without -PLUS or without usable binding types (`declined` says
 * which), so the offer was altered on the way, or the server does not
 * advertise what it supports. Either way the user must hear it; the client
 * never retries unbound by itself.
 *
 * @since 0.1.0
 */
export const downgradeError = (mechanism: string, declined: string, serverWord: string): SaslMechanismError =>
  new SaslMechanismError({
    reason: "channel-binding-downgrade",
    mechanism,
    serverError: serverWord,
    message: `SASL ${mechanism} was sent without channel binding (flag y: ${declined}), and the server answered ` +
      `that it does bind (${serverWord}): a possible downgrade attack that removed -PLUS or the channel binding ` +
      `types from the server's offer, or a server that does not advertise what it supports. If you trust this ` +
      `network and server, turn channel binding off (setting channelBinding)`
  })
