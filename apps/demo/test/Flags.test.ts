/**
 * Flags → XmppClientConfig without any server: proxies, TLS version, BOSH,
 * the CA, and errors that name the flag and never quote a secret.
 */
import { assert, describe, it } from "@effect/vitest"
import { XmppClientError } from "@xmpp-core/client"
import { Effect, Option, Redacted, Result } from "effect"
import { readFileSync } from "node:fs"
import { ExitCode, fromClientError } from "../src/ExitCode.js"
import * as Flags from "../src/Flags.js"
import { servers } from "./RunCli.js"

const defaults: Flags.ConnectionFlags = {
  jid: "alice@example.org",
  passwordEnv: "XMPP_PASSWORD",
  transport: "tcp",
  host: Option.none(),
  port: Option.none(),
  directTls: false,
  proxy: [],
  boshUrl: Option.none(),
  httpMode: Option.none(),
  ca: Option.none(),
  systemRoots: true,
  clientCert: Option.none(),
  clientKey: Option.none(),
  anonymous: false,
  allowPlaintext: false,
  allowPlainWithoutTls: false,
  channelBinding: true,
  streamManagement: true,
  reconnect: false,
  maxTls: Option.none(),
  mechanisms: Option.none(),
  resource: Option.none(),
  debug: false
}

const password = Redacted.make("s3cret-pw")

describe("Flags", () => {
  it("proxy URLs become the config's proxy chain, credentials decoded", () => {
    const http = Flags.parseProxy("http://proxy%40user:p%3Ass@127.0.0.1:28889")
    assert.deepStrictEqual(Result.getOrUndefined(http), {
      _tag: "HttpConnect",
      host: "127.0.0.1",
      port: 28889,
      credentials: { username: "proxy@user", password: "p:ss" }
    })
    assert.deepStrictEqual(Result.getOrUndefined(Flags.parseProxy("socks5://[::1]:1080")), {
      _tag: "Socks5",
      host: "::1",
      port: 1080
    })
    const refused = Flags.parseProxy("https://user:hunter2@proxy:443")
    assert.isTrue(Result.isFailure(refused))
    if (Result.isFailure(refused)) assert.notInclude(refused.failure.message, "hunter2")
    const garbage = Flags.parseProxy("not a url user:hunter2@x")
    assert.isTrue(Result.isFailure(garbage))
    if (Result.isFailure(garbage)) assert.notInclude(garbage.failure.message, "hunter2")
  })

  it.effect("TCP flags decode into the tcp variant, the password kept Redacted", () =>
    Effect.gen(function*() {
      const config = yield* Flags.toConfig({
        ...defaults,
        host: Option.some("xmpp.example.org"),
        port: Option.some(5223),
        directTls: true,
        proxy: ["socks5://u:p@127.0.0.1:21081", "http://127.0.0.1:28888"],
        maxTls: Option.some("1.2"),
        mechanisms: Option.some("SCRAM-SHA-256, PLAIN"),
        channelBinding: false,
        resource: Option.some("cli")
      }, password)
      assert.deepStrictEqual(config.transport, {
        _tag: "tcp",
        host: "xmpp.example.org",
        port: 5223,
        directTls: true,
        proxies: [
          { _tag: "Socks5", host: "127.0.0.1", port: 21081, credentials: { username: "u", password: config.transport?.proxies?.[0]?.credentials?.password ?? Redacted.make("") } },
          { _tag: "HttpConnect", host: "127.0.0.1", port: 28888 }
        ],
        maxTlsVersion: "TLSv1.2"
      })
      assert.deepStrictEqual(config.mechanisms, ["SCRAM-SHA-256", "PLAIN"])
      assert.strictEqual(config.channelBinding, false)
      assert.strictEqual(config.resource, "cli")
      assert.strictEqual(config.password && Redacted.value(config.password), "s3cret-pw")
      assert.notInclude(JSON.stringify(config), "s3cret-pw")
    }))

  it.effect("BOSH flags decode into the bosh variant; BOSH-only flags without it are refused", () =>
    Effect.gen(function*() {
      const config = yield* Flags.toConfig({
        ...defaults,
        transport: "bosh",
        boshUrl: Option.some("https://localhost:25281/http-bind"),
        httpMode: Option.some("close")
      }, password)
      assert.deepStrictEqual(config.transport, { _tag: "bosh", url: "https://localhost:25281/http-bind", mode: "close" })
      const pipelined = yield* Effect.flip(Flags.toConfig({
        ...defaults,
        transport: "bosh",
        boshUrl: Option.some("https://localhost:25281/http-bind"),
        httpMode: Option.some("pipelining")
      }, password))
      assert.include(pipelined.message, "pipelining needs hold 0")
      const refused = yield* Effect.flip(Flags.toConfig({ ...defaults, httpMode: Option.some("close") }, password))
      assert.strictEqual(refused.reason, "InvalidFlags")
      assert.include(refused.message, "--transport bosh")
    }))

  it.effect("--ca is the file's PEM, trusted besides the system's roots; --no-system-roots trusts it alone", () =>
    Effect.gen(function*() {
      const pem = readFileSync(servers().ca, "utf8")
      const config = yield* Flags.toConfig({ ...defaults, ca: Option.some(servers().ca) }, password)
      // The client adds the system's roots itself, on every transport (not the demo, twice over BOSH).
      assert.strictEqual(config.ca, pem)
      assert.isUndefined(config.systemRoots)
      const alone = yield* Flags.toConfig({ ...defaults, ca: Option.some(servers().ca), systemRoots: false }, password)
      assert.strictEqual(alone.systemRoots, false)
      const nothing = yield* Effect.flip(Flags.toConfig({ ...defaults, systemRoots: false }, password))
      assert.match(nothing.message, /only `ca` is trusted.*\(--ca\)$/)
    }))

  it.effect("stream management is the library's default (--no-stream-management turns it off); --reconnect turns reconnects on", () =>
    Effect.gen(function*() {
      const plain = yield* Flags.toConfig(defaults, password)
      assert.isUndefined(plain.streamManagement)
      assert.isUndefined(plain.reconnect)
      const off = yield* Flags.toConfig({ ...defaults, streamManagement: false }, password)
      assert.deepStrictEqual(off.streamManagement, { enabled: false })
      const kept = yield* Flags.toConfig({ ...defaults, reconnect: true }, password)
      assert.deepStrictEqual(kept.reconnect, {})
    }))

  it.effect("schema errors name the flag", () =>
    Effect.gen(function*() {
      const port = yield* Effect.flip(Flags.toConfig({ ...defaults, port: Option.some(70000) }, password))
      assert.match(port.message, /\(--port\)$/)
      const jid = yield* Effect.flip(Flags.toConfig({ ...defaults, jid: "example.org" }, password))
      assert.match(jid.message, /or no account \(flag --anonymous\) \(--jid\)$/)
    }))

  it.effect("--anonymous: the domain, no password; an account JID or a certificate with it is refused", () =>
    Effect.gen(function*() {
      const anonymous = { ...defaults, jid: "anon.example.org", anonymous: true }
      assert.isFalse(Flags.needsPassword(anonymous))
      const config = yield* Flags.toConfig(anonymous, undefined)
      assert.deepStrictEqual(config.credentials, { _tag: "Anonymous" })
      assert.isUndefined(config.password)
      const withAccount = yield* Effect.flip(Flags.toConfig({ ...anonymous, jid: "me@anon.example.org" }, undefined))
      assert.match(withAccount.message, /domain only.*\(--jid\)$/)
      const both = yield* Effect.flip(Flags.toConfig({ ...anonymous, clientCert: Option.some("c.pem") }, undefined))
      assert.match(both.message, /exclude each other/)
    }))

  it.effect("--client-cert/--client-key: EXTERNAL without a password; the key never shows in a message", () =>
    Effect.gen(function*() {
      const files = servers().clientCertificates["alice@localhost"]
      const withCertificate = { ...defaults, clientCert: Option.some(files.cert), clientKey: Option.some(files.key) }
      assert.isFalse(Flags.needsPassword(withCertificate))
      const config = yield* Flags.toConfig({ ...withCertificate, mechanisms: Option.some("EXTERNAL") }, undefined)
      assert.strictEqual(config.credentials?._tag, "Certificate")
      const key = readFileSync(files.key, "utf8")
      assert.notInclude(JSON.stringify(config), key.split("\n")[1] ?? key)
      const half = yield* Effect.flip(Flags.toConfig({ ...defaults, clientCert: Option.some(files.cert) }, undefined))
      assert.match(half.message, /go together/)
      // The certificate where the key belongs: refused without quoting either file.
      const swapped = yield* Effect.flip(
        Flags.toConfig({ ...withCertificate, clientKey: Option.some(files.cert) }, undefined)
      )
      assert.match(swapped.message, /^--client-key .*: no PEM private key in it$/)
    }))

  it.effect("--mechanisms with a name the credentials cannot use is refused before connecting, naming the flag", () =>
    Effect.gen(function*() {
      const external = yield* Effect.flip(Flags.toConfig({ ...defaults, mechanisms: Option.some("EXTERNAL") }, password))
      assert.strictEqual(external.reason, "InvalidFlags")
      assert.match(external.message, /EXTERNAL needs a client certificate \(flag --client-cert FILE --client-key FILE\)/)
      assert.match(external.message, /\(--mechanisms\)$/)
      const anonymous = yield* Effect.flip(
        Flags.toConfig({ ...defaults, jid: "example.org", anonymous: true, mechanisms: Option.some("SCRAM-SHA-256") }, undefined)
      )
      assert.match(anonymous.message, /SCRAM-SHA-256 needs a JID with a localpart and a password/)
    }))

  it("client messages name the flag for each setting they point at", () => {
    assert.strictEqual(
      Flags.withFlagNames("PLAIN would send the password on an unencrypted stream (setting allowPlainWithoutTls)"),
      "PLAIN would send the password on an unencrypted stream (flag --allow-plain-without-tls)"
    )
    assert.strictEqual(
      Flags.withFlagNames("not allowed (setting allowPlaintext); off (setting channelBinding)"),
      "not allowed (flag --allow-plaintext); off (flag --[no-]channel-binding)"
    )
  })
})

describe("ExitCode", () => {
  it("maps each client failure to its documented code", () => {
    const code = (reason: XmppClientError["reason"], condition?: string) =>
      fromClientError(new XmppClientError({ reason, message: "m", condition }))
    assert.strictEqual(code("ConnectFailed"), ExitCode.ConnectFailed)
    assert.strictEqual(code("AuthenticationFailed", "not-authorized"), ExitCode.AuthenticationFailed)
    assert.strictEqual(code("NegotiationFailed", "no-acceptable-mechanism"), ExitCode.AuthenticationFailed)
    assert.strictEqual(code("NegotiationFailed", "starttls-not-offered"), ExitCode.ConnectFailed)
    assert.strictEqual(code("StreamError", "conflict"), ExitCode.ConnectionLost)
    assert.strictEqual(code("ConnectionLost"), ExitCode.ConnectionLost)
    assert.strictEqual(code("TransportUnavailable"), ExitCode.Usage)
    assert.strictEqual(code("InvalidConfig"), ExitCode.Usage)
  })
})
