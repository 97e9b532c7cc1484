/**
 * The one error of JID parsing.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * Why a string is not a JID (RFC 7622 §3):
 *
 * - `Empty`: the part is empty (`@example.org`, `example.org/`, or no domain).
 * - `TooLong`: the part is longer than 1023 bytes of UTF-8 once prepared.
 * - `ForbiddenCharacter`: the part holds a character its PRECIS profile
 *   (localpart: UsernameCaseMapped plus RFC 7622's `"&'/:<>@`; resourcepart:
 *   OpaqueString) or the domain rules disallow.
 * - `InvalidDomain`: the domainpart is not a host name or IP literal (an empty
 *   label, a label that starts or ends with `-`, a label over 63 bytes, a
 *   malformed `[IPv6]`).
 *
 * @since 0.1.0
 */
export type JidErrorReason = "Empty" | "TooLong" | "ForbiddenCharacter" | "InvalidDomain"

/**
 * @since 0.1.0
 */
export type JidPart = "localpart" | "domainpart" | "resourcepart"

/**
 * @since 0.1.0
 */
export class JidError extends Data.TaggedError("JidError")<{
  readonly reason: JidErrorReason
  /** The part at fault. */
  readonly part: JidPart
  readonly message: string
}> {}
