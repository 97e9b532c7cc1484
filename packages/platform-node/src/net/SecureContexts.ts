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
 * What a context holds: trust anchors (Node's default roots unless
 * `systemRoots` is false, plus `ca`), a client identity, and the protocol
 * versions.
 *
 * @since 0.1.0
 */
export interface ContextOptions {
  /** Extra trust anchors (PEM or DER). */
  readonly ca?: ReadonlyArray<string | Buffer> | undefined
  /** Trust Node's default roots too (default `true`). */
  readonly systemRoots?: boolean | undefined
  readonly cert?: string | undefined
  readonly key?: string | undefined
  readonly minVersion: Tls.SecureVersion
  readonly maxVersion?: Tls.SecureVersion | undefined
}

/** Enough for every configuration a process uses at once; the oldest goes first beyond it. */
const capacity = 16
const contexts = new Map<string, Tls.SecureContext>()

/**
 * Node's default trust: its bundled roots and `NODE_EXTRA_CA_CERTS` (and the
 * OS store under `--use-system-ca`), what Node's own `https` trusts.
 * `getCACertificates` is Node ≥ 22.15; before it, the bundled roots.
 */
const defaultRoots = (): ReadonlyArray<string> =>
  typeof Tls.getCACertificates === "function" ? Tls.getCACertificates("default") : Tls.rootCertificates

/**
 * The trust anchors of `options`, or undefined for Node's default set. The
 * one place where `ca` and `systemRoots` become what OpenSSL trusts, for
 * every transport.
 *
 * @since 0.1.0
 */
export const trustAnchors = (options: Pick<ContextOptions, "ca" | "systemRoots">): ReadonlyArray<string | Buffer> | undefined => {
  const extra = options.ca ?? []
  if (options.systemRoots === false) return extra
  // Node trusts its default set when no `ca` is given; an explicit `ca` would replace it.
  return extra.length === 0 ? undefined : [...defaultRoots(), ...extra]
}

const keyOf = (options: ContextOptions): string =>
  [
    options.systemRoots === false ? "only-ca" : "with-system-roots",
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
  const anchors = trustAnchors(options)
  const context = Tls.createSecureContext({
    minVersion: options.minVersion,
    ...(options.maxVersion === undefined ? {} : { maxVersion: options.maxVersion }),
    ...(anchors === undefined ? {} : { ca: [...anchors] }),
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
