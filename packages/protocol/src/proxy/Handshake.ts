/**
 * The shape shared by the pure proxy handshakes: a value that is fed the bytes
 * the proxy sent and answers with the bytes to send, until the tunnel is open
 * or refused. No sockets; the caller moves the bytes.
 *
 * @since 0.1.0
 */
import type { ProxyHandshakeError } from "./ProxyHandshakeError.js"

/**
 * The result of one step.
 *
 * - `Continue`: send `output` (possibly nothing) and feed the next bytes from the proxy to `state`.
 * - `Established`: send `output`; the tunnel is open. `leftover` holds the bytes the proxy sent after
 *   its reply: they already belong to the tunnel and must be handed to the next layer, not dropped.
 * - `Failed`: the proxy refused or misbehaved; close the connection.
 *
 * @since 0.1.0
 */
export type Step<S> =
  | { readonly _tag: "Continue"; readonly state: S; readonly output: ReadonlyArray<Uint8Array> }
  | { readonly _tag: "Established"; readonly output: ReadonlyArray<Uint8Array>; readonly leftover: Uint8Array }
  | { readonly _tag: "Failed"; readonly error: ProxyHandshakeError }

/**
 * A handshake ready to be driven, as `make` builds it: the first bytes to
 * send, the first state, and `step`, which feeds the proxy's bytes to a state
 * (the machine vocabulary of the package: `make`, `step`, `Step`). Both HTTP
 * CONNECT and SOCKS5 produce one, so a single driver runs either.
 *
 * @since 0.1.0
 */
export interface Handshake<S> {
  readonly state: S
  readonly output: ReadonlyArray<Uint8Array>
  readonly step: (state: S, bytes: Uint8Array) => Step<S>
}

/**
 * Bytes read as ISO-8859-1, one character per byte: how HTTP header bytes are
 * interpreted (RFC 9110 §5.5).
 *
 * @internal
 */
export const latin1 = (bytes: Uint8Array): string => {
  let text = ""
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192))
  }
  return text
}
