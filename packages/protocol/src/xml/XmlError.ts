/**
 * The one error of the XML layer.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/**
 * Why XML was refused.
 *
 * - `Malformed`: not well-formed XML (or not namespace-well-formed).
 * - `RestrictedXml`: well-formed, but outside what RFC 6120 §11.1 allows
 *   (DOCTYPE, entity declarations or references, processing instructions, comments).
 * - `InvalidCharacter`: a character XML 1.0 does not allow (control characters, lone surrogates).
 * - `InvalidUtf8`: the bytes are not UTF-8.
 * - `TooLarge`: a stanza, or the bytes buffered for one, exceeds the configured limit.
 * - `TooDeep`: elements nested deeper than the configured limit.
 * - `TooManyAttributes`: an element carries more attributes than the configured limit.
 * - `UnexpectedElement`: well-formed, but not what the stream or BOSH framing requires.
 * - `UnexpectedNamespace`: the root element has the expected name in another
 *   namespace (a stream header outside `http://etherx.jabber.org/streams`).
 * - `UnsupportedEncoding`: the XML declaration names an encoding other than UTF-8
 *   (RFC 6120 §11.6; the stream error of the same name).
 *
 * @since 0.1.0
 */
export type XmlErrorReason =
  | "Malformed"
  | "RestrictedXml"
  | "InvalidCharacter"
  | "InvalidUtf8"
  | "TooLarge"
  | "TooDeep"
  | "TooManyAttributes"
  | "UnexpectedElement"
  | "UnexpectedNamespace"
  | "UnsupportedEncoding"

/**
 * @since 0.1.0
 */
export class XmlError extends Data.TaggedError("XmlError")<{
  readonly reason: XmlErrorReason
  readonly message: string
  /** Byte offset into the input where the problem was found (-1 when not about input bytes). */
  readonly offset: number
}> {}
