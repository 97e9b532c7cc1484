// Stream-parse throughput on a realistic stanza stream, ours next to bare
// saxes on the same bytes. Target: ours keeps at least 80 % of saxes' own
// throughput. Both are fed the same 16 KiB byte chunks; bare saxes gets them
// through the same streaming TextDecoder it needs to read bytes at all, with
// `xmlns: true` (namespace resolution, which ours does too) and handlers that
// do nothing. For context it also shows bare saxes without `xmlns`: ours runs
// saxes that way and resolves namespaces itself (see NamespaceScope.ts).
//
// Each measurement runs in its own worker thread, so each parser gets a JIT
// of its own (run in one isolate, saxes' code turns polymorphic over the
// parser shapes and all of them slow down), and rounds alternate between the
// parsers. The figures are best-of (fastest pass): on a shared machine the
// slower passes measure the neighbours' load, not the parser.
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads"
import { Result } from "effect"
import { XmlStreamParser } from "@xmpp-core/protocol"
import { SaxesParser } from "saxes"
import { measure, report } from "../../../scripts/bench-harness.mjs"

const TARGET_BYTES = 20 * 1024 * 1024
const CHUNK_BYTES = 16 * 1024

// A deterministic generator (no Math.random, so every run parses the same bytes).
let seed = 0x2545F491
const next = (n: number): number => {
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  return (seed >>> 0) % n
}
const words = ["hello", "world", "café", "naïve", "🎉", "&amp;", "&lt;tag&gt;", "ok", "thanks", "see", "you", "later"]
const sentence = (n: number): string => Array.from({ length: n }, () => words[next(words.length)]).join(" ")
const jid = (): string => `user${next(500)}@example.org/res${next(5)}`

const message = (i: number): string =>
  `<message to='${jid()}' from='${jid()}' type='chat' id='m${i}' xml:lang='en'>` +
  `<body>${sentence(4 + next(30))}</body>` +
  `<active xmlns='http://jabber.org/protocol/chatstates'/>` +
  `<origin-id xmlns='urn:xmpp:sid:0' id='o${i}'/></message>`
const presence = (i: number): string =>
  `<presence from='${jid()}' id='p${i}'><show>away</show><status>${sentence(3)}</status>` +
  `<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://example.org' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>` +
  `</presence>`
const iq = (i: number): string =>
  `<iq type='result' id='q${i}' to='${jid()}'><query xmlns='jabber:iq:roster' ver='v${i}'>` +
  Array.from({ length: 1 + next(6) }, () =>
    `<item jid='${jid()}' name='${sentence(1)}' subscription='both'><group>Friends</group></item>`).join("") +
  `</query></iq>`

const parts: Array<string> = [
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' " +
  "from='example.org' id='s1' version='1.0' xml:lang='en'>"
]
let length = parts[0]?.length ?? 0
for (let i = 0; length < TARGET_BYTES; i++) {
  const kind = next(10)
  const stanza = (kind < 6 ? message(i) : kind < 9 ? presence(i) : iq(i)) + (next(20) === 0 ? "\n " : "")
  parts.push(stanza)
  length += stanza.length
}
parts.push("</stream:stream>")
const bytes = new TextEncoder().encode(parts.join(""))
const chunks: Array<Uint8Array> = []
for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) chunks.push(bytes.subarray(offset, offset + CHUNK_BYTES))

let stanzas = 0
const runOurs = (): void => {
  const parser = XmlStreamParser.make({ maxStanzaBytes: 1024 * 1024 })
  stanzas = 0
  for (const chunk of chunks) {
    const result = parser.push(chunk)
    if (Result.isFailure(result)) throw new Error(result.failure.message)
    stanzas += result.success.length
  }
  if (Result.isFailure(parser.end())) throw new Error("stream did not end cleanly")
}

// Bare saxes on the same bytes: empty handlers, the UTF-8 decoding our layer also does.
const runBareSaxes = (xmlns: boolean): void => {
  const decoder = new TextDecoder("utf-8", { fatal: true })
  const parser = new SaxesParser({ xmlns })
  parser.on("opentag", () => {})
  parser.on("closetag", () => {})
  parser.on("text", () => {})
  parser.on("error", (error) => {
    throw error
  })
  for (const chunk of chunks) parser.write(decoder.decode(chunk, { stream: true }))
  parser.close()
}

type Variant = "saxes" | "ours" | "saxesWithoutNamespaces"
const variants: Record<Variant, () => void> = {
  saxes: () => runBareSaxes(true),
  ours: runOurs,
  saxesWithoutNamespaces: () => runBareSaxes(false)
}

/** Times one variant in a fresh worker: seconds of its fastest pass over the stream. */
const timeInWorker = (variant: Variant): Promise<{ seconds: number; stanzas: number }> =>
  new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: variant })
    worker.once("message", resolve)
    worker.once("error", reject)
  })

const isVariant = (value: unknown): value is Variant =>
  value === "saxes" || value === "ours" || value === "saxesWithoutNamespaces"

if (!isMainThread) {
  const variant: unknown = workerData
  if (!isVariant(variant)) throw new Error(`unknown variant ${String(variant)}`)
  const timing = measure(variants[variant], { iterations: 1, rounds: 5, warmup: 2 })
  parentPort?.postMessage({ seconds: timing.minNs / 1e9, stanzas })
} else {
  const ROUNDS = 3
  const samples: Record<Variant, Array<number>> = { saxes: [], ours: [], saxesWithoutNamespaces: [] }
  let count = 0
  for (let round = 0; round < ROUNDS; round++) {
    const saxes = await timeInWorker("saxes")
    const ours = await timeInWorker("ours")
    const plain = await timeInWorker("saxesWithoutNamespaces")
    samples.saxes.push(saxes.seconds)
    samples.ours.push(ours.seconds)
    samples.saxesWithoutNamespaces.push(plain.seconds)
    count = ours.stanzas
  }
  const megabytes = bytes.length / (1024 * 1024)
  const best = (variant: Variant): number => Math.min(...samples[variant])
  const rate = (variant: Variant): string => `${(megabytes / best(variant)).toFixed(1)} MiB/s`
  report(`XML stream parser, ${megabytes.toFixed(1)} MiB of stanzas in ${CHUNK_BYTES / 1024} KiB chunks`, [
    ["events (stanzas, header, close)", String(count)],
    ["bare saxes (xmlns, empty handlers), best", rate("saxes")],
    ["XmlStreamParser (elements, limits), best", rate("ours")],
    ["ours / saxes", `${((best("saxes") / best("ours")) * 100).toFixed(1)} % (target ≥ 80 %)`],
    ["for context: bare saxes without xmlns, best", rate("saxesWithoutNamespaces")]
  ])
}
