/**
 * Finding where an XMPP domain's clients connect: the DNS SRV records
 * `_xmpps-client._tcp` (direct TLS, XEP-0368) and `_xmpp-client._tcp`
 * (STARTTLS, RFC 6120 §3.2.1), merged and ordered by priority and weight,
 * falling back to the domain itself on port 5222 when there are none.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import { Dns } from "effect/net"
import * as Route from "./Route.js"
import * as SrvOrder from "./SrvOrder.js"

/**
 * One place to try.
 *
 * @since 0.1.0
 */
export interface Endpoint {
  readonly host: string
  readonly port: number
  /** `true` for `_xmpps-client` (TLS from the first byte), `false` for STARTTLS. */
  readonly directTls: boolean
}

/**
 * The default client port of RFC 6120 §3.2.1, used when a domain has no SRV records.
 *
 * @since 0.1.0
 */
export const defaultPort = 5222

/**
 * The conventional port for TLS from the first byte (XEP-0368), used when a
 * direct TLS route names no port.
 *
 * @since 0.1.0
 */
export const defaultDirectTlsPort = 5223

/**
 * The port of a route that names none: {@link defaultDirectTlsPort} with
 * direct TLS, else {@link defaultPort}.
 *
 * @since 0.1.0
 */
export const defaultPortFor = (directTls: boolean | undefined): number =>
  directTls === true ? defaultDirectTlsPort : defaultPort

/**
 * @since 0.1.0
 */
export class ServerLookup extends Context.Service<ServerLookup, {
  /**
   * The endpoints of `domain` in the order to try them. Empty when the
   * domain says, with a single SRV target ".", that it offers no client
   * service (RFC 2782).
   */
  readonly lookup: (domain: string) => Effect.Effect<ReadonlyArray<Endpoint>>
}>()("@xmpp-core/client/net/ServerLookup") {}

interface Candidate extends SrvOrder.Weighted, Endpoint {}

/** A lookup that fails for any reason counts as no records (RFC 6120 §3.2.1 falls back then). */
const srvRecords = (dns: Dns.Dns["Service"], name: string, directTls: boolean) =>
  dns.resolve(name, "SRV").pipe(
    Effect.map((records) =>
      records.map((record): Candidate & { readonly target: string } => ({
        host: record.target.replace(/\.$/, ""),
        target: record.target,
        port: record.port,
        priority: record.priority,
        weight: record.weight,
        directTls
      }))
    ),
    Effect.orElseSucceed(() => [])
  )

/**
 * Builds the lookup on the `Dns` service; weights are drawn from the `Random` service.
 *
 * @since 0.1.0
 */
export const make = Effect.gen(function*() {
  const dns = yield* Dns.Dns
  const lookup = Effect.fnUntraced(function*(domain: string) {
    const bare = domain.replace(/\.$/, "")
    const [direct, starttls] = yield* Effect.all([
      srvRecords(dns, `_xmpps-client._tcp.${bare}`, true),
      srvRecords(dns, `_xmpp-client._tcp.${bare}`, false)
    ], { concurrency: 2 })
    const all = [...direct, ...starttls]
    if (all.length === 0) return [{ host: bare, port: defaultPort, directTls: false }]
    // A lone "." target declines the service of that kind.
    const offered = all.filter((record) => record.target !== "." && record.host !== "")
    const random = yield* Random.Random
    const ordered = SrvOrder.order(offered, (max) => Math.floor(random.nextDoubleUnsafe() * (max + 1)))
    return ordered.map(({ host, port, directTls }): Endpoint => ({ host, port, directTls }))
  })
  return ServerLookup.of({ lookup })
})

/**
 * @since 0.1.0
 */
export const layer: Layer.Layer<ServerLookup, never, Dns.Dns> = Layer.effect(ServerLookup, make)

/**
 * The route to an endpoint of `domain`: the certificate is checked against the
 * XMPP domain, not the SRV target (RFC 6120 §13.7.2.1), and direct TLS offers
 * ALPN `xmpp-client` (XEP-0368).
 *
 * @since 0.1.0
 */
export const toRoute = (
  domain: string,
  endpoint: Endpoint,
  options: {
    readonly proxies?: ReadonlyArray<Route.Proxy> | undefined
    readonly ca?: Route.TlsOptions["ca"]
    readonly systemRoots?: Route.TlsOptions["systemRoots"]
  } = {}
): Route.Route =>
  Route.make(endpoint.host, endpoint.port, {
    proxies: options.proxies,
    tls: endpoint.directTls
      ? {
        servername: domain,
        ca: options.ca,
        ...(options.systemRoots === undefined ? {} : { systemRoots: options.systemRoots }),
        alpnProtocols: [Route.xmppClientAlpn]
      }
      : undefined
  })
