/**
 * Ctrl-C (SIGINT) and SIGTERM on `connect --transport bosh`, as a real
 * process against the real managers: the session ends with a `terminate`
 * the manager answers, the exit code names the signal, and afterwards the
 * manager no longer knows the session.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as Https from "node:https"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { servers } from "./RunCli.js"

const s = servers()
const main = fileURLToPath(new URL("../dist/bundle/main.js", import.meta.url))
const SLOW = 30_000

interface Ended {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Starts the CLI, waits (on its output) until it is bound, sends `signal`, and returns how it ended. */
const interruptAfterLogin = (url: string, signal: "SIGINT" | "SIGTERM") =>
  Effect.callback<Ended>((resume) => {
    const child: ChildProcess = spawn(process.execPath, [
      main,
      "connect",
      "--jid",
      `alice@${s.domain}`,
      "--password-env",
      "DEMO_SIGNAL_PASSWORD",
      "--transport",
      "bosh",
      "--bosh-url",
      url,
      "--ca",
      s.ca,
      "--debug"
    ], { env: { ...process.env, DEMO_SIGNAL_PASSWORD: s.accounts.alice }, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    let signalled = false
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8")
      // The presence after login is sent once "bound" is printed: the session is up and in use.
      if (!signalled && /^bound /m.test(stdout)) {
        signalled = true
        child.kill(signal)
      }
    })
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    child.on("exit", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/** The `→` request lines of the XML console, newest last. */
const requestsOf = (stderr: string) => stderr.split("\n").filter((line) => line.includes(" → <body "))

const attribute = (line: string, name: string) => new RegExp(`\\s${name}='([^']*)'`).exec(line)?.[1]

/** Posts a bare BOSH request naming `sid` and returns the manager's answer (status and body). */
const probe = (url: string, sid: string, rid: string) =>
  Effect.callback<{ readonly status: number; readonly body: string }, Error>((resume) => {
    const body = `<body rid='${rid}' sid='${sid}' xmlns='http://jabber.org/protocol/httpbind'/>`
    const request = Https.request(url, {
      method: "POST",
      ca: readFileSync(s.ca, "utf8"),
      headers: { "content-type": "text/xml; charset=utf-8", "content-length": Buffer.byteLength(body) }
    }, (response) => {
      let text = ""
      response.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")))
      response.on("end", () => resume(Effect.succeed({ status: response.statusCode ?? 0, body: text })))
    })
    request.on("error", (error) => resume(Effect.fail(error)))
    request.end(body)
    return Effect.sync(() => request.destroy())
  })

describe("demo CLI: a signal ends a BOSH session cleanly", () => {
  it.live("SIGINT (Ctrl-C) on Prosody: terminate sent and answered, exit 130, the sid is gone", () =>
    Effect.gen(function*() {
      const url = `https://${s.domain}:${s.prosody.https}${s.prosody.boshPath}`
      const ended = yield* interruptAfterLogin(url, "SIGINT")
      assert.strictEqual(ended.code, 130, ended.stderr)
      const requests = requestsOf(ended.stderr)
      const terminate = requests.at(-1) ?? ""
      assert.include(terminate, "type='terminate'", "the last request is the terminate")
      // Prosody serialises attributes in hash order, which changes between its runs.
      assert.match(ended.stderr, / ← <body[^>]*type='terminate'/, ended.stderr)
      const sid = attribute(terminate, "sid")
      const rid = attribute(terminate, "rid")
      assert.isDefined(sid)
      assert.isDefined(rid)
      // The next rid of a live session would be held as a poll; an ended one is unknown at once.
      const answer = yield* probe(url, sid ?? "", String(BigInt(rid ?? "0") + 1n))
      assert.include(answer.body, "item-not-found")
    }), SLOW)

  it.live("SIGTERM on ejabberd: terminate sent and answered, exit 143", () =>
    Effect.gen(function*() {
      const url = `https://${s.domain}:${s.ejabberd.https}${s.ejabberd.boshPath}`
      const ended = yield* interruptAfterLogin(url, "SIGTERM")
      assert.strictEqual(ended.code, 143, ended.stderr)
      assert.include(requestsOf(ended.stderr).at(-1) ?? "", "type='terminate'")
      // ejabberd enforces §15 keys, so a bare probe cannot tell a live session from a gone one:
      // its answer to the terminate is the proof here.
      assert.match(ended.stderr, / ← <body[^>]*type='terminate'/)
    }), SLOW)
})
