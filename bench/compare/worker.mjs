// One measure of one client in its own process:
//   node --expose-gc worker.mjs '{"client":"strophe","variant":"flush","measure":"rtt","n":500,...}'
// The same measuring code drives every JavaScript client through its adapter
// in clients/ (login → { jid, send, onMessage, close }). Prints one JSON line.
import { readFileSync } from "node:fs"
import { performance } from "node:perf_hooks"
import { getHeapSpaceStatistics, writeHeapSnapshot } from "node:v8"
import { countTimerCallbacks } from "./wakeups.mjs"

const job = JSON.parse(process.argv[2])
const adapter = await import(`./clients/${job.client}.mjs`)
const target = { ...job.target, caPem: readFileSync(job.target.ca, "utf8"), variant: job.variant }
const epoch = () => performance.timeOrigin + performance.now()
const gc = () => globalThis.gc?.()
/** A memory-reducing full GC: V8 also gives back the young generation's grown semi-spaces. */
const gcReducing = () => globalThis.gc?.({ type: "major", execution: "sync", flavor: "last-resort" })
/** Each V8 heap space's committed size and used size, KiB. */
const heapSpaces = () =>
  Object.fromEntries(getHeapSpaceStatistics().map((space) => [space.space_name, [space.space_size / 1024, space.space_used_size / 1024]]))
const settle = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
/** `promise`, or a failure after `ms`; the timer is cleared once `promise` settles (a login's timer firing later was counted as the client's idle wake-up). */
const within = (promise, ms, what) => {
  let timer
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)
  })
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer))
}
const closeQuietly = (session) => within(session.close(), 1500, "close").catch(() => undefined)
let emitted = false
const failures = new Set()
/** Prints the result at once: what a client does while closing cannot lose it. */
const emit = (result) => {
  if (emitted) return
  emitted = true
  process.stdout.write(`${JSON.stringify(result)}\n`)
}
const fail = (error) => {
  emit({ error: String(error?.message ?? error) })
  process.exit(1)
}
// A peer that throws from its own callbacks after the result is out (StanzaJS
// pushing into its ended BOSH stream on close) does not turn the run red.
// With 200 idle sessions, one session's throw is counted, not fatal to the others' figure.
let uncaught = 0
process.on("uncaughtException", (error) => {
  if (emitted) process.exit(0)
  if (job.measure === "idle") {
    uncaught++
    failures.add(String(error?.message ?? error))
    return
  }
  fail(error)
})
process.on("unhandledRejection", (error) => (emitted ? undefined : fail(error)))
const account = (name, resource) => ({ user: name, password: job.accounts[name], resource })

/** The next message whose body satisfies `wanted`. */
const inbox = (session) => {
  const waiting = []
  session.onMessage((body) => {
    const index = waiting.findIndex((w) => w.body === body)
    if (index >= 0) waiting.splice(index, 1)[0].resolve()
  })
  return (body) => new Promise((resolve) => waiting.push({ body, resolve }))
}

const measures = {
  async login() {
    const times = [], starts = [], ends = []
    for (let i = 0; i < job.n + 3; i++) {
      const startEpoch = epoch()
      const start = performance.now()
      const session = await within(adapter.login(target, account("alice", `${job.client}-login`)), 20000, "login")
      const elapsed = performance.now() - start
      const endEpoch = epoch()
      await closeQuietly(session)
      if (i >= 3) {
        times.push(elapsed)
        starts.push(startEpoch)
        ends.push(endEpoch)
      }
    }
    return { times, starts, ends, mechanism: adapter.mechanism }
  },
  async rtt() {
    const session = await within(adapter.login(target, account("alice", `${job.client}-rtt`)), 20000, "login")
    const next = inbox(session)
    const times = []
    for (let i = 0; i < job.n + 20; i++) {
      const body = `self-${i}`
      const start = performance.now()
      const arrived = next(body)
      await session.send(session.jid, body)
      await within(arrived, 10000, "round trip")
      if (i >= 20) times.push(performance.now() - start)
    }
    await closeQuietly(session)
    return { times }
  },
  async tput() {
    const bob = await within(adapter.login(target, account("bob", `${job.client}-tput-b`)), 20000, "bob's login")
    const alice = await within(adapter.login(target, account("alice", `${job.client}-tput-a`)), 20000, "alice's login")
    const seen = new Uint8Array(job.n)
    let unique = 0, duplicated = 0, all
    const done = new Promise((resolve) => (all = resolve))
    bob.onMessage((body) => {
      const index = Number(body)
      if (!Number.isInteger(index) || index < 0 || index >= job.n) return
      if (seen[index]++ > 0) duplicated++
      else if (++unique === job.n) all()
    })
    const start = performance.now()
    const deadline = start + job.seconds * 1000
    for (let i = 0; i < job.n && performance.now() < deadline; i++) {
      const sent = alice.send(bob.jid, String(i))
      if (sent !== undefined && typeof sent.then === "function") await sent
    }
    await Promise.race([done, settle(Math.max(0, deadline - performance.now()))])
    const ms = performance.now() - start
    const result = { sent: job.n, received: unique, duplicated, ms, complete: unique === job.n }
    emit(result)
    await Promise.all([closeQuietly(alice), closeQuietly(bob)])
    return result
  },
  async idle() {
    // One session in and out first: the code a login loads and compiles once
    // (modules, bytecode, the JIT's) is the process's, not each session's.
    await closeQuietly(await within(adapter.login(target, account("alice", `${job.client}-idle-warm-up`)), 30000, "login"))
    await settle(200)
    gc()
    await settle(200)
    const before = process.memoryUsage()
    const spacesBefore = heapSpaces()
    gcReducing()
    await settle(200)
    const beforeReduced = process.memoryUsage()
    const sessions = []
    let failed = 0
    for (let i = 0; i < job.n; i += 5) {
      const batch = await Promise.allSettled(
        Array.from({ length: Math.min(5, job.n - i) }, (_, k) =>
          within(adapter.login(target, account("alice", `${job.client}-idle-${i + k}`)), 30000, "login"))
      )
      for (const r of batch) {
        if (r.status === "fulfilled") sessions.push(r.value)
        else {
          failed++
          failures.add(String(r.reason?.message ?? r.reason))
        }
      }
    }
    await settle(500)
    gc()
    await settle(200)
    const after = process.memoryUsage()
    const spacesAfter = heapSpaces()
    const idleStart = epoch()
    const cpu = process.cpuUsage()
    let windowEnd
    const idled = new Promise((resolve) => (windowEnd = setTimeout(resolve, job.seconds * 1000)))
    const timers = countTimerCallbacks(windowEnd)
    await idled
    const wakeups = timers.stop()
    const used = process.cpuUsage(cpu)
    const idleEnd = epoch()
    // What the process holds after idling, no GC forced: V8's memory reducer
    // may have shrunk the young generation grown by the logins.
    const end = process.memoryUsage()
    const spacesEnd = heapSpaces()
    // And what the sessions hold once V8 has given back what the logins' garbage grew.
    gcReducing()
    await settle(200)
    const endReduced = process.memoryUsage()
    // On request (idle.mjs --heap-snapshot), the heap with the sessions idle, after the figures.
    const heapSnapshot = job.heapSnapshot === undefined ? undefined : (gc(), writeHeapSnapshot(job.heapSnapshot))
    const result = {
      sessions: sessions.length,
      failed,
      uncaught,
      failures: [...failures].slice(0, 3),
      rssBeforeKiB: before.rss / 1024,
      rssAfterKiB: after.rss / 1024,
      heapBeforeKiB: before.heapUsed / 1024,
      heapAfterKiB: after.heapUsed / 1024,
      heapTotalBeforeKiB: before.heapTotal / 1024,
      heapTotalAfterKiB: after.heapTotal / 1024,
      externalBeforeKiB: before.external / 1024,
      externalAfterKiB: after.external / 1024,
      rssEndKiB: end.rss / 1024,
      rssReducedBeforeKiB: beforeReduced.rss / 1024,
      rssReducedEndKiB: endReduced.rss / 1024,
      heapEndKiB: end.heapUsed / 1024,
      heapSpaces: { before: spacesBefore, after: spacesAfter, end: spacesEnd },
      idleStart,
      idleEnd,
      cpuMs: (used.user + used.system) / 1000,
      timerCallbacks: wakeups.timeouts,
      immediateCallbacks: wakeups.immediates,
      timerCallbacksByName: wakeups.byCallback,
      ...(heapSnapshot === undefined ? {} : { heapSnapshot })
    }
    emit(result)
    await within(Promise.all(sessions.map(closeQuietly)), 10000, "close").catch(() => undefined)
    return result
  },
  async rss() {
    const session = await within(adapter.login(target, account("alice", `${job.client}-rss`)), 20000, "login")
    await settle(300)
    gc()
    await settle(200)
    const rssKiB = process.memoryUsage().rss / 1024
    await closeQuietly(session)
    return { rssKiB }
  }
}

try {
  emit(await measures[job.measure]())
  process.exit(0)
} catch (error) {
  fail(error)
}
