/**
 * A TLS client certificate: what SASL EXTERNAL logs in with (RFC 6120
 * §6.3.4, the certificate's `id-on-xmppAddr` names the account). Presented
 * in every TLS handshake of the session: direct TLS, STARTTLS, and each
 * HTTPS connection of a BOSH session. The key stays `Redacted` from decoding
 * to the TLS port, so it never reaches a log or an error message.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

const CertificatePem = Schema.String.check(
  Schema.isPattern(/-----BEGIN CERTIFICATE-----/, { message: "expected a PEM certificate (-----BEGIN CERTIFICATE-----)" })
)

/**
 * The certificate (PEM, optionally followed by its intermediates) and its
 * private key (PEM, unencrypted). The key is not checked here, so that no
 * decoding message can ever quote it; the TLS port refuses a bad one.
 *
 * @since 0.1.0
 */
export const ClientCertificate = Schema.Struct({
  certificate: CertificatePem,
  key: Schema.RedactedFromValue(Schema.String)
})

/** @since 0.1.0 */
export type ClientCertificate = typeof ClientCertificate.Type
