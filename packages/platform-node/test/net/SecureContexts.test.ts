/**
 * Secure contexts are shared only between handshakes that ask for the same
 * trust, identity and versions: a context built for one CA set never
 * verifies for another.
 */
import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import * as Tls from "node:tls"
import * as SecureContexts from "../../src/net/SecureContexts.js"
import { caPem, servers } from "./Servers.js"

const s = servers()
const ca = caPem(s)
const clientCert = s.clientCertificates["alice@localhost"]

describe("SecureContexts", () => {
  it("the same options give the same context, built once", () => {
    const first = SecureContexts.secureContext({ ca: [...Tls.rootCertificates, ca], minVersion: "TLSv1.2" })
    const again = SecureContexts.secureContext({ ca: [...Tls.rootCertificates, ca], minVersion: "TLSv1.2" })
    assert.strictEqual(again, first)
  })

  it("another CA set, version cap or client identity gives another context", () => {
    const base = { ca: [ca], minVersion: "TLSv1.2" } as const
    const context = SecureContexts.secureContext(base)
    const others = [
      SecureContexts.secureContext({ ...base, ca: [...Tls.rootCertificates, ca] }),
      SecureContexts.secureContext({ ...base, ca: undefined }),
      SecureContexts.secureContext({ ...base, maxVersion: "TLSv1.2" }),
      SecureContexts.secureContext({
        ...base,
        cert: readFileSync(clientCert.cert, "utf8"),
        key: readFileSync(clientCert.key, "utf8")
      })
    ]
    for (const other of others) assert.notStrictEqual(other, context)
    assert.strictEqual(new Set(others).size, others.length)
  })
})

describe("SecureContexts.trustAnchors: the one place where ca and systemRoots become trust", () => {
  const nodeDefault = Tls.getCACertificates("default")

  it("no ca: Node's default set, untouched", () => {
    assert.isUndefined(SecureContexts.trustAnchors({}))
    assert.isUndefined(SecureContexts.trustAnchors({ systemRoots: true }))
  })

  it("ca is added to Node's default set (bundled roots and NODE_EXTRA_CA_CERTS), not put in its place", () => {
    const anchors = SecureContexts.trustAnchors({ ca: [ca] }) ?? []
    assert.strictEqual(anchors.length, nodeDefault.length + 1)
    assert.strictEqual(anchors.at(-1), ca)
    assert.includeMembers([...anchors], nodeDefault.slice(0, 3))
  })

  it("systemRoots false trusts ca alone", () => {
    assert.deepStrictEqual(SecureContexts.trustAnchors({ ca: [ca], systemRoots: false }), [ca])
  })
})
