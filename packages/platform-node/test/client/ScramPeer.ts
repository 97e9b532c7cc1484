/**
 * Test-only scripted XMPP server over direct TLS (Node `tls`, the fixture
 * CA) that speaks the server side of SCRAM-SHA-256 and -PLUS, for what the
 * real servers here cannot do: advertise XEP-0440 binding types, verify
 * `tls-exporter` and `tls-server-end-point`, and refuse a `y` login the way
 * RFC 5802 §6 says a server that binds must. It binds `alice@localhost/scripted`.
 */
import { Effect } from "effect"
import * as Crypto from "node:crypto"
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import * as Tls from "node:tls"
import { fileURLToPath } from "node:url"

const fixture = (name: string) => readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "net", "fixtures", name))
export const ca = fixture("ca.pem").toString("utf8")
const key = fixture("localhost.key")
const cert = fixture("localhost.pem")

const SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
const BIND = "urn:ietf:params:xml:ns:xmpp-bind"
const PASSWORD = "pencil"
const SALT = Buffer.from("scripted-salt-16")
const ITERATIONS = 4096

export interface Options {
  /** The `<mechanism/>` names offered. */
  readonly mechanisms: ReadonlyArray<string>
  /** XEP-0440 types to advertise; none: no `<sasl-channel-binding/>`. */
  readonly bindingTypes?: ReadonlyArray<string> | undefined
  /** The server binds: a `y` login is refused with `e=server-does-support-channel-binding`. */
  readonly binds: boolean
}

/** What the peer saw of each SASL attempt. */
export interface Attempt {
  readonly mechanism: string
  /** The GS2 header, e.g. `p=tls-exporter,,` or `y,,`. */
  readonly gs2: string
  readonly outcome: "success" | "binding-mismatch" | "refused-y" | "bad-proof"
}

const header = (id: string) =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='${id}' version='1.0'>`
const b64 = (text: string | Buffer) => Buffer.from(text).toString("base64")
const hmac = (k: Buffer, data: string | Buffer) => Crypto.createHmac("sha256", k).update(data).digest()

// The binding data as this side of the TLS connection computes it.
const bindingData = (socket: Tls.TLSSocket, type: string): Buffer => {
  if (type === "tls-exporter") return socket.exportKeyingMaterial(32, "EXPORTER-Channel-Binding", Buffer.alloc(0))
  if (type === "tls-server-end-point") return Crypto.createHash("sha256").update(new Crypto.X509Certificate(cert).raw).digest()
  return Buffer.alloc(0)
}

const serve = (socket: Tls.TLSSocket, options: Options, attempts: Array<Attempt>) => {
  let buffered = ""
  let scram: { mechanism: string; gs2: string; bare: string; serverFirst: string; nonce: string } | undefined
  let authenticated = false
  const list = options.bindingTypes === undefined
    ? ""
    : `<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>${
      options.bindingTypes.map((type) => `<channel-binding type='${type}'/>`).join("")
    }</sasl-channel-binding>`
  const mechanisms = options.mechanisms.map((name) => `<mechanism>${name}</mechanism>`).join("")
  const fail = (attempt: Omit<Attempt, "mechanism" | "gs2">, xml: string) => {
    if (scram !== undefined) attempts.push({ mechanism: scram.mechanism, gs2: scram.gs2, ...attempt })
    socket.write(xml)
  }
  const onElement = (xml: string) => {
    if (xml.startsWith("<?xml") || xml.startsWith("<stream:stream")) {
      socket.write(
        authenticated
          ? `${header("2")}<stream:features><bind xmlns='${BIND}'/></stream:features>`
          : `${header("1")}<stream:features><mechanisms xmlns='${SASL}'>${mechanisms}</mechanisms>${list}</stream:features>`
      )
    } else if (xml.startsWith("<auth")) {
      const mechanism = /mechanism=['"]([^'"]+)/.exec(xml)?.[1] ?? ""
      const clientFirst = Buffer.from(/>([^<]*)</.exec(xml)?.[1] ?? "", "base64").toString("utf8")
      const [flag = "", authzid = "", ...rest] = clientFirst.split(",")
      const bare = rest.join(",")
      const clientNonce = /r=([^,]+)/.exec(bare)?.[1] ?? ""
      const nonce = clientNonce + Crypto.randomBytes(12).toString("base64")
      const serverFirst = `r=${nonce},s=${b64(SALT)},i=${ITERATIONS}`
      scram = { mechanism, gs2: `${flag},${authzid},`, bare, serverFirst, nonce }
      socket.write(`<challenge xmlns='${SASL}'>${b64(serverFirst)}</challenge>`)
    } else if (xml.startsWith("<response") && scram !== undefined) {
      const clientFinal = Buffer.from(/>([^<]*)</.exec(xml)?.[1] ?? "", "base64").toString("utf8")
      const withoutProof = clientFinal.replace(/,p=[^,]*$/, "")
      const c = Buffer.from(/^c=([^,]*)/.exec(clientFinal)?.[1] ?? "", "base64")
      const proof = Buffer.from(/,p=([^,]*)$/.exec(clientFinal)?.[1] ?? "", "base64")
      if (scram.gs2.startsWith("y") && options.binds) {
        return fail(
          { outcome: "refused-y" },
          `<challenge xmlns='${SASL}'>${b64("e=server-does-support-channel-binding")}</challenge>`
        )
      }
      const type = /^p=([^,]+)/.exec(scram.gs2)?.[1]
      const expected = Buffer.concat([Buffer.from(scram.gs2), type === undefined ? Buffer.alloc(0) : bindingData(socket, type)])
      if (!c.equals(expected) || !clientFinal.includes(`r=${scram.nonce}`)) {
        return fail(
          { outcome: "binding-mismatch" },
          `<failure xmlns='${SASL}'><not-authorized/><text>Invalid channel binding</text></failure>`
        )
      }
      const salted = Crypto.pbkdf2Sync(PASSWORD, SALT, ITERATIONS, 32, "sha256")
      const clientKey = hmac(salted, "Client Key")
      const authMessage = `${scram.bare},${scram.serverFirst},${withoutProof}`
      const signature = hmac(Crypto.createHash("sha256").update(clientKey).digest(), authMessage)
      if (!Buffer.from(proof.map((byte, i) => byte ^ (signature[i] ?? 0))).equals(clientKey)) {
        return fail({ outcome: "bad-proof" }, `<failure xmlns='${SASL}'><not-authorized/></failure>`)
      }
      attempts.push({ mechanism: scram.mechanism, gs2: scram.gs2, outcome: "success" })
      authenticated = true
      socket.write(`<success xmlns='${SASL}'>${b64(`v=${b64(hmac(hmac(salted, "Server Key"), authMessage))}`)}</success>`)
    } else if (xml.startsWith("<iq") && xml.includes(BIND)) {
      socket.write(`<iq type='result' id='bind_1'><bind xmlns='${BIND}'><jid>alice@localhost/scripted</jid></bind></iq>`)
    } else if (xml.startsWith("</stream:stream")) {
      socket.end("</stream:stream>")
    }
  }
  socket.on("data", (data: Buffer) => {
    buffered += data.toString("utf8")
    // One top-level element (or header, or close) at a time; the client writes each in one piece.
    const element = /^(<\?xml[^>]*>)?(<stream:stream[^>]*>|<\/stream:stream>|<(\w+)[^>]*\/>|<(\w+)[^>]*>[\s\S]*?<\/\4>)/
    let match = element.exec(buffered)
    while (match !== null) {
      buffered = buffered.slice(match[0].length)
      onElement(match[0].startsWith("<?xml") ? match[0].replace(/^<\?xml[^>]*>/, "") : match[0])
      match = element.exec(buffered)
    }
  })
}

/** Starts the peer on a free port; it stops with the scope. */
export const make = (options: Options) =>
  Effect.gen(function*() {
    const attempts: Array<Attempt> = []
    const sockets = new Set<Tls.TLSSocket>()
    const server = Tls.createServer({ key, cert }, (socket) => {
      sockets.add(socket)
      socket.on("error", () => {})
      serve(socket, options, attempts)
    })
    const port = yield* Effect.acquireRelease(
      Effect.callback<number>((resume) => {
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
        })
      }),
      () =>
        Effect.callback<void>((resume) => {
          for (const socket of sockets) socket.destroy()
          server.close(() => resume(Effect.void))
        })
    )
    return { port, attempts, password: PASSWORD }
  })
