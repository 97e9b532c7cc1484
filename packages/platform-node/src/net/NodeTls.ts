/**
 * TLS with Node over an already open socket (after a proxy tunnel, or for
 * STARTTLS): verification always on, SNI set, errors classified as
 * `TlsError`, and what channel binding needs read off the session.
 *
 * @since 0.1.0
 */
import { type ChannelBinding, TlsError, type Route, type TlsInfo } from "@xmpp-core/client"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import * as Net from "node:net"
import * as Tls from "node:tls"
import * as SecureContexts from "./SecureContexts.js"

/**
 * What the TLS handshake needs.
 *
 * @since 0.1.0
 */
export interface HandshakeOptions {
  /** The name to verify the certificate against (and send as SNI unless it is an IP literal). */
  readonly name: string
  readonly ca?: Route.TlsOptions["ca"]
  readonly systemRoots?: Route.TlsOptions["systemRoots"]
  readonly alpnProtocols?: ReadonlyArray<string> | undefined
  readonly maxVersion?: "TLSv1.2" | "TLSv1.3" | undefined
  /** Presented when the server asks for a client certificate. */
  readonly clientCertificate?: Route.TlsOptions["clientCertificate"]
}

const codeOf = (cause: unknown): string | undefined =>
  typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string" ? cause.code : undefined

// OpenSSL's verification results (X509_V_ERR_*), as Node names them, that mean "not a certificate to trust".
const certificateCodes = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "CERT_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "CERT_REVOKED",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "INVALID_CA",
  "INVALID_PURPOSE",
  "PATH_LENGTH_EXCEEDED",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD"
])

/**
 * The `TlsError` for a Node TLS error on `hop`.
 *
 * @since 0.1.0
 */
export const tlsError = (cause: unknown, hop: Route.Hop): TlsError => {
  const code = codeOf(cause)
  const detail = cause instanceof Error ? cause.message : String(cause)
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return new TlsError({ reason: "HostnameMismatch", message: `certificate of ${hop.host}:${hop.port} is not for the expected name: ${detail}`, hop, cause })
  }
  if (code !== undefined && certificateCodes.has(code)) {
    return new TlsError({ reason: "CertificateInvalid", message: `certificate of ${hop.host}:${hop.port} is not trusted (${code})`, hop, cause })
  }
  return new TlsError({ reason: "HandshakeFailed", message: `TLS handshake with ${hop.host}:${hop.port} failed: ${detail}`, hop, cause })
}

/**
 * The hash for `tls-server-end-point` (RFC 5929 §4.1): SHA-256 when the
 * certificate is signed with MD5, SHA-1 or SHA-256, else the signature's own
 * hash; undefined for signatures without a single hash (Ed25519, RSA-PSS).
 */
const endPointHash = (certificate: Crypto.X509Certificate): string | undefined => {
  const algorithm = certificate.signatureAlgorithm?.toLowerCase() ?? ""
  if (/sha-?512/.test(algorithm)) return "sha512"
  if (/sha-?384/.test(algorithm)) return "sha384"
  if (/sha|md5/.test(algorithm) && !/pss/.test(algorithm)) return "sha256"
  return undefined
}

const binding = (type: ChannelBinding.ChannelBindingType, data: Buffer | undefined): Option.Option<ChannelBinding.ChannelBinding> =>
  data === undefined || data.length === 0 ? Option.none() : Option.some({ type, data: new Uint8Array(data) })

/**
 * Reads what the layers above need off an established TLS socket. Everything
 * is read at once: the socket may be gone when SASL asks.
 *
 * @since 0.1.0
 */
export const info = (socket: Tls.TLSSocket): TlsInfo.TlsInfo => {
  const protocol = socket.getProtocol() ?? "unknown"
  const tls13 = protocol === "TLSv1.3"
  // RFC 9266 asks for no context; in TLS 1.3 an empty context is the same thing (RFC 8446 §7.5).
  const exporter = tls13
    ? binding("tls-exporter", socket.exportKeyingMaterial(32, "EXPORTER-Channel-Binding", Buffer.alloc(0)))
    : Option.none()
  // tls-unique is the first Finished message: ours on a full handshake, the server's on a resumed one.
  const unique = tls13
    ? Option.none()
    : binding("tls-unique", socket.isSessionReused() ? socket.getPeerFinished() : socket.getFinished())
  const raw = socket.getPeerX509Certificate()
  const hash = raw === undefined ? undefined : endPointHash(raw)
  const endPoint = raw === undefined || hash === undefined
    ? Option.none()
    : binding("tls-server-end-point", Crypto.createHash(hash).update(raw.raw).digest())
  const alpn = socket.alpnProtocol
  return {
    tlsVersion: protocol,
    alpnProtocol: typeof alpn === "string" ? Option.some(alpn) : Option.none(),
    channelBinding: (type) => (type === "tls-exporter" ? exporter : type === "tls-unique" ? unique : endPoint),
    bindings: [exporter, unique, endPoint].flatMap((b) => (Option.isSome(b) ? [b.value] : []))
  }
}

const toCa = (ca: Route.TlsOptions["ca"]): Array<string | Buffer> | undefined => {
  if (ca === undefined) return undefined
  const list: ReadonlyArray<string | Uint8Array> = typeof ca === "string" || ca instanceof Uint8Array ? [ca] : ca
  return list.map((entry) => (typeof entry === "string" ? entry : Buffer.from(entry)))
}

/**
 * Runs the client TLS handshake over `socket`. The certificate chain and the
 * host name are always verified, against Node's default roots plus `ca` (or
 * `ca` alone with `systemRoots: false`: see `SecureContexts`). The TLS
 * socket is destroyed when the scope closes.
 *
 * @since 0.1.0
 */
export const handshake = (
  socket: Net.Socket,
  options: HandshakeOptions,
  hop: Route.Hop,
  timeout: Duration.Duration
): Effect.Effect<Tls.TLSSocket, TlsError, Scope.Scope> => {
  if (socket.readableLength > 0) {
    // A TLS server speaks only after our ClientHello: bytes already here are not TLS.
    return Effect.fail(new TlsError({
      reason: "HandshakeFailed",
      message: `${hop.host}:${hop.port} sent ${socket.readableLength} bytes before the TLS handshake`,
      hop
    }))
  }
  // Built inside the handshake's try: a PEM that does not parse is a TlsError, not a defect.
  const connectOptions = (): Tls.ConnectionOptions => ({
    socket,
    // SNI carries host names only (RFC 6066 §3); an IP literal is still verified through `host`.
    ...(Net.isIP(options.name) === 0 ? { servername: options.name } : {}),
    host: options.name,
    rejectUnauthorized: true,
    // Trust, identity and versions: one context per distinct set, built once.
    secureContext: SecureContexts.secureContext({
      ca: toCa(options.ca),
      systemRoots: options.systemRoots,
      minVersion: "TLSv1.2",
      maxVersion: options.maxVersion,
      cert: options.clientCertificate?.certificate,
      key: options.clientCertificate === undefined ? undefined : Redacted.value(options.clientCertificate.key)
    }),
    ...(options.alpnProtocols === undefined || options.alpnProtocols.length === 0
      ? {}
      : { ALPNProtocols: [...options.alpnProtocols] })
  })
  return Effect.uninterruptibleMask((restore) =>
    restore(
      Effect.callback<Tls.TLSSocket, TlsError>((resume) => {
        let tlsSocket: Tls.TLSSocket
        try {
          tlsSocket = Tls.connect(connectOptions())
        } catch (cause) {
          resume(Effect.fail(tlsError(cause, hop)))
          return
        }
        const cleanup = () => {
          tlsSocket.off("secureConnect", onSecure)
          tlsSocket.off("error", onError)
          tlsSocket.off("close", onClose)
        }
        function onSecure() {
          cleanup()
          tlsSocket.on("error", () => {})
          // rejectUnauthorized already refuses such a peer; this is the second lock on the door.
          if (!tlsSocket.authorized) {
            tlsSocket.destroy()
            resume(Effect.fail(tlsError(tlsSocket.authorizationError, hop)))
            return
          }
          resume(Effect.succeed(tlsSocket))
        }
        function onError(cause: Error) {
          cleanup()
          tlsSocket.destroy()
          resume(Effect.fail(tlsError(cause, hop)))
        }
        function onClose() {
          cleanup()
          resume(Effect.fail(new TlsError({ reason: "HandshakeFailed", message: `${hop.host}:${hop.port} closed the connection during the TLS handshake`, hop })))
        }
        tlsSocket.once("secureConnect", onSecure)
        tlsSocket.once("error", onError)
        tlsSocket.once("close", onClose)
        return Effect.sync(() => {
          cleanup()
          tlsSocket.destroy()
        })
      }).pipe(
        Effect.timeoutOrElse({
          duration: timeout,
          orElse: () =>
            Effect.fail(new TlsError({ reason: "TimedOut", message: `TLS handshake with ${hop.host}:${hop.port} did not finish in time`, hop }))
        })
      )
    ).pipe(Effect.tap((tlsSocket) => Effect.addFinalizer(() => Effect.sync(() => tlsSocket.destroy()))))
  )
}
