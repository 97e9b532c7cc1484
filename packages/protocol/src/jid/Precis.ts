/**
 * The parts of PRECIS (RFC 8264, profiles of RFC 8265) that JIDs need and
 * that can be checked with what JavaScript's Unicode support gives:
 * general categories, Default_Ignorable_Code_Point, Noncharacter_Code_Point,
 * and NFC/NFKC through `String.prototype.normalize`.
 *
 * Not done (the callers reject rather than guess where it matters):
 * the Bidi Rule (RFC 5893) of UsernameCaseMapped; the CONTEXTJ rules for
 * ZERO WIDTH (NON-)JOINER (they need Joining_Type and Virama data, so both are
 * always refused); "unassigned" is judged by the Unicode version of the
 * JavaScript engine, not by a fixed one. Case mapping is
 * `String.prototype.toLowerCase()`, Unicode's toLowerCase, the operation
 * RFC 8264 §5.2.3 names.
 *
 * @since 0.1.0
 * @internal
 */

/** How a PRECIS string class judges one code point. */
type Verdict = "Valid" | "Contextual" | "Disallowed"

// RFC 5892 §2.6 exceptions, which override the categories.
const EXCEPTION_VALID = new Set([0x00DF, 0x03C2, 0x06FD, 0x06FE, 0x0F0B, 0x3007])
const EXCEPTION_CONTEXTUAL = new Set([0x00B7, 0x0375, 0x05F3, 0x05F4, 0x30FB])
const EXCEPTION_DISALLOWED = new Set([0x0640, 0x07FA, 0x302E, 0x302F, 0x3031, 0x3032, 0x3033, 0x3034, 0x3035, 0x303B])

const letterDigits = /^[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]$/u
const otherLetterDigits = /^[\p{Lt}\p{Nl}\p{No}\p{Me}]$/u
const spaces = /^\p{Zs}$/u
const symbolsOrPunctuation = /^[\p{Sm}\p{Sc}\p{Sk}\p{So}\p{P}]$/u
const controls = /^\p{Cc}$/u
const unassignedOrSurrogate = /^[\p{Cn}\p{Cs}]$/u
const ignorable = /^[\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}]$/u

const isOldHangulJamo = (cp: number): boolean =>
  (cp >= 0x1100 && cp <= 0x11FF) || (cp >= 0xA960 && cp <= 0xA97F) || (cp >= 0xD7B0 && cp <= 0xD7FF)

const isArabicIndicDigit = (cp: number): boolean => cp >= 0x0660 && cp <= 0x0669
const isExtendedArabicIndicDigit = (cp: number): boolean => cp >= 0x06F0 && cp <= 0x06F9

/** RFC 8264 §8: the derived property of a code point in a string class. */
const classify = (cp: number, identifier: boolean): Verdict => {
  if (EXCEPTION_VALID.has(cp)) return "Valid"
  if (EXCEPTION_CONTEXTUAL.has(cp) || isArabicIndicDigit(cp) || isExtendedArabicIndicDigit(cp)) return "Contextual"
  if (EXCEPTION_DISALLOWED.has(cp)) return "Disallowed"
  const char = String.fromCodePoint(cp)
  if (unassignedOrSurrogate.test(char)) return "Disallowed"
  if (cp >= 0x21 && cp <= 0x7E) return "Valid"
  // JoinControl is CONTEXTJ; its rules are not implemented, so refused.
  if (cp === 0x200C || cp === 0x200D) return "Disallowed"
  if (isOldHangulJamo(cp) || ignorable.test(char) || controls.test(char)) return "Disallowed"
  // HasCompat: a compatibility decomposition. IdentifierClass refuses them.
  if (char.normalize("NFKC") !== char) return identifier ? "Disallowed" : "Valid"
  if (letterDigits.test(char)) return "Valid"
  if (otherLetterDigits.test(char) || spaces.test(char) || symbolsOrPunctuation.test(char)) {
    return identifier ? "Disallowed" : "Valid"
  }
  return "Disallowed"
}

const greek = /^\p{Script=Greek}$/u
const hebrew = /^\p{Script=Hebrew}$/u
const japanese = /^[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]$/u

/** RFC 5892 Appendix A: the CONTEXTO rules, checked on the whole string. */
const contextHolds = (codePoints: ReadonlyArray<number>, index: number): boolean => {
  const cp = codePoints[index] ?? 0
  const before = codePoints[index - 1]
  const after = codePoints[index + 1]
  switch (cp) {
    case 0x00B7: // MIDDLE DOT: between two l (Catalan)
      return before === 0x006C && after === 0x006C
    case 0x0375: // GREEK LOWER NUMERAL SIGN: followed by Greek
      return after !== undefined && greek.test(String.fromCodePoint(after))
    case 0x05F3:
    case 0x05F4: // HEBREW GERESH/GERSHAYIM: after Hebrew
      return before !== undefined && hebrew.test(String.fromCodePoint(before))
    case 0x30FB: // KATAKANA MIDDLE DOT: with some Hiragana, Katakana or Han
      return codePoints.some((other) => other !== 0x30FB && japanese.test(String.fromCodePoint(other)))
    default:
      // Arabic-Indic digits: the two kinds are not mixed.
      return isArabicIndicDigit(cp)
        ? !codePoints.some(isExtendedArabicIndicDigit)
        : !codePoints.some(isArabicIndicDigit)
  }
}

/**
 * The first code point of `text` that the string class disallows, or
 * `undefined` when all are allowed.
 *
 * @since 0.1.0
 * @internal
 */
export const firstDisallowed = (text: string, identifier: boolean): number | undefined => {
  const codePoints = Array.from(text, (char) => char.codePointAt(0) ?? 0)
  for (let i = 0; i < codePoints.length; i++) {
    const cp = codePoints[i] ?? 0
    const verdict = classify(cp, identifier)
    if (verdict === "Disallowed" || (verdict === "Contextual" && !contextHolds(codePoints, i))) return cp
  }
  return undefined
}

/**
 * RFC 8265 §3.3.2 width mapping: fullwidth and halfwidth forms to their
 * decompositions (U+FF01–U+FFEE is exactly the Halfwidth and Fullwidth Forms block).
 *
 * @since 0.1.0
 * @internal
 */
export const mapWidth = (text: string): string =>
  /[\uFF01-\uFFEE]/.test(text) ? text.replace(/[\uFF01-\uFFEE]/g, (char) => char.normalize("NFKC")) : text

/**
 * RFC 8265 §4.2.1 additional mapping of OpaqueString: non-ASCII spaces to U+0020.
 *
 * @since 0.1.0
 * @internal
 */
export const mapSpaces = (text: string): string => text.replace(/(?! )\p{Zs}/gu, " ")

/**
 * UTF-8 length of a string (a lone surrogate counted as the 3 bytes of its replacement).
 *
 * @since 0.1.0
 * @internal
 */
export const utf8Length = (text: string): number => {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) bytes += 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xD800 && code <= 0xDBFF && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xDC00 && next <= 0xDFFF) {
        bytes += 4
        i += 1
      } else bytes += 3
    } else bytes += 3
  }
  return bytes
}
