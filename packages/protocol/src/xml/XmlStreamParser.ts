/**
 * The incremental XML stream parser: bytes in, in chunks split anywhere
 * (inside a tag, inside a multi-byte UTF-8 character), events out: the stream
 * header, each top-level child as one whole element, the stream's end.
 *
 * It enforces restricted XML (RFC 6120 §11.1) and the `XmlLimits`; any
 * violation is an `XmlError` carrying the byte offset, and the parser stays
 * failed from then on. It is a small machine: feed it with `push`, tell it the
 * input ended with `end`, and never reuse it after the stream it parsed is
 * over — a stream restart (after STARTTLS or SASL) takes a new parser from
 * `make`, as RFC 6120 §4.3.3 starts a new XML document.
 *
 * Memory stays bounded: saxes holds only the current slice and the partial
 * token it is in, the parser holds only the elements of the stanza still
 * open, and both are capped by `maxBufferedBytes`/`maxStanzaBytes`.
 *
 * The `attributes` objects of the elements it yields have no prototype (they
 * are saxes' own, handed on without a copy): read them with
 * `Element.attribute`, `Object.hasOwn` or `Object.entries`, not
 * `attributes.hasOwnProperty(…)`.
 *
 * @since 0.1.0
 */
import { Result } from "effect"
import { SaxesParser } from "saxes"
import type { SaxesTagPlain } from "saxes"
import { ByteOffsets } from "./ByteOffsets.js"
import * as NamespaceScope from "./NamespaceScope.js"
import type { Node } from "./Element.js"
import { XmlError } from "./XmlError.js"
import type { XmlErrorReason } from "./XmlError.js"
import * as XmlLimits from "./XmlLimits.js"
import * as XmlStreamEvent from "./XmlStreamEvent.js"
import { STREAMS } from "./Namespaces.js"

/**
 * @since 0.1.0
 */
export interface XmlStreamParser {
  /**
   * Parses the next chunk of bytes. Returns the events it completed, or the
   * error that ended the stream (from then on, every call returns that error).
   * Events completed earlier in the same chunk as an error are dropped with
   * it: after an XML error the stream is over (RFC 6120 §4.9.3.1).
   */
  readonly push: (chunk: Uint8Array) => Result.Result<ReadonlyArray<XmlStreamEvent.XmlStreamEvent>, XmlError>
  /**
   * The input ended. Fine (no events) after the root closed; otherwise the
   * stream was truncated, which is a `Malformed` error.
   */
  readonly end: () => Result.Result<ReadonlyArray<XmlStreamEvent.XmlStreamEvent>, XmlError>
  /** Bytes consumed so far. */
  readonly offset: number
}

/**
 * Which root element the parser expects and how it resolves its children.
 *
 * @since 0.1.0
 */
export interface RootOptions {
  readonly name: string
  readonly namespace: string
  /**
   * When set, an unprefixed child of the root that declares no default
   * namespace of its own (and its descendants that inherit it) is put in
   * this namespace instead of the one inherited from the root. BOSH needs
   * this: XEP-0206 puts such children of `<body/>` in `jabber:client`.
   */
  readonly childDefaultNamespace?: string | undefined
}

/** The XMPP stream root, `<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`. */
const streamRoot: RootOptions = { name: "stream", namespace: STREAMS }

/**
 * A parser for one XMPP stream (`<stream:stream>`).
 *
 * @since 0.1.0
 */
export const make = (limits?: Partial<XmlLimits.XmlLimits>): XmlStreamParser =>
  new StreamReader(streamRoot, XmlLimits.resolve(limits))

/**
 * A parser whose root is another element, with the same framing: the root's
 * start tag is `StreamOpen`, each child a `StreamElement`, its end
 * `StreamClose`. `BodyParser` uses it for BOSH `<body/>`.
 *
 * @since 0.1.0
 */
export const makeWithRoot = (root: RootOptions, limits?: Partial<XmlLimits.XmlLimits>): XmlStreamParser =>
  new StreamReader(root, XmlLimits.resolve(limits))

/** Input is handed to saxes in slices this large, so limits are checked often. */
const SLICE_BYTES = 64 * 1024

/** Thrown inside saxes handlers to stop it at the first error; never escapes. */
const ABORT: unique symbol = Symbol("XmlStreamParser/abort")

/** saxes' message for text before or after the root element. */
const TEXT_OUTSIDE_ROOT = "text data outside of root node"

/** The only entities RFC 6120 §11.1 allows, in an object with no prototype (saxes' own inherits `constructor` & co.). */
const PREDEFINED_ENTITIES: Record<string, string> = Object.create(null)
Object.assign(PREDEFINED_ENTITIES, { amp: "&", lt: "<", gt: ">", quot: "\"", apos: "'" })

/** An element under construction; it becomes the stanza's `Element` as is, without a copy. */
interface OpenElement {
  readonly name: string
  readonly namespace: string
  readonly prefix: string | undefined
  readonly attributes: Record<string, string>
  readonly children: Array<Node>
}

type Phase = "AwaitingRoot" | "InRoot" | "RootClosed"

/** A UTF-16 code unit is at most 3 bytes of UTF-8 (a surrogate pair, 2 units, is 4). */
const MAX_BYTES_PER_UNIT = 3

const isXmlWhitespace = (text: string): boolean => {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c !== 0x20 && c !== 0x0A && c !== 0x09 && c !== 0x0D) return false
  }
  return true
}

// saxes reports errors as messages; these are the ones that name a restricted
// construct or a forbidden character (saxes 6.0.0 wording, pinned by tests).
const reasonOfSaxesMessage = (message: string): XmlErrorReason => {
  if (message.includes("undefined entity") || message.includes("doctype")) return "RestrictedXml"
  if (message.includes("disallowed character.") || message.includes("malformed character entity")) {
    return "InvalidCharacter"
  }
  return "Malformed"
}

/**
 * Where something began, as a position in the decoded text and, once known,
 * as a byte offset. Converting positions to bytes costs a pass over the text,
 * so it is done only when a limit might be near (a code unit is at most 3
 * bytes, so a short span needs no exact count) and, for a unit still open,
 * once at the end of the slice it began in.
 */
interface Mark {
  position: number
  /** -1 while not computed; then the position lies in the current slice. */
  byte: number
}

class StreamReader implements XmlStreamParser {
  private readonly saxes: RestrictedSaxes
  private readonly bytes = new ByteOffsets()
  private readonly events: Array<XmlStreamEvent.XmlStreamEvent> = []
  /** The elements of the stanza being received, outermost first. */
  private readonly open: Array<OpenElement> = []
  /** Per open element: the namespaces in force there. */
  private readonly scopes: Array<NamespaceScope.Scope> = []
  /** The namespaces in force inside the root element. */
  private rootScope: NamespaceScope.Scope = NamespaceScope.documentScope
  /** Per open element: whether its default namespace is the one inherited from the root (see `childDefaultNamespace`). */
  private readonly inheritsRootDefault: Array<boolean> = []
  private phase: Phase = "AwaitingRoot"
  private error: XmlError | undefined = undefined
  /** Where the unit being received began: the end of the previous stanza or of the header. */
  private readonly unitStart: Mark = { position: 0, byte: 0 }
  /** Where the stanza being received began (its `<`). */
  private readonly stanzaStart: Mark = { position: 0, byte: 0 }
  /** The `<` of the next stanza, once whitespace before it was seen (`nextStanzaSeen`). */
  private readonly nextStanza: Mark = { position: 0, byte: 0 }
  private nextStanzaSeen = false
  /** The text read before the root element opened, to find a DOCTYPE in it. */
  private prolog = ""

  constructor(private readonly root: RootOptions, private readonly limits: XmlLimits.XmlLimits) {
    this.saxes = new RestrictedSaxes(this)
  }

  get offset(): number {
    return this.bytes.consumed
  }

  push(chunk: Uint8Array): Result.Result<ReadonlyArray<XmlStreamEvent.XmlStreamEvent>, XmlError> {
    if (this.error !== undefined) return Result.fail(this.error)
    for (let start = 0; start < chunk.length && this.error === undefined; start += SLICE_BYTES) {
      this.writeSlice(start === 0 && chunk.length <= SLICE_BYTES ? chunk : chunk.subarray(start, start + SLICE_BYTES))
    }
    return this.drain()
  }

  end(): Result.Result<ReadonlyArray<XmlStreamEvent.XmlStreamEvent>, XmlError> {
    if (this.error !== undefined) return Result.fail(this.error)
    if (!this.bytes.finish()) {
      this.error = new XmlError({
        reason: "InvalidUtf8",
        message: "the input ended inside a UTF-8 character",
        offset: this.bytes.decodedEnd
      })
    } else if (this.phase !== "RootClosed") {
      this.error = new XmlError({
        reason: "Malformed",
        message: this.phase === "AwaitingRoot"
          ? "the input ended before the root element began"
          : `the input ended before </${this.root.name}>`,
        offset: this.bytes.consumed
      })
    }
    return this.drain()
  }

  private drain(): Result.Result<ReadonlyArray<XmlStreamEvent.XmlStreamEvent>, XmlError> {
    if (this.error !== undefined) {
      this.events.length = 0
      this.open.length = 0
      this.scopes.length = 0
      this.prolog = ""
      return Result.fail(this.error)
    }
    if (this.events.length === 0) return Result.succeed([])
    const out = this.events.slice()
    this.events.length = 0
    return Result.succeed(out)
  }

  private writeSlice(slice: Uint8Array): void {
    const text = this.bytes.decode(slice)
    if (text !== undefined) return this.feed(text, undefined)
    // What precedes the bad bytes is parsed first, so the error reported does
    // not depend on where the chunks were cut.
    const valid = this.bytes.decodeValidPrefix(slice)
    this.feed(valid.text, valid.invalidAt)
  }

  /** Hands decoded text to saxes; `invalidAt` is set when invalid UTF-8 follows it. */
  private feed(text: string, invalidAt: number | undefined): void {
    if (this.phase === "AwaitingRoot") this.prolog += text
    try {
      this.saxes.write(text)
      if (invalidAt !== undefined) {
        this.checkBuffered(invalidAt)
        this.stop("InvalidUtf8", "the input is not valid UTF-8", invalidAt)
      }
      // Marks still open must be pinned to bytes before the slice goes away.
      this.byteOf(this.unitStart)
      if (this.open.length > 0) this.byteOf(this.stanzaStart)
      if (this.nextStanzaSeen) this.byteOf(this.nextStanza)
      this.checkBuffered(this.bytes.decodedEnd)
    } catch (thrown) {
      if (thrown !== ABORT && this.error === undefined) {
        // Not our own stop signal: saxes itself gave up. Still an error of the input.
        this.error = new XmlError({
          reason: "Malformed",
          message: thrown instanceof Error ? thrown.message : String(thrown),
          offset: this.bytes.decodedEnd
        })
      }
    }
  }

  private byteOf(mark: Mark): number {
    if (mark.byte < 0) mark.byte = this.bytes.byteAt(mark.position)
    return mark.byte
  }

  private setMark(mark: Mark, position: number): void {
    mark.position = position
    mark.byte = -1
  }

  /**
   * Fails with `TooLarge` when more than `maxBufferedBytes` is held at byte
   * `at`. The offset reported is where the limit was crossed, which does not
   * depend on how the input was chunked.
   */
  private checkBuffered(at: number): void {
    const limit = this.limits.maxBufferedBytes
    const start = this.byteOf(this.unitStart)
    if (at - start > limit) {
      this.stop("TooLarge", `more than ${limit} bytes held for an unfinished stanza or header`, start + limit)
    }
  }

  /** `checkBuffered` at the current position, skipped when the span is too short to matter. */
  private checkBufferedHere(): void {
    const position = this.saxes.position
    if ((position - this.unitStart.position) * MAX_BYTES_PER_UNIT > this.limits.maxBufferedBytes) {
      this.checkBuffered(this.bytes.byteAt(position))
    }
  }

  /** Reports an error at the current position (called from saxes handlers). */
  fail(reason: XmlErrorReason, message: string): never {
    // saxes reports text outside the root only where the text run ends, which
    // depends on chunking; the first character that is not whitespace does not.
    const position = message.includes(TEXT_OUTSIDE_ROOT)
      ? this.bytes.firstNonWhitespace(this.unitStart.position) + 1
      : this.saxes.position
    const at = this.bytes.byteAt(position)
    // If the buffer limit was crossed before this point, that is what a
    // parser fed smaller chunks would have reported first.
    this.checkBuffered(at)
    return this.stop(reason, message, at)
  }

  private stop(reason: XmlErrorReason, message: string, offset: number): never {
    if (this.error === undefined) this.error = new XmlError({ reason, message, offset })
    throw ABORT
  }

  onOpenTag(tag: SaxesTagPlain): void {
    const open = this.open
    const depth = open.length
    if (this.phase !== "InRoot") return this.openRoot(tag)
    if (depth >= this.limits.maxDepth) {
      return this.fail("TooDeep", `elements nested deeper than ${this.limits.maxDepth}`)
    }
    if (depth === 0) {
      const from = this.nextStanzaSeen ? this.nextStanza : this.unitStart
      this.stanzaStart.position = from.position
      this.stanzaStart.byte = from.byte
      this.nextStanzaSeen = false
    }
    const raw = tag.attributes
    const names = Object.keys(raw)
    if (names.length > this.limits.maxAttributes) {
      return this.fail("TooManyAttributes", `more than ${this.limits.maxAttributes} attributes on <${tag.name}>`)
    }
    // saxes' own attribute object (no prototype, so `__proto__` is an ordinary
    // key) becomes the element's: saxes never touches it again.
    const attributes = raw
    let ownDefault = false
    let prefixed = false
    for (let i = 0; i < names.length; i++) {
      const name = names[i]
      if (name === undefined) continue
      if (name === "xmlns") ownDefault = true
      else if (name.indexOf(":") !== -1) prefixed = true
    }
    const parentScope = depth === 0 ? this.rootScope : this.scopes[depth - 1] ?? this.rootScope
    const scope = ownDefault || prefixed ? this.scopeOf(parentScope, raw, names, prefixed) : parentScope
    const [prefix, local, tagNamespace] = this.resolveName(tag.name, scope)
    let namespace = tagNamespace
    const childDefault = this.root.childDefaultNamespace
    if (childDefault !== undefined) {
      // A child of the root inherits the root's default namespace; deeper
      // ones do unless an ancestor below the root declared its own.
      const inherits = !ownDefault && (depth === 0 || this.inheritsRootDefault[depth - 1] === true)
      this.inheritsRootDefault[depth] = inherits
      if (inherits && prefix === undefined) namespace = childDefault
    }
    this.scopes.push(scope)
    // The default namespace is the `namespace` field, never an attribute.
    if (ownDefault) delete attributes.xmlns
    open.push({ name: local, namespace, prefix, attributes, children: [] })
  }

  /** The scope of an element that declares namespaces or has prefixed attributes; fails on a violation. */
  private scopeOf(
    parent: NamespaceScope.Scope,
    raw: Readonly<Record<string, string>>,
    names: ReadonlyArray<string>,
    prefixed: boolean
  ): NamespaceScope.Scope {
    const scope = NamespaceScope.declare(parent, raw, names)
    if (typeof scope === "string") return this.fail("Malformed", scope)
    const problem = prefixed ? NamespaceScope.checkAttributes(scope, names) : undefined
    if (problem !== undefined) return this.fail("Malformed", problem)
    return scope
  }

  /** An element's prefix, local name and namespace; fails on an unbound prefix. */
  private resolveName(
    name: string,
    scope: NamespaceScope.Scope
  ): readonly [prefix: string | undefined, local: string, namespace: string] {
    if (name.indexOf(":") === -1) return [undefined, name, scope.defaultNamespace]
    const split = NamespaceScope.splitQName(name)
    if (split === undefined) return this.fail("Malformed", `malformed element name ${name}`)
    const [prefix, local] = split
    if (prefix === "xmlns") return this.fail("Malformed", "an element may not have the prefix xmlns")
    const namespace = NamespaceScope.resolve(scope, prefix)
    if (namespace === undefined) return this.fail("Malformed", `unbound namespace prefix ${JSON.stringify(prefix)}`)
    return [prefix, local, namespace]
  }

  private openRoot(tag: SaxesTagPlain): void {
    if (this.phase === "RootClosed") return this.fail("Malformed", "content after the root element closed")
    const raw = tag.attributes
    const names = Object.keys(raw)
    if (names.length > this.limits.maxAttributes) {
      return this.fail("TooManyAttributes", `more than ${this.limits.maxAttributes} attributes on <${tag.name}>`)
    }
    const scope = this.scopeOf(NamespaceScope.documentScope, raw, names, true)
    const [prefix, local, namespace] = this.resolveName(tag.name, scope)
    if (local !== this.root.name || namespace !== this.root.namespace) {
      return this.fail(
        local === this.root.name ? "UnexpectedNamespace" : "UnexpectedElement",
        `expected <${this.root.name} xmlns='${this.root.namespace}'>, got <${tag.name}> in ${JSON.stringify(namespace)}`
      )
    }
    // A DOCTYPE may only come before the root (saxes rejects it anywhere
    // else), so the prolog up to the end of the root's start tag tells.
    if (this.prolog.slice(0, this.saxes.position).includes("<!DOCTYPE")) {
      return this.fail("RestrictedXml", "a document type declaration is not allowed")
    }
    this.prolog = ""
    const encoding = this.saxes.xmlDecl.encoding
    if (encoding !== undefined && encoding.toLowerCase() !== "utf-8") {
      return this.fail("UnsupportedEncoding", `the XML declaration names encoding ${encoding}; XMPP is UTF-8 only`)
    }
    // As for stanzas, saxes' attribute object becomes the header's; the default
    // namespace declared on the root is carried by its children's `namespace`.
    const attributes = raw
    delete attributes.xmlns
    this.checkBufferedHere()
    this.setMark(this.unitStart, this.saxes.position)
    this.phase = "InRoot"
    this.rootScope = scope
    this.events.push(XmlStreamEvent.streamOpen({ name: local, namespace, prefix, attributes, children: [] }))
  }

  onCloseTag(): void {
    const open = this.open
    const element = open.pop()
    this.scopes.pop()
    if (element === undefined) {
      if (this.phase !== "InRoot") return
      this.checkBufferedHere()
      this.setMark(this.unitStart, this.saxes.position)
      this.phase = "RootClosed"
      this.events.push(XmlStreamEvent.streamClose)
      return
    }
    const parent = open[open.length - 1]
    if (parent !== undefined) {
      parent.children.push(element)
      return
    }
    this.checkBufferedHere()
    const position = this.saxes.position
    const limit = this.limits.maxStanzaBytes
    if ((position - this.stanzaStart.position) * MAX_BYTES_PER_UNIT > limit) {
      const start = this.byteOf(this.stanzaStart)
      const size = this.bytes.byteAt(position) - start
      if (size > limit) {
        this.stop("TooLarge", `a stanza of ${size} bytes exceeds the limit of ${limit}`, start + limit)
      }
    }
    this.setMark(this.unitStart, position)
    this.events.push(XmlStreamEvent.streamElement(element))
  }

  onText(text: string): void {
    const element = this.open[this.open.length - 1]
    if (element !== undefined) return appendText(element.children, text)
    if (!isXmlWhitespace(text)) {
      // Outside the root saxes already fails; between stanzas only whitespace
      // (keepalives) is allowed.
      return this.fail("Malformed", "text between stanzas")
    }
    // saxes reports text when it reads the `<` after it: that `<` starts the next stanza.
    if (this.phase === "InRoot") {
      this.setMark(this.nextStanza, this.saxes.position - 1)
      this.nextStanzaSeen = true
    }
  }

  onCdata(text: string): void {
    const element = this.open[this.open.length - 1]
    if (element === undefined) return this.fail("Malformed", "a CDATA section between stanzas")
    appendText(element.children, text)
  }
}

/**
 * saxes with our handlers installed, as few as possible: saxes stores each
 * handler as a new property, and V8 turns a parser with more than about seven
 * of them into a slow dictionary object (measured: all of saxes 4x slower).
 * So the XML declaration is read from `xmlDecl` and a DOCTYPE is found in the
 * prolog text instead of through handlers.
 */
class RestrictedSaxes extends SaxesParser<{ xmlns: false }> {
  constructor(reader: StreamReader) {
    // Namespaces are resolved by `NamespaceScope`, faster than saxes does.
    super({ xmlns: false })
    this.ENTITIES = PREDEFINED_ENTITIES
    this.on("opentag", (tag) => reader.onOpenTag(tag))
    this.on("closetag", () => reader.onCloseTag())
    this.on("text", (text) => reader.onText(text))
    this.on("cdata", (text) => reader.onCdata(text))
    this.on("comment", () => reader.fail("RestrictedXml", "a comment is not allowed"))
    this.on("processinginstruction", () => reader.fail("RestrictedXml", "a processing instruction is not allowed"))
    this.on("error", (error) => reader.fail(reasonOfSaxesMessage(error.message), error.message))
  }
}

const appendText = (children: Array<Node>, text: string): void => {
  if (text.length === 0) return
  const last = children.length - 1
  const previous = children[last]
  if (typeof previous === "string") children[last] = previous + text
  else children.push(text)
}

