/**
 * `ServerLookup` on Node's resolver. SRV queries go to the system's name
 * servers, or to the given ones (`127.0.0.1:25353` for a test dnsmasq):
 * `NodeDns` takes name servers with ports and sets them on its own
 * `dns.Resolver`, leaving the process-wide resolver alone.
 *
 * @since 0.1.0
 */
import * as NodeDns from "@effect/platform-node/NodeDns"
import { ServerLookup } from "@xmpp-core/client"
import type * as Duration from "effect/Duration"
import * as Layer from "effect/Layer"
import { Dns, type NetAddress } from "effect/net"

/**
 * @since 0.1.0
 */
export interface Options {
  /** Name servers as `ip` or `ip:port` (IPv6 with a port in brackets). */
  readonly nameServers?: ReadonlyArray<string> | undefined
  /** Bound on one query attempt. */
  readonly timeout?: Duration.Input | undefined
  readonly tries?: number | undefined
}

/**
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<ServerLookup.ServerLookup, NetAddress.NetAddressError> =>
  ServerLookup.layer.pipe(Layer.provide(Layer.effect(Dns.Dns, NodeDns.make(options))))
