// SCRAM-SHA-256 at 4096 iterations: the client's SASL crypto (effect/crypto
// on NodeCrypto layers, and on WebCrypto) next to node:crypto's pbkdf2Sync,
// and a whole negotiation (machine + crypto) with and without cached keys.
import * as NodeCrypto from "@effect/platform-node/NodeCrypto"
import { SaslCrypto } from "@xmpp-core/client"
import { Element, Namespaces, Negotiation, Scram, XmlStreamEvent } from "@xmpp-core/protocol"
import { Effect, Layer, Result } from "effect"
import { createHash, createHmac, pbkdf2Sync } from "node:crypto"
import { measure, measureAsync, report } from "../../../scripts/bench-harness.mjs"

const serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
const serverFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
const options: Scram.Options = {
  hash: "SHA-256",
  username: "user",
  password: "pencil",
  clientNonce: "rOprNGfwEbeRWgbNEkqO",
  binding: { _tag: "Unsupported" }
}
const started = Result.getOrThrow(Scram.start(options))
if (started.state._tag !== "AwaitingServerFirst") throw new Error("unexpected state")
const { request } = Result.getOrThrow(Scram.receiveServerFirst(started.state, new TextEncoder().encode(serverFirst)))

const nodeLayer = SaslCrypto.layer.pipe(
  Layer.provide([NodeCrypto.layerDigest, NodeCrypto.layerMac, NodeCrypto.layerKdf, NodeCrypto.layerSecureRandom])
)
const nodeCrypto = await Effect.runPromise(Effect.provide(SaslCrypto.SaslCrypto, nodeLayer))
const webCrypto = await Effect.runPromise(Effect.provide(SaslCrypto.SaslCrypto, SaslCrypto.layerWebCrypto))

// The whole SCRAM computation done with node:crypto's synchronous calls.
const scramWithNodeSync = () => {
  const salted = pbkdf2Sync(request.password, request.salt, request.iterations, 32, "sha256")
  const clientKey = createHmac("sha256", salted).update("Client Key").digest()
  const storedKey = createHash("sha256").update(clientKey).digest()
  const signature = createHmac("sha256", storedKey).update(request.authMessage).digest()
  const serverKey = createHmac("sha256", salted).update("Server Key").digest()
  return [clientKey.map((b, i) => b ^ (signature[i] ?? 0)), createHmac("sha256", serverKey).update(request.authMessage).digest()]
}

// The machine is shared with other work, so the contenders are measured in
// alternation, several times, and compared round by round.
const rounds = { iterations: 30, rounds: 3, warmup: 1 }
const samples = { pbkdf2: [] as Array<number>, nodeSync: [] as Array<number>, effectNode: [] as Array<number>, effectWeb: [] as Array<number>, ratio: [] as Array<number> }
for (let round = 0; round < 7; round++) {
  const pbkdf2 = measure(() => pbkdf2Sync(request.password, request.salt, 4096, 32, "sha256"), rounds).medianNs
  const effect = (await measureAsync(() => Effect.runPromise(nodeCrypto.computeScram(request)), rounds)).medianNs
  samples.pbkdf2.push(pbkdf2)
  samples.effectNode.push(effect)
  samples.ratio.push(effect / pbkdf2)
  samples.nodeSync.push(measure(scramWithNodeSync, rounds).medianNs)
  samples.effectWeb.push((await measureAsync(() => Effect.runPromise(webCrypto.computeScram(request)), rounds)).medianNs)
}
const median = (values: Array<number>) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? Number.NaN
const pbkdf2Only = { medianNs: median(samples.pbkdf2) }
const nodeSync = { medianNs: median(samples.nodeSync) }
const effectNode = { medianNs: median(samples.effectNode) }
const effectWeb = { medianNs: median(samples.effectWeb) }

// A whole negotiation: machine steps plus crypto, server scripted in memory.
const b64 = (s: string) => Buffer.from(s).toString("base64")
const el = (e: Element.Element) => XmlStreamEvent.streamElement(e)
const features = (...children: Array<Element.Element>) =>
  el(Element.make("features", { namespace: Namespaces.STREAMS, prefix: "stream", children }))
const header = XmlStreamEvent.streamOpen(Element.make("stream", {
  namespace: Namespaces.STREAMS,
  prefix: "stream",
  attributes: { from: "localhost", id: "x", version: "1.0" }
}))
const script: ReadonlyArray<Negotiation.Event> = [
  header,
  features(Element.make("mechanisms", {
    namespace: Namespaces.SASL,
    children: [Element.make("mechanism", { namespace: Namespaces.SASL, children: ["SCRAM-SHA-256"] })]
  })),
  el(Element.make("challenge", { namespace: Namespaces.SASL, children: [b64(serverFirst)] })),
  el(Element.make("success", { namespace: Namespaces.SASL, children: [b64(serverFinal)] })),
  header,
  features(Element.make("bind", { namespace: Namespaces.BIND })),
  el(Element.make("iq", {
    namespace: Namespaces.JABBER_CLIENT,
    attributes: { type: "result", id: "bind_1" },
    children: [Element.make("bind", {
      namespace: Namespaces.BIND,
      children: [Element.make("jid", { namespace: Namespaces.BIND, children: ["user@localhost/r"] })]
    })]
  }))
]
const login = async (cachedKeys: Scram.Keys | undefined): Promise<Scram.Keys | undefined> => {
  let t = Negotiation.make({
    transport: "tcp",
    domain: "localhost",
    credentials: { _tag: "Password", username: "user", password: "pencil" },
    clientNonce: "rOprNGfwEbeRWgbNEkqO",
    tls: { tlsVersion: "TLSv1.3", bindings: [] },
    cachedKeys
  }, 0)
  for (const event of script) {
    t = Negotiation.step(t.state, event, 1)
    for (const action of t.actions) {
      if (action._tag === "ComputeScram") {
        const computed = await Effect.runPromise(nodeCrypto.computeScram(action.request))
        t = Negotiation.step(t.state, Negotiation.scramComputed(computed), 1)
      }
    }
  }
  const bound = t.actions.find((a) => a._tag === "Bound")
  if (bound?._tag !== "Bound") throw new Error("login did not bind")
  return bound.scramKeys
}
const keys = await login(undefined)
const fullLogin = await measureAsync(() => login(undefined), { iterations: 30, rounds: 7, warmup: 1 })
const cachedLogin = await measureAsync(() => login(keys), { iterations: 2000, rounds: 7, warmup: 1 })

const ms = (ns: number) => `${(ns / 1e6).toFixed(3)} ms`
report("SCRAM-SHA-256, 4096 iterations (median per login)", [
  ["node:crypto pbkdf2Sync alone", ms(pbkdf2Only.medianNs)],
  ["node:crypto, whole SCRAM computation (sync)", ms(nodeSync.medianNs)],
  ["SaslCrypto on NodeCrypto layers", ms(effectNode.medianNs)],
  ["SaslCrypto on WebCrypto layers", ms(effectWeb.medianNs)],
  ["ratio NodeCrypto layers / pbkdf2Sync, median of 7 paired rounds (target ≤ 2)", median(samples.ratio).toFixed(2)],
  ["whole negotiation (machine + crypto), no cache", ms(fullLogin.medianNs)],
  ["whole negotiation with cached keys (no PBKDF2)", ms(cachedLogin.medianNs)]
])
