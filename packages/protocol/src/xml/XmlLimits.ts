/**
 * How much the XML parsers accept before they refuse input as hostile.
 *
 * Every limit bounds memory: the parsers never hold more than the bytes of
 * one unfinished unit (a stanza, the stream header, the whitespace between
 * stanzas) plus one input slice of at most 64 KiB.
 *
 * @since 0.1.0
 */
import { Result, Schema } from "effect"

/**
 * @since 0.1.0
 */
export interface XmlLimits {
  /**
   * Largest stanza (top-level child of the stream or of a BOSH `<body/>`), in
   * bytes of UTF-8 from its `<` to its last `>`. Default 256 KiB: Prosody's
   * default `c2s_stanza_size_limit`, and far above any ordinary stanza.
   */
  readonly maxStanzaBytes: number
  /**
   * Deepest element nesting inside a stanza (the stanza itself is depth 1).
   * Default 64: the deepest real stanzas (forwarded MAM results carrying
   * pubsub payloads) stay under 20, and consumers of the tree may recurse.
   */
  readonly maxDepth: number
  /**
   * Most attributes (namespace declarations included) on one element.
   * Default 64: stream headers carry about 8, stanzas fewer.
   */
  readonly maxAttributes: number
  /**
   * Most bytes held for anything not yet handed out: a stanza still open, the
   * stream header not yet finished, whitespace between stanzas. Default
   * 256 KiB, the same as `maxStanzaBytes`; a stanza is held to the smaller
   * of the two.
   */
  readonly maxBufferedBytes: number
}

/**
 * The defaults described on each field.
 *
 * @since 0.1.0
 */
export const defaults: XmlLimits = {
  maxStanzaBytes: 256 * 1024,
  maxDepth: 64,
  maxAttributes: 64,
  maxBufferedBytes: 256 * 1024
}

const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))

/**
 * The schema of a partial limits object as it comes from configuration.
 *
 * @since 0.1.0
 */
export const PartialXmlLimits = Schema.Struct({
  maxStanzaBytes: Schema.optional(PositiveInt),
  maxDepth: Schema.optional(PositiveInt),
  maxAttributes: Schema.optional(PositiveInt),
  maxBufferedBytes: Schema.optional(PositiveInt)
})

/**
 * Decodes limits from untrusted configuration, filling in the defaults.
 *
 * @since 0.1.0
 */
export const decode = (input: unknown): Result.Result<XmlLimits, Schema.SchemaError> =>
  Result.map(Schema.decodeUnknownResult(PartialXmlLimits)(input), (partial) => resolve(partial))

/**
 * The defaults overridden by the given fields. Values that are not positive
 * integers are ignored (the default stays), so a typo can never switch a
 * limit off; use `decode` to have them reported instead.
 *
 * @since 0.1.0
 */
export const resolve = (partial: { readonly [K in keyof XmlLimits]?: number | undefined } | undefined): XmlLimits => {
  if (partial === undefined) return defaults
  const pick = (value: number | undefined, fallback: number): number =>
    value !== undefined && Number.isSafeInteger(value) && value >= 1 ? value : fallback
  return {
    maxStanzaBytes: pick(partial.maxStanzaBytes, defaults.maxStanzaBytes),
    maxDepth: pick(partial.maxDepth, defaults.maxDepth),
    maxAttributes: pick(partial.maxAttributes, defaults.maxAttributes),
    maxBufferedBytes: pick(partial.maxBufferedBytes, defaults.maxBufferedBytes)
  }
}

