#!/usr/bin/env node
// Records real login exchanges with the local test servers (./run servers up)
// as fixtures for packages/protocol/test/stream/Transcripts.test.ts.
//
//   node scripts/record-transcripts.mjs [prosody|ejabberd ...]
//
// It is a recording tool, not product code: a deliberately small, independent
// XMPP client written straight on node:net/node:tls/node:crypto (STARTTLS with
// the test CA verified, SASL PLAIN / SCRAM-SHA-1 / SCRAM-SHA-256 with a fixed
// client nonce, resource binding). The replay test then runs the project's own
// negotiation machine against the recorded server side, with the same nonce,
// and requires exactly the client side recorded here, which the real server
// accepted.
import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from "node:crypto"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { request as httpsRequest } from "node:https"
import { connect as netConnect } from "node:net"
import { dirname, join } from "node:path"
import { connect as tlsConnect } from "node:tls"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const outDir = join(root, "packages/protocol/test/fixtures/transcripts")
// scripts/servers.sh describes where the servers listen and which CA signed them.
const servers = JSON.parse(readFileSync(join(root, ".state/servers.json"), "utf8"))
const ca = readFileSync(servers.ca)

const BASIC = ["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"]
// -PLUS is recorded over TLS 1.2 with tls-unique: neither server takes
// tls-exporter on TLS 1.3 (Prosody 0.12 offers no -PLUS there, ejabberd 23.01
// answers "Invalid channel binding").
const SERVERS = {
  prosody: {
    port: servers.prosody.c2s,
    mechanisms: [...BASIC, "SCRAM-SHA-256-PLUS"],
    bosh: `https://localhost:${servers.prosody.https}${servers.prosody.boshPath}`
  },
  ejabberd: {
    port: servers.ejabberd.c2s,
    mechanisms: [...BASIC, "SCRAM-SHA-512", "SCRAM-SHA-256-PLUS"],
    bosh: `https://localhost:${servers.ejabberd.https}${servers.ejabberd.boshPath}`
  }
}
// Over BOSH (HTTPS, so no STARTTLS and no channel binding).
const BOSH_MECHANISMS = ["PLAIN", "SCRAM-SHA-1"]
const ACCOUNT = { domain: "localhost", username: "alice", password: "alicepass", resource: "transcript" }
// Fixed so the replay can reproduce the client's messages byte for byte.
const CLIENT_NONCE = "xmppCoreTranscriptNonce0123456789"

const NS = {
  tls: "urn:ietf:params:xml:ns:xmpp-tls",
  sasl: "urn:ietf:params:xml:ns:xmpp-sasl",
  bind: "urn:ietf:params:xml:ns:xmpp-bind"
}
const HEADER = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' ` +
  `xmlns:stream='http://etherx.jabber.org/streams' to='${ACCOUNT.domain}' version='1.0'>`
// Once encrypted, the client names its account (RFC 6120 §4.7.1).
const SECURE_HEADER = HEADER.replace(" to=", ` from='${ACCOUNT.username}@${ACCOUNT.domain}' to=`)

const b64 = (s) => Buffer.from(s, "utf8").toString("base64")

/** A connection that records both directions, split into one segment per XML stream. */
class Recorder {
  constructor(socket) {
    this.segments = []
    this.newSegment()
    this.attach(socket)
  }
  attach(socket) {
    this.socket = socket
    socket.setEncoding("utf8")
    socket.on("data", (chunk) => {
      this.segment.server += chunk
      this.pending += chunk
      this.wake?.()
    })
  }
  newSegment() {
    this.segment = { client: "", server: "", then: "end" }
    this.segments.push(this.segment)
    this.pending = ""
  }
  write(text) {
    this.segment.client += text
    this.socket.write(text)
  }
  /** Waits until the unread server data matches `pattern`; returns the match and consumes through it. */
  async read(pattern, what) {
    const deadline = Date.now() + 5000
    for (;;) {
      const match = pattern.exec(this.pending)
      if (match) {
        this.pending = this.pending.slice(match.index + match[0].length)
        return match
      }
      if (/<stream:error|<failure/.test(this.pending)) throw new Error(`server refused while waiting for ${what}: ${this.pending}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got: ${this.pending}`)
      await new Promise((resolve) => {
        this.wake = resolve
        setTimeout(resolve, left)
      })
    }
  }
}

/**
 * The same interface over BOSH (XEP-0124/0206): each write is one HTTPS
 * request whose response body is appended to the unread server data; a read
 * that finds nothing polls with an empty body. Records every exchange.
 */
class BoshRecorder {
  constructor(url) {
    this.url = new URL(url)
    this.rid = 1_000_000
    this.sid = undefined
    this.pending = ""
    this.exchanges = []
  }
  async post(attributes, inner) {
    const attrs = Object.entries({ rid: String(this.rid++), sid: this.sid, ...attributes })
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => ` ${key}='${value}'`)
      .join("")
    const request = `<body xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh'${attrs}` +
      (inner === "" ? "/>" : `>${inner}</body>`)
    const response = await new Promise((resolve, reject) => {
      const req = httpsRequest(this.url, {
        method: "POST",
        ca,
        headers: { "content-type": "text/xml; charset=utf-8" }
      }, (res) => {
        let data = ""
        res.setEncoding("utf8")
        res.on("data", (chunk) => data += chunk)
        res.on("end", () => res.statusCode === 200 ? resolve(data) : reject(new Error(`HTTP ${res.statusCode}: ${data}`)))
      })
      req.on("error", reject)
      req.end(request)
    })
    this.exchanges.push({ request, response })
    this.sid ??= /\ssid=['"]([^'"]+)['"]/.exec(response)?.[1]
    if (/type=['"]terminate['"]/.test(response)) throw new Error(`BOSH session terminated: ${response}`)
    this.pending += response
  }
  create() {
    return this.post({
      to: ACCOUNT.domain,
      "xml:lang": "en",
      ver: "1.6",
      wait: "10",
      hold: "1",
      content: "text/xml; charset=utf-8",
      "xmpp:version": "1.0"
    }, "")
  }
  write(text) {
    return this.post({}, text)
  }
  restart() {
    return this.post({ to: ACCOUNT.domain, "xml:lang": "en", "xmpp:restart": "true" }, "")
  }
  async read(pattern, what) {
    for (let polls = 0; polls < 5; polls++) {
      const match = pattern.exec(this.pending)
      if (match) {
        this.pending = this.pending.slice(match.index + match[0].length)
        return match
      }
      if (/<stream:error|<failure/.test(this.pending)) throw new Error(`server refused while waiting for ${what}: ${this.pending}`)
      await this.post({}, "")
    }
    throw new Error(`no ${what} after 5 polls; got: ${this.pending}`)
  }
}

const features = /<stream:features[\s\S]*?<\/stream:features>/

// RFC 5929 tls-unique: the first Finished message of the handshake, which in
// a full (not resumed) TLS 1.2 handshake is the client's.
const tlsUnique = (socket) => socket.getFinished()

const scram = (name, hash, length, plus) => async (conn) => {
  const bare = `n=${ACCOUNT.username},r=${CLIENT_NONCE}`
  const gs2 = plus ? "p=tls-unique,," : "n,,"
  const cbind = plus ? Buffer.concat([Buffer.from(gs2), conn.channelBinding]) : Buffer.from(gs2)
  await conn.write(`<auth xmlns='${NS.sasl}' mechanism='${name}'>${b64(`${gs2}${bare}`)}</auth>`)
  const challenge = await conn.read(/<challenge[^>]*>([^<]*)<\/challenge>/, "SCRAM challenge")
  const serverFirst = Buffer.from(challenge[1], "base64").toString("utf8")
  const attrs = Object.fromEntries(serverFirst.split(",").map((p) => [p[0], p.slice(2)]))
  if (!attrs.r.startsWith(CLIENT_NONCE)) throw new Error("server nonce does not extend ours")
  const salted = pbkdf2Sync(ACCOUNT.password, Buffer.from(attrs.s, "base64"), Number(attrs.i), length, hash)
  const clientKey = createHmac(hash, salted).update("Client Key").digest()
  const storedKey = createHash(hash).update(clientKey).digest()
  const withoutProof = `c=${cbind.toString("base64")},r=${attrs.r}`
  const authMessage = `${bare},${serverFirst},${withoutProof}`
  const signature = createHmac(hash, storedKey).update(authMessage).digest()
  const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]))
  await conn.write(`<response xmlns='${NS.sasl}'>${b64(`${withoutProof},p=${proof.toString("base64")}`)}</response>`)
  const success = await conn.read(/<success[^>]*?(?:\/>|>([^<]*)<\/success>)/, "SCRAM success")
  const serverKey = createHmac(hash, salted).update("Server Key").digest()
  const expected = createHmac(hash, serverKey).update(authMessage).digest()
  const final = Buffer.from(success[1] ?? "", "base64").toString("utf8")
  const got = Buffer.from(final.slice(2), "base64")
  if (!final.startsWith("v=") || got.length !== expected.length || !timingSafeEqual(got, expected)) {
    throw new Error("server signature does not verify")
  }
}

const AUTH = {
  PLAIN: async (conn) => {
    await conn.write(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${b64(`\0${ACCOUNT.username}\0${ACCOUNT.password}`)}</auth>`)
    await conn.read(/<success[^>]*?(?:\/>|>[^<]*<\/success>)/, "PLAIN success")
  },
  "SCRAM-SHA-1": scram("SCRAM-SHA-1", "sha1", 20, false),
  "SCRAM-SHA-256": scram("SCRAM-SHA-256", "sha256", 32, false),
  "SCRAM-SHA-512": scram("SCRAM-SHA-512", "sha512", 64, false),
  "SCRAM-SHA-256-PLUS": scram("SCRAM-SHA-256-PLUS", "sha256", 32, true)
}

const record = async (server, mechanism) => {
  const { port } = SERVERS[server]
  const plain = netConnect({ host: "127.0.0.1", port })
  await new Promise((resolve, reject) => plain.once("connect", resolve).once("error", reject))
  const conn = new Recorder(plain)

  conn.write(HEADER)
  await conn.read(features, "features")
  conn.write(`<starttls xmlns='${NS.tls}'/>`)
  await conn.read(/<proceed[^>]*\/>|<proceed[^>]*><\/proceed>/, "proceed")
  conn.segment.then = "starttls"
  plain.removeAllListeners("data")
  const plus = mechanism.endsWith("-PLUS")
  const secure = tlsConnect({
    socket: plain,
    servername: ACCOUNT.domain,
    ca,
    ...(plus ? { maxVersion: "TLSv1.2", session: undefined } : {})
  })
  await new Promise((resolve, reject) => secure.once("secureConnect", resolve).once("error", reject))
  const tlsVersion = secure.getProtocol()
  conn.channelBinding = plus ? tlsUnique(secure) : undefined
  conn.newSegment()
  conn.attach(secure)

  conn.write(SECURE_HEADER)
  const offered = (await conn.read(features, "features after TLS"))[0]
  if (!offered.includes(`>${mechanism}<`)) throw new Error(`${server} does not offer ${mechanism}: ${offered}`)
  if (plus) console.log(`${server} features over ${tlsVersion}: ${offered}`)
  await AUTH[mechanism](conn)
  conn.segment.then = "restart"
  conn.newSegment()

  conn.write(SECURE_HEADER)
  await conn.read(features, "features after SASL")
  conn.write(
    `<iq type='set' id='bind_1'><bind xmlns='${NS.bind}'><resource>${ACCOUNT.resource}</resource></bind></iq>`
  )
  const bound = await conn.read(/<iq[\s\S]*?<\/iq>/, "bind result")
  const jid = /<jid>([^<]*)<\/jid>/.exec(bound[0])?.[1]
  if (jid === undefined) throw new Error(`bind failed: ${bound[0]}`)
  secure.end("</stream:stream>")

  const file = join(outDir, `${server}-${mechanism.toLowerCase()}.json`)
  const transcript = {
    comment: "Recorded by scripts/record-transcripts.mjs from a real server; replayed by Transcripts.test.ts.",
    server,
    mechanism,
    ...ACCOUNT,
    clientNonce: CLIENT_NONCE,
    tlsVersion,
    // Only the -PLUS recordings use it; the data is this one connection's.
    channelBinding: plus ? { type: "tls-unique", data: conn.channelBinding.toString("base64") } : undefined,
    jid,
    segments: conn.segments
  }
  writeFileSync(file, JSON.stringify(transcript, null, 2) + "\n")
  console.log(`${server} ${mechanism}: bound as ${jid} over ${tlsVersion} -> ${file}`)
}

const recordBosh = async (server, mechanism) => {
  const conn = new BoshRecorder(SERVERS[server].bosh)
  await conn.create()
  const offered = (await conn.read(features, "features"))[0]
  if (!offered.includes(`>${mechanism}<`)) throw new Error(`${server} does not offer ${mechanism} over BOSH: ${offered}`)
  await AUTH[mechanism](conn)
  await conn.restart()
  await conn.read(features, "features after SASL")
  await conn.write(
    `<iq type='set' id='bind_1' xmlns='jabber:client'><bind xmlns='${NS.bind}'><resource>${ACCOUNT.resource}</resource></bind></iq>`
  )
  const bound = await conn.read(/<iq[\s\S]*?<\/iq>/, "bind result")
  const jid = /<jid>([^<]*)<\/jid>/.exec(bound[0])?.[1]
  if (jid === undefined) throw new Error(`bind failed: ${bound[0]}`)
  await conn.post({ type: "terminate" }, "").catch(() => undefined)
  conn.exchanges.pop()

  const file = join(outDir, `${server}-bosh-${mechanism.toLowerCase()}.json`)
  const transcript = {
    comment: "Recorded over BOSH (HTTPS) by scripts/record-transcripts.mjs; replayed by Transcripts.test.ts.",
    server,
    transport: "bosh",
    mechanism,
    ...ACCOUNT,
    clientNonce: CLIENT_NONCE,
    jid,
    exchanges: conn.exchanges
  }
  writeFileSync(file, JSON.stringify(transcript, null, 2) + "\n")
  console.log(`${server} BOSH ${mechanism}: bound as ${jid} -> ${file}`)
}

mkdirSync(outDir, { recursive: true })
const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(SERVERS)
let failed = false
for (const server of chosen) {
  for (const mechanism of SERVERS[server].mechanisms) {
    try {
      await record(server, mechanism)
    } catch (error) {
      failed = true
      console.error(`${server} ${mechanism}: ${error.message}`)
    }
  }
  for (const mechanism of BOSH_MECHANISMS) {
    try {
      await recordBosh(server, mechanism)
    } catch (error) {
      failed = true
      console.error(`${server} BOSH ${mechanism}: ${error.message}`)
    }
  }
}
process.exit(failed ? 1 : 0)
