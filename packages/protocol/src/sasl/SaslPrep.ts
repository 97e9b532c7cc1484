/**
 * SASLprep (RFC 4013): the stringprep profile SCRAM and PLAIN apply to user
 * names and passwords, so that the same password typed on two keyboards
 * gives the same bytes.
 *
 * Written here rather than taken from npm because this package may depend
 * only on `effect` and `saxes`, and the maintained library
 * (`@mongodb-js/saslprep`) reaches for Node's `Buffer` through its bitfield
 * dependency. The mapping and prohibition tables are small code point lists
 * (RFC 3454 B.1, C.1.2–C.9); normalization is the platform's NFKC.
 *
 * Two documented approximations, both on the side of the current Unicode
 * version rather than Unicode 3.2: "unassigned" is the `Cn` category (only
 * checked for stored strings; SCRAM and PLAIN prepare queries), and the
 * bidirectional categories are approximated by the letters of the
 * right-to-left scripts (RandALCat) and all other letters (LCat), because
 * JavaScript exposes no Bidi_Class property.
 *
 * @since 0.1.0
 */
import { Data, Result } from "effect"

/**
 * @since 0.1.0
 */
export class SaslPrepError extends Data.TaggedError("SaslPrepError")<{
  readonly reason: "prohibited-character" | "bidi-violation" | "unassigned-code-point"
  readonly message: string
  /** Index (in code points) of the offending character, when there is one. */
  readonly position: number
}> {}

type Ranges = ReadonlyArray<readonly [number, number]>

const inRanges = (cp: number, ranges: Ranges): boolean => {
  for (const [low, high] of ranges) if (cp >= low && cp <= high) return true
  return false
}

// RFC 3454 B.1: commonly mapped to nothing.
const mappedToNothing: Ranges = [
  [0x00ad, 0x00ad],
  [0x034f, 0x034f],
  [0x1806, 0x1806],
  [0x180b, 0x180d],
  [0x200b, 0x200d],
  [0x2060, 0x2060],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff]
]

// RFC 3454 C.1.2: non-ASCII space characters, which SASLprep maps to SPACE.
const nonAsciiSpace: Ranges = [
  [0x00a0, 0x00a0],
  [0x1680, 0x1680],
  [0x2000, 0x200b],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000]
]

// RFC 3454 C.1.2 and C.2.1 to C.9, the tables RFC 4013 §2.3 prohibits.
const prohibited: Ranges = [
  ...nonAsciiSpace,
  // C.2.1 ASCII control
  [0x0000, 0x001f],
  [0x007f, 0x007f],
  // C.2.2 non-ASCII control
  [0x0080, 0x009f],
  [0x06dd, 0x06dd],
  [0x070f, 0x070f],
  [0x180e, 0x180e],
  [0x200c, 0x200d],
  [0x2028, 0x2029],
  [0x2060, 0x2063],
  [0x206a, 0x206f],
  [0xfeff, 0xfeff],
  [0xfff9, 0xfffc],
  [0x1d173, 0x1d17a],
  // C.3 private use
  [0xe000, 0xf8ff],
  [0xf0000, 0xffffd],
  [0x100000, 0x10fffd],
  // C.4 non-character code points (the plane-end pairs are checked below)
  [0xfdd0, 0xfdef],
  // C.5 surrogate codes
  [0xd800, 0xdfff],
  // C.6 inappropriate for plain text
  [0xfff9, 0xfffd],
  // C.7 inappropriate for canonical representation
  [0x2ff0, 0x2ffb],
  // C.8 change display properties or deprecated
  [0x0340, 0x0341],
  [0x200e, 0x200f],
  [0x202a, 0x202e],
  [0x206a, 0x206f],
  // C.9 tagging characters
  [0xe0001, 0xe0001],
  [0xe0020, 0xe007f]
]

const isProhibited = (cp: number): boolean => (cp & 0xfffe) === 0xfffe || inRanges(cp, prohibited)

const randAL =
  /^(?=\p{L})[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Samaritan}\p{Script=Mandaic}\p{Script=Adlam}\p{Script=Hanifi_Rohingya}]$/u
const letter = /^\p{L}$/u
const unassigned = /^\p{Cn}$/u

/**
 * @since 0.1.0
 */
export interface Options {
  /**
   * Stored strings (RFC 3454 §7) also refuse unassigned code points; queries,
   * which is what a client sends, allow them. Default: query.
   */
  readonly storedString?: boolean | undefined
}

/**
 * Prepares a string with SASLprep, or says which rule it breaks.
 *
 * @since 0.1.0
 */
export const prepare = (input: string, options: Options = {}): Result.Result<string, SaslPrepError> => {
  // 1. Map
  let mapped = ""
  for (const char of input) {
    const cp = char.codePointAt(0) ?? 0
    if (inRanges(cp, nonAsciiSpace)) mapped += " "
    else if (!inRanges(cp, mappedToNothing)) mapped += char
  }
  // 2. Normalize
  const normalized = mapped.normalize("NFKC")
  // 3. Prohibit (and 5. unassigned, for stored strings)
  const chars = Array.from(normalized)
  let hasRandAL = false
  let hasL = false
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i] ?? ""
    const cp = char.codePointAt(0) ?? 0
    if (isProhibited(cp)) {
      return Result.fail(
        new SaslPrepError({
          reason: "prohibited-character",
          message: `SASLprep prohibits U+${cp.toString(16).toUpperCase().padStart(4, "0")}`,
          position: i
        })
      )
    }
    if (options.storedString === true && unassigned.test(char)) {
      return Result.fail(
        new SaslPrepError({
          reason: "unassigned-code-point",
          message: `U+${cp.toString(16).toUpperCase().padStart(4, "0")} is unassigned`,
          position: i
        })
      )
    }
    if (randAL.test(char)) hasRandAL = true
    else if (letter.test(char)) hasL = true
  }
  // 4. Bidirectional text (RFC 3454 §6)
  if (hasRandAL) {
    const first = chars[0] ?? ""
    const last = chars[chars.length - 1] ?? ""
    if (hasL || !randAL.test(first) || !randAL.test(last)) {
      return Result.fail(
        new SaslPrepError({
          reason: "bidi-violation",
          message: "right-to-left text must not mix with left-to-right letters and must start and end right-to-left",
          position: -1
        })
      )
    }
  }
  return Result.succeed(normalized)
}
