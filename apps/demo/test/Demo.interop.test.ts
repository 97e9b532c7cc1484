/**
 * The demo CLI run in-process against the real local servers (Prosody,
 * ejabberd), as a user would run it: exit codes, what it prints, and that
 * the password never shows.
 */
import { assert, describe, it } from "@effect/vitest"
import { XmppClient, XmppClientConfig } from "@xmpp-core/client"
import { NodeXmppClient } from "@xmpp-core/platform-node"
import { Element, Jid, Namespaces } from "@xmpp-core/protocol"
import { Deferred, Effect, Fiber, Schema, Stream } from "effect"
import { readFileSync } from "node:fs"
import { prosodyFlags, runCli, servers } from "./RunCli.js"

const s = servers()
const ports = NodeXmppClient.layerPorts()

// Each test names its own variable, so no test sees another's password.
const withPassword = (variable: string, password: string) => {
  process.env[variable] = password
}

const testClient = (account: "alice" | "bob", resource: string) =>
  XmppClient.connect(
    Schema.decodeUnknownSync(XmppClientConfig.XmppClientConfig)({
      jid: `${account}@${s.domain}`,
      password: s.accounts[account],
      ca: readFileSync(s.ca, "utf8"),
      resource,
      transport: { _tag: "tcp", host: "127.0.0.1", port: s.prosody.c2s }
    })
  )

const replaceFlag = (argv: ReadonlyArray<string>, flag: string, value: string) =>
  argv.map((arg, i) => (argv[i - 1] === flag ? value : arg))

const unique = () => Math.random().toString(36).slice(2, 10)

/** `send` arguments for a message to a resource nobody uses: a login, one stanza, a clean close. */
const nowhere = () => ["--to", `bob@localhost/nobody-${unique()}`, "--body", "first try"]

const bodyOf = (stanza: Element.Element) => {
  const body = Element.child(stanza, "body", Namespaces.JABBER_CLIENT)
  return body === undefined ? undefined : Element.text(body)
}

describe("demo CLI", () => {
  it.live("--help lists the subcommands and the exit codes", () =>
    Effect.gen(function*() {
      const run = yield* runCli(["--help"])
      assert.strictEqual(run.code, 0)
      for (const subcommand of ["connect", "send", "echo"]) assert.match(run.stdout, new RegExp(`^\\s+${subcommand}\\s`, "m"))
      for (const code of ["0", "1", "2", "3", "4", "5", "130", "143"]) assert.match(run.stdout, new RegExp(`^\\s+${code}\\s+\\S`, "m"))
      const connectHelp = yield* runCli(["connect", "--help"])
      for (const flag of ["--jid", "--password-env", "--transport", "--proxy", "--bosh-url", "--http-mode", "--ca", "--max-tls", "--mechanisms", "--debug"]) {
        assert.include(connectHelp.stdout, flag)
      }
      assert.notInclude(connectHelp.stdout, "--password ")
    }))

  it.live("the tour (--no-servers) logs in on both servers and bob gets every message once, in order", () =>
    Effect.gen(function*() {
      const run = yield* runCli(["--no-servers"])
      assert.strictEqual(run.code, 0, run.stderr)
      for (const server of ["prosody", "ejabberd"]) {
        for (const transport of ["tcp", "bosh"]) {
          const label = `${server}/${transport}`
          assert.match(run.stdout, new RegExp(`^${label}: alice bound as alice@localhost/\\S+ with SCRAM-\\S+ in [\\d.]+ ms$`, "m"))
          assert.match(run.stdout, new RegExp(`^${label}: bob received 5 messages \\(\\+ marker\\) exactly once, in order`, "m"))
          assert.match(run.stdout, new RegExp(`^${label}: round trip alice → bob → alice [\\d.]+ ms$`, "m"))
          assert.match(run.stdout, new RegExp(`^${label}: both closed cleanly`, "m"))
        }
      }
      assert.notMatch(run.stdout, /skipped/)
      assert.match(run.stdout, /^tour: ok$/m)
      // Progress went to stderr, not stdout.
      assert.include(run.stderr, "prosody/tcp alice starting TLS")
      assert.include(run.stderr, "authenticating with SCRAM-")
      assert.notInclude(run.stdout, "»")
    }))

  it.live("send: alice's message reaches a bob client exactly as given", () =>
    Effect.gen(function*() {
      const resource = `demo-test-${unique()}`
      const body = `hello from the demo ${unique()}`
      const bob = yield* testClient("bob", resource)
      const receiving = yield* Effect.forkChild(
        bob.stanzas.pipe(Stream.filter((m) => m.name === "message"), Stream.take(1), Stream.runCollect)
      )
      withPassword("DEMO_TEST_SEND", s.accounts.alice)
      const run = yield* runCli(["send", ...prosodyFlags(s, "alice", "DEMO_TEST_SEND"), "--to", `bob@${s.domain}/${resource}`, "--body", body])
      assert.strictEqual(run.code, 0, run.stderr)
      assert.match(run.stdout, /^bound alice@localhost\/\S+ with SCRAM-SHA-256$/m)
      const [message] = yield* Fiber.join(receiving)
      assert.isDefined(message)
      if (message === undefined) return
      assert.strictEqual(bodyOf(message), body)
      assert.match(Element.attribute(message, "from") ?? "", /^alice@localhost\//)
      yield* bob.close
    }).pipe(Effect.scoped, Effect.provide(ports)))

  it.live("a wrong password exits 4 with one error line, and the password is nowhere in the output", () =>
    Effect.gen(function*() {
      const secret = `wrong-${unique()}-secret`
      withPassword("DEMO_TEST_WRONG", secret)
      for (const mechanism of ["SCRAM-SHA-256", "PLAIN"]) {
        const run = yield* runCli(["connect", ...prosodyFlags(s, "alice", "DEMO_TEST_WRONG"), "--mechanisms", mechanism, "--debug"])
        assert.strictEqual(run.code, 4)
        assert.match(run.stderr, /^error: AuthenticationFailed: .*not-authorized/m)
        assert.notInclude(run.stdout + run.stderr, secret)
        assert.notInclude(run.stdout + run.stderr, Buffer.from(`\u0000alice\u0000${secret}`).toString("base64"))
        assert.notInclude(run.stderr, "    at ")
      }
    }))

  it.live("an unreachable port exits 3", () =>
    Effect.gen(function*() {
      withPassword("DEMO_TEST_UNREACHABLE", s.accounts.alice)
      const flags = replaceFlag(prosodyFlags(s, "alice", "DEMO_TEST_UNREACHABLE"), "--port", String(s.closedPort ?? 25999))
      const run = yield* runCli(["connect", ...flags])
      assert.strictEqual(run.code, 3)
      assert.match(run.stderr, /^error: ConnectFailed: .*refused/m)
    }))

  it.live("an untrusted certificate (no --ca) exits 3 with the TLS reason", () =>
    Effect.gen(function*() {
      withPassword("DEMO_TEST_NOCA", s.accounts.alice)
      const flags = prosodyFlags(s, "alice", "DEMO_TEST_NOCA").slice(0, -2)
      const run = yield* runCli(["connect", ...flags])
      assert.strictEqual(run.code, 3)
      assert.match(run.stderr, /^error: ConnectFailed: .*not trusted.*\(TlsFailed\)$/m)
    }))

  it.live("usage errors exit 2 with one line: unknown flag, bad values, missing password, a plain --password flag", () =>
    Effect.gen(function*() {
      withPassword("DEMO_TEST_USAGE", s.accounts.alice)
      const base = prosodyFlags(s, "alice", "DEMO_TEST_USAGE")
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, RegExp]> = [
        [["--bogus"], /^error: usage: .*--bogus/m],
        [["connect", ...base, "--password", "x"], /^error: usage: .*--password/m],
        [["connect", ...base, "--transport", "carrier-pigeon"], /^error: usage: .*transport/m],
        [["connect", ...replaceFlag(base, "--port", "0")], /^error: InvalidFlags: .*\(--port\)$/m],
        [["connect", ...base, "--mechanisms", "SCRAM-SHA-256,MD5"], /^error: InvalidFlags: .*\(--mechanisms\)$/m],
        [
          ["connect", ...base, "--mechanisms", "EXTERNAL"],
          /^error: InvalidFlags: .*EXTERNAL needs a client certificate \(flag --client-cert FILE --client-key FILE\) \(--mechanisms\)$/m
        ],
        [["connect", ...base, "--proxy", "ftp://proxy:21"], /^error: InvalidFlags: --proxy scheme ftp:/m],
        [["connect", ...base, "--transport", "bosh"], /^error: InvalidFlags: --transport bosh needs --bosh-url/m],
        [["connect", ...replaceFlag(base, "--ca", "/nonexistent/ca.pem")], /^error: InvalidFlags: --ca \/nonexistent\/ca.pem/m],
        [["send", ...base, "--to", "@nodomain", "--body", "x"], /^error: InvalidFlags: --to:/m],
        [["connect", ...base.map((f) => (f === "DEMO_TEST_USAGE" ? "DEMO_TEST_UNSET_VARIABLE" : f))], /^error: MissingPassword: /m]
      ]
      for (const [argv, expected] of cases) {
        const run = yield* runCli(argv)
        assert.strictEqual(run.code, 2, `${argv.join(" ")}: ${run.stderr}`)
        assert.match(run.stderr, expected)
        assert.strictEqual(run.stderr.split("\n").filter((line) => line.startsWith("error:")).length, 1)
      }
    }))

  it.live("default flags log in on first try on both servers: STARTTLS, direct TLS and BOSH over https", () =>
    Effect.gen(function*() {
      withPassword("DEMO_TEST_DEFAULTS", s.accounts.alice)
      const strongest = { prosody: "SCRAM-SHA-256", ejabberd: "SCRAM-SHA-512" } as const
      for (const server of ["prosody", "ejabberd"] as const) {
        const account = ["--jid", `alice@${s.domain}`, "--password-env", "DEMO_TEST_DEFAULTS", "--ca", s.ca, ...nowhere()]
        const routes = [
          // As a user types it: the JID's domain at a port (no SRV lookup, which would ignore the port).
          ["--port", String(s[server].c2s)],
          ["--host", "127.0.0.1", "--port", String(s[server].c2sDirectTls), "--direct-tls"],
          ["--transport", "bosh", "--bosh-url", `https://${s.domain}:${s[server].https}${s[server].boshPath}`]
        ]
        for (const route of routes) {
          const run = yield* runCli(["send", ...account, ...route])
          assert.strictEqual(run.code, 0, `${server} ${route.join(" ")}: ${run.stderr}`)
          assert.match(run.stdout, new RegExp(`^bound alice@localhost/\\S+ with ${strongest[server]}$`, "m"))
        }
      }
    }))

  it.live("--anonymous logs in without a password and prints the JID the server assigned", () =>
    Effect.gen(function*() {
      const run = yield* runCli([
        "send",
        ...nowhere(),
        "--jid",
        s.anonymousDomain,
        "--anonymous",
        "--password-env",
        "DEMO_TEST_UNSET_VARIABLE",
        "--host",
        "127.0.0.1",
        "--port",
        String(s.ejabberd.c2s),
        "--ca",
        s.ca
      ])
      assert.strictEqual(run.code, 0, run.stderr)
      assert.match(run.stdout, new RegExp(`^bound [^@/\\s]+@${s.anonymousDomain.replace(".", "\\.")}/\\S+ with ANONYMOUS$`, "m"))
    }))

  it.live("--client-cert/--client-key log in with EXTERNAL and no password; the key never shows", () =>
    Effect.gen(function*() {
      const files = s.clientCertificates["alice@cert.localhost"]
      const run = yield* runCli([
        "send",
        ...nowhere(),
        "--jid",
        "cert.localhost",
        "--client-cert",
        files.cert,
        "--client-key",
        files.key,
        "--password-env",
        "DEMO_TEST_UNSET_VARIABLE",
        "--host",
        "127.0.0.1",
        "--port",
        String(s.prosody.c2s),
        "--ca",
        s.ca,
        "--debug"
      ])
      assert.strictEqual(run.code, 0, run.stderr)
      assert.match(run.stdout, /^bound alice@cert\.localhost\/\S+ with EXTERNAL$/m)
      const keyLine = readFileSync(files.key, "utf8").split("\n")[1] ?? "unreachable"
      assert.notInclude(run.stdout + run.stderr, keyLine)
    }))

  it.live("--transport bosh logs in over https BOSH and prints the bound JID", () =>
    Effect.gen(function*() {
      withPassword("DEMO_TEST_BOSH", s.accounts.alice)
      const run = yield* runCli([
        "connect",
        "--jid",
        `alice@${s.domain}`,
        "--password-env",
        "DEMO_TEST_BOSH",
        "--transport",
        "bosh",
        "--bosh-url",
        `https://${s.domain}:${s.prosody.https}${s.prosody.boshPath}`,
        "--ca",
        s.ca,
        "--for",
        "1"
      ])
      assert.strictEqual(run.code, 0, run.stderr)
      assert.match(run.stdout, /^bound alice@localhost\/\S+ with SCRAM-SHA-\S+$/m)
    }))

  it.live("--debug prints the XML console with arrows and the SASL payload redacted", () =>
    Effect.gen(function*() {
      withPassword("DEMO_TEST_DEBUG", s.accounts.alice)
      const run = yield* runCli(["send", ...prosodyFlags(s, "alice", "DEMO_TEST_DEBUG"), "--mechanisms", "PLAIN", "--debug", "--to", `bob@${s.domain}/nobody-${unique()}`, "--body", "x"])
      assert.strictEqual(run.code, 0, run.stderr)
      assert.match(run.stderr, /→ <auth [^>]*mechanism=['"]PLAIN['"][^>]*>…redacted…<\/auth>/)
      assert.match(run.stderr, /→ <iq /)
      assert.match(run.stderr, /← .*<success/)
      assert.notInclude(run.stderr, s.accounts.alice)
      assert.notInclude(run.stderr, Buffer.from(`\u0000alice\u0000${s.accounts.alice}`).toString("base64"))
      assert.notInclude(run.stdout, "→")
    }))

  it.live("echo answers a chat message with the same body", () =>
    Effect.gen(function*() {
      withPassword("DEMO_TEST_ECHO", s.accounts.bob)
      const resource = `echo-${unique()}`
      const bound = yield* Deferred.make<void>()
      const bot = yield* Effect.forkChild(
        runCli(
          ["echo", ...prosodyFlags(s, "bob", "DEMO_TEST_ECHO"), "--resource", resource, "--for", "3"],
          (line) => {
            if (line.startsWith("bound ")) Deferred.doneUnsafe(bound, Effect.void)
          }
        )
      )
      yield* Deferred.await(bound)
      const alice = yield* testClient("alice", `asker-${unique()}`)
      const body = `echo me ${unique()}`
      const answer = yield* Effect.forkChild(
        alice.stanzas.pipe(Stream.filter((m) => m.name === "message"), Stream.take(1), Stream.runCollect)
      )
      yield* alice.send(
        Element.make("message", {
          namespace: Namespaces.JABBER_CLIENT,
          attributes: { to: `bob@${s.domain}/${resource}`, type: "chat" },
          children: [Element.make("body", { namespace: Namespaces.JABBER_CLIENT, children: [body] })]
        })
      )
      const [reply] = yield* Fiber.join(answer)
      assert.strictEqual(reply === undefined ? undefined : bodyOf(reply), body)
      assert.strictEqual(reply === undefined ? undefined : Element.attribute(reply, "from"), `bob@${s.domain}/${resource}`)
      yield* alice.close
      const run = yield* Fiber.join(bot)
      assert.strictEqual(run.code, 0, run.stderr)
      assert.include(run.stdout, `echoed to ${Jid.format(alice.jid)}: ${body}`)
    }).pipe(Effect.scoped, Effect.provide(ports)))

  it.live("connect prints the bound JID and mechanism, then incoming stanzas, until --for ends it", () =>
    Effect.gen(function*() {
      withPassword("DEMO_TEST_CONNECT", s.accounts.bob)
      const resource = `connect-${unique()}`
      const bound = yield* Deferred.make<void>()
      const online = yield* Effect.forkChild(
        runCli(
          ["connect", ...prosodyFlags(s, "bob", "DEMO_TEST_CONNECT"), "--resource", resource, "--for", "2"],
          (line) => {
            if (line.startsWith("bound ")) Deferred.doneUnsafe(bound, Effect.void)
          }
        )
      )
      yield* Deferred.await(bound)
      const alice = yield* testClient("alice", `sender-${unique()}`)
      const body = `seen by connect ${unique()}`
      yield* alice.send(
        Element.make("message", {
          namespace: Namespaces.JABBER_CLIENT,
          attributes: { to: `bob@${s.domain}/${resource}`, type: "chat", id: "connect-test" },
          children: [Element.make("body", { namespace: Namespaces.JABBER_CLIENT, children: [body] })]
        })
      )
      yield* alice.close
      const run = yield* Fiber.join(online)
      assert.strictEqual(run.code, 0, run.stderr)
      assert.match(run.stdout, new RegExp(`^bound bob@localhost/${resource} with SCRAM-SHA-256$`, "m"))
      assert.match(run.stdout, new RegExp(`^<message [^\\n]*id=['"]connect-test['"][^\\n]*<body>${body}</body>`, "m"))
    }).pipe(Effect.scoped, Effect.provide(ports)))
})
