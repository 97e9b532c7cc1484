/**
 * TLS secure contexts, built once per distinct trust and identity and then
 * shared by every handshake that asks for the same. Building one parses
 * every trusted certificate: with Node's ~145 roots plus an extra CA that is
 * about 9 ms, which every BOSH login (and, with HTTP `close`, every BOSH
 * request) paid before.
 *
 * @since 0.1.0
 */
import * as Tls from "node:tls"

/**
 * What a context holds: trust anchors (`ca`, replacing Node's roots when
 * given), a client identity, and the protocol versions.
 *
 * @since 0.1.0
 */
export interface ContextOptions {
  readonly ca?: ReadonlyArray<string | Buffer> | undefined
  readonly cert?: string | undefined
  readonly key?: string | undefined
  readonly minVersion: Tls.SecureVersion
  readonly maxVersion?: Tls.SecureVersion | undefined
}

/** Enough for every configuration a process uses at once; the oldest goes first beyond it. */
const capacity = 16
const contexts = new Map<string, Tls.SecureContext>()

const keyOf = (options: ContextOptions): string =>
  [
    options.minVersion,
    options.maxVersion ?? "",
    options.cert ?? "",
    options.key ?? "",
    ...(options.ca ?? []).map((entry) => (typeof entry === "string" ? entry : entry.toString("latin1")))
  ].join("\u0000")

/**
 * The secure context for `options`, built on first use and reused after.
 *
 * @since 0.1.0
 */
export const secureContext = (options: ContextOptions): Tls.SecureContext => {
  const key = keyOf(options)
  const known = contexts.get(key)
  if (known !== undefined) return known
  const context = Tls.createSecureContext({
    minVersion: options.minVersion,
    ...(options.maxVersion === undefined ? {} : { maxVersion: options.maxVersion }),
    ...(options.ca === undefined ? {} : { ca: [...options.ca] }),
    ...(options.cert === undefined ? {} : { cert: options.cert }),
    ...(options.key === undefined ? {} : { key: options.key })
  })
  if (contexts.size >= capacity) {
    const oldest = contexts.keys().next()
    if (oldest.done !== true) contexts.delete(oldest.value)
  }
  contexts.set(key, context)
  return context
}
