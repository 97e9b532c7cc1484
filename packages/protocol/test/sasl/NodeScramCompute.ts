/**
 * Test-only: the SCRAM computation done with node:crypto, so the protocol's
 * pure message logic can be checked against the RFC vectors without the
 * client package. The client's SASL service does the same with effect/crypto
 * and has its own tests.
 */
import { createHash, createHmac, pbkdf2Sync } from "node:crypto"
import type { Scram } from "@xmpp-core/protocol"

const nodeName = (hash: Scram.Hash) => hash === "SHA-1" ? "sha1" : hash === "SHA-256" ? "sha256" : "sha512"

export const computeWithNode = (request: Scram.ComputeRequest): Scram.Computed => {
  const h = nodeName(request.hash)
  let keys = request.cached
  if (keys === undefined) {
    const length = request.hash === "SHA-1" ? 20 : request.hash === "SHA-256" ? 32 : 64
    const salted = pbkdf2Sync(request.password, request.salt, request.iterations, length, h)
    keys = {
      hash: request.hash,
      salt: request.saltBase64,
      iterations: request.iterations,
      clientKey: new Uint8Array(createHmac(h, salted).update("Client Key").digest()),
      serverKey: new Uint8Array(createHmac(h, salted).update("Server Key").digest())
    }
  }
  const storedKey = createHash(h).update(keys.clientKey).digest()
  const clientSignature = createHmac(h, storedKey).update(request.authMessage).digest()
  const clientProof = new Uint8Array(keys.clientKey.map((byte, i) => byte ^ (clientSignature[i] ?? 0)))
  const serverSignature = new Uint8Array(createHmac(h, keys.serverKey).update(request.authMessage).digest())
  return { clientProof, serverSignature, keys }
}
