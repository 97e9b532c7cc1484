/**
 * `XmppClient` on Node in one line: the Node connector (TCP, proxies, TLS),
 * DNS SRV lookup on Node's resolver, SASL crypto on `node:crypto`, and BOSH
 * over undici (`NodeBoshHttpClient`, loaded on the first BOSH session). The
 * transport (TCP or BOSH) is chosen by the configuration.
 *
 * @since 0.1.0
 */
import * as NodeCrypto from "@effect/platform-node/NodeCrypto"
import { BoshHttpClients, SaslCrypto, XmppClient, type XmppClientConfig, type XmppClientError } from "@xmpp-core/client"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { NetAddress } from "effect/net"
import * as NodeConnector from "../net/NodeConnector.js"
import * as NodeServerLookup from "../net/NodeServerLookup.js"

/**
 * @since 0.1.0
 */
export interface Options extends XmppClient.ConnectOptions {
  readonly connector?: NodeConnector.Options | undefined
  readonly serverLookup?: NodeServerLookup.Options | undefined
}

/**
 * SCRAM's PBKDF2/HMAC/digest and the nonce source on `node:crypto`.
 *
 * @since 0.1.0
 */
export const layerSaslCrypto: Layer.Layer<SaslCrypto.SaslCrypto> = SaslCrypto.layer.pipe(
  Layer.provide([NodeCrypto.layerDigest, NodeCrypto.layerMac, NodeCrypto.layerKdf, NodeCrypto.layerSecureRandom])
)

/**
 * `NodeBoshHttpClient.layerClients` (BOSH's HTTP on undici), its module
 * imported when the first BOSH session makes its client: a process that only
 * speaks TCP never loads undici (about 10 MB of RSS).
 *
 * @since 0.1.0
 */
export const layerBoshHttpClients: Layer.Layer<BoshHttpClients.BoshHttpClients> = Layer.succeed(
  BoshHttpClients.BoshHttpClients
)({
  make: (config) =>
    Effect.flatMap(
      Effect.promise(() => import("../http/NodeBoshHttpClient.js")),
      // `make` directly: a Layer built per session kept ~2 KiB more of each idle session.
      (NodeBoshHttpClient) => NodeBoshHttpClient.make(config)
    )
})

/**
 * Everything `XmppClient.connect` needs on Node, for apps that connect
 * several clients themselves.
 *
 * @since 0.1.0
 */
export const layerPorts = (
  options: Options = {}
): Layer.Layer<XmppClient.Ports, NetAddress.NetAddressError> =>
  Layer.mergeAll(
    NodeConnector.layer(options.connector),
    NodeServerLookup.layer(options.serverLookup),
    layerSaslCrypto,
    layerBoshHttpClients,
    NodeCrypto.layerSecureRandom
  )

/**
 * A connected `XmppClient` for any configuration (TCP or BOSH): connects
 * when the layer is built, closes the stream when it is released.
 *
 * @since 0.1.0
 */
export const layer = (
  config: XmppClientConfig.XmppClientConfig,
  options: Options = {}
): Layer.Layer<XmppClient.XmppClient, XmppClientError | NetAddress.NetAddressError> =>
  XmppClient.layer(config, options).pipe(Layer.provide(layerPorts(options)))
