// The tables of `./run bench compare`: one figure per client and row (the
// mean of the two rounds), its ratio to the best peer on the row (in the
// same table: BOSH clients, TCP clients), and the spread between the rounds.

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]
}
const minutes = (from, to) => (to - from) / 60000

/**
 * The rows of the tables: which measure, the label, the figure of one
 * round's result (and a note); `idle.mjs` prints the idle rows with them.
 */
export const rows = [
  { measure: "login", label: "login median, ms", value: (r) => percentile(r.times, 50) },
  { measure: "login", label: "login p95, ms", value: (r) => percentile(r.times, 95) },
  {
    measure: "login",
    label: "HTTP requests per login (median)",
    boshOnly: true,
    value: (r) => (r.requests === undefined ? undefined : percentile(r.requests, 50))
  },
  { measure: "rtt", label: "round trip to own JID median, ms", value: (r) => percentile(r.times, 50) },
  { measure: "rtt", label: "round trip to own JID p99, ms", value: (r) => percentile(r.times, 99) },
  {
    measure: "tput",
    label: "throughput alice → bob, msgs/s",
    better: "higher",
    value: (r) => (r.received * 1000) / r.ms,
    note: (r) =>
      [
        r.complete
          ? `lost 0, dup ${r.duplicated}`
          : `only ${r.received.toLocaleString("en")} of ${r.sent.toLocaleString("en")} arrived within the ${(r.ms / 1000).toFixed(0)} s bound, dup ${r.duplicated}`,
        r.serverCpuShare === undefined ? undefined : `Prosody CPU ${(r.serverCpuShare * 100).toFixed(0)} %`
      ].filter((x) => x !== undefined).join(", ")
  },
  {
    measure: "idle",
    label: "idle: RSS per session, KiB",
    boshOnly: true,
    value: (r) => (r.rssAfterKiB - r.rssBeforeKiB) / r.sessions,
    note: (r) =>
      [
        r.heapAfterKiB === undefined ? undefined : `JS heap ${format((r.heapAfterKiB - r.heapBeforeKiB) / r.sessions)} KiB`,
        r.failed > 0 ? `${r.failed} of ${r.sessions + r.failed} logins failed (${r.failures?.[0] ?? "?"})` : undefined,
        r.uncaught > 0 ? `${r.uncaught} errors thrown by the client (${r.failures?.at(-1) ?? "?"})` : undefined
      ].filter((x) => x !== undefined).join(", ") || undefined
  },
  {
    measure: "idle",
    label: "idle: RSS per session after a memory-reducing GC, KiB (Node clients: V8's young generation, grown by the logins, given back)",
    boshOnly: true,
    value: (r) => (r.rssReducedEndKiB === undefined ? undefined : (r.rssReducedEndKiB - r.rssReducedBeforeKiB) / r.sessions)
  },
  {
    measure: "idle",
    label: "idle: HTTP requests per session per minute (the window is shorter than `wait`, 60 s)",
    boshOnly: true,
    value: (r) => (r.idleRequests === undefined ? undefined : r.idleRequests / r.sessions / minutes(r.idleStart, r.idleEnd))
  },
  {
    measure: "idle",
    label: "idle: CPU ms per session per minute",
    boshOnly: true,
    value: (r) => r.cpuMs / r.sessions / minutes(r.idleStart, r.idleEnd)
  },
  {
    measure: "idle",
    label: "idle: timer callbacks per session per minute (Node clients: every `Timeout` callback the process ran, see wakeups.mjs)",
    boshOnly: true,
    value: (r) => (r.timerCallbacks === undefined ? undefined : r.timerCallbacks / r.sessions / minutes(r.idleStart, r.idleEnd)),
    note: (r) =>
      r.immediateCallbacks > 0
        ? `and ${format(r.immediateCallbacks / r.sessions / minutes(r.idleStart, r.idleEnd))} setImmediate callbacks`
        : undefined
  },
  { measure: "rss", label: "process RSS after one login, MB", value: (r) => r.rssKiB / 1024 }
]

export const format = (x) =>
  x === undefined || Number.isNaN(x)
    ? "—"
    : Math.abs(x) >= 100
    ? Math.round(x).toLocaleString("en")
    : Math.abs(x) >= 10
    ? x.toFixed(1)
    : x.toFixed(2)

/** A row's figures for one client: per round, the mean, the spread, and why not. */
const figure = (row, rounds) => {
  const perRound = rounds.map((r) => {
    if (r === undefined) return { why: "not run" }
    if (r.error !== undefined) return { why: r.error }
    try {
      const value = row.value(r)
      return value === undefined || !Number.isFinite(value) ? { why: "not countable" } : { value, note: row.note?.(r) }
    } catch (error) {
      return { why: `no figure (${error.message})` }
    }
  })
  const values = perRound.filter((p) => p.value !== undefined).map((p) => p.value)
  const mean = values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0) / values.length
  const spread = values.length !== 2 ? undefined : mean === 0 ? 0 : Math.abs(values[0] - values[1]) / Math.abs(mean)
  const why = perRound.find((p) => p.why !== undefined)?.why
  const notes = [...new Set(perRound.map((p) => p.note).filter((n) => n !== undefined && n !== ""))]
  return { perRound, mean, spread, why, notes }
}

const table = (title, clients, tableRows, results) => {
  const lines = [`### ${title}`, "", `| | ${clients.map((c) => c.label).join(" | ")} |`, `|---|${clients.map(() => "---").join("|")}|`]
  const rounds = [`| | ${clients.map((c) => c.label).join(" | ")} |`, `|---|${clients.map(() => "---").join("|")}|`]
  for (const row of tableRows) {
    const figures = clients.map((c) => figure(row, results[row.measure]?.[c.id] ?? []))
    const peerMeans = clients.map((c, i) => (c.peer ? figures[i].mean : undefined)).filter((m) => m !== undefined)
    const best = peerMeans.length === 0
      ? undefined
      : row.better === "higher" ? Math.max(...peerMeans) : Math.min(...peerMeans)
    const cells = figures.map((f) => {
      if (f.mean === undefined) return `— ${f.why ?? ""}`.trim()
      const ratio = best === undefined || best === 0 ? "" : `×${(f.mean / best).toFixed(2)}`
      const spread = f.spread === undefined ? `one round only: ${f.why}` : `±${(f.spread * 100).toFixed(0)} %`
      const notes = f.notes.length === 0 ? "" : `; ${f.notes.join("; ")}`
      return `**${format(f.mean)}** (${[ratio, spread].filter((x) => x !== "").join(", ")}${notes})`
    })
    lines.push(`| ${row.label} | ${cells.join(" | ")} |`)
    rounds.push(
      `| ${row.label} | ${figures.map((f) => f.perRound.map((p) => (p.value === undefined ? "—" : format(p.value))).join(" / ")).join(" | ")} |`
    )
  }
  return { lines, rounds }
}

/**
 * bench/results.md from one run.
 */
export const renderResults = (results, context) => {
  const bosh = context.clients.filter((c) => c.transport === "bosh")
  const tcp = context.clients.filter((c) => c.transport === "tcp")
  const boshTable = table("BOSH (plain HTTP to Prosody's BOSH port on loopback)", bosh, rows, results)
  const tcpTable = table("TCP+STARTTLS (Prosody's c2s port)", tcp, rows.filter((r) => !r.boshOnly), results)
  const m = context.measures
  const bare = context.extras.bareNode.map((r) => r.rssKiB / 1024)
  const cli = context.extras.cli.map((r) => (r.rssKiB === undefined ? undefined : r.rssKiB / 1024))
  const mean = (xs) => {
    const ok = xs.filter((x) => x !== undefined && Number.isFinite(x))
    return ok.length === 0 ? undefined : ok.reduce((a, b) => a + b, 0) / ok.length
  }
  const cliWhy = context.extras.cli.find((r) => r.error !== undefined)?.error
  const v = context.versions
  return [
    "# This project beside the clients people use instead",
    "",
    `Written by \`./run bench compare\` (bench/compare/run.mjs)${context.quick ? " — QUICK RUN, small counts" : ""}.`,
    "",
    `- date: ${context.date}; the run took ${context.minutes.toFixed(1)} min`,
    `- machine: nproc ${context.nproc}; load average ${context.load.start.map((x) => x.toFixed(2)).join(" ")} at the start, ${context.load.end.map((x) => x.toFixed(2)).join(" ")} at the end`,
    `- versions: Node ${v.node}; Prosody ${v.prosody}; gloox ${v.gloox} (Debian libgloox-dev); Strophe.js ${v["strophe.js"]} (with @xmldom/xmldom ${v["@xmldom/xmldom"]} and xhr2 ${v.xhr2} through bench/compare/clients/xhr.mjs); StanzaJS ${v.stanza}; @xmpp/client ${v["@xmpp/client"]}`,
    `- the project's Prosody from .state/servers.json; BOSH over plain HTTP on 127.0.0.1 for every BOSH client (gloox has no HTTPS BOSH without its own TLS chain); TCP clients with STARTTLS, the test CA trusted (never verification off)`,
    `- login: ${m.login.n} logins after 3 warm-ups (alice); HTTP requests counted by a TCP relay in front of the BOSH port (requests begun between the start of the login and its end); round trip: ${m.rtt.n} sequential messages to the session's own full JID after 20 warm-ups; throughput: ${m.tput.n.toLocaleString("en")} messages alice → bob sent as fast as the client's send allows, bounded at ${m.tput.seconds} s; idle: one warm-up session in and out (JavaScript clients; what a first login loads and compiles is not counted per session), then ${m.idle.n} BOSH sessions per client (all BOSH clients at once, each behind its own relay), then ${m.idle.seconds} s idle, timer callbacks counted by an async_hooks hook (wakeups.mjs); RSS after one login after a GC`,
    "- SASL: this project SCRAM-SHA-256; Strophe.js and StanzaJS pick SCRAM-SHA-256 themselves; @xmpp/client SCRAM-SHA-1 (its only SCRAM); gloox PLAIN (its SCRAM-SHA-1 sends the gs2 flag `y`, which Prosody 0.12 answers with `malformed-request`, \"Invalid channel binding value\"), so gloox's login skips the PBKDF2 the others pay",
    "- each cell: the mean of the two rounds (the second in the reverse order), ×ratio to the best peer of the same table on that row (for msgs/s higher is better, for every other row lower), ±spread between the rounds (|r1 − r2| / mean); a cell without a figure says why",
    "",
    ...boshTable.lines,
    "",
    ...tcpTable.lines,
    "",
    "### The process itself",
    "",
    `- bare Node (${v.node}) after a GC: ${format(mean(bare))} MB RSS (rounds ${bare.map(format).join(" / ")})`,
    `- the demo CLI (\`demo connect\` over BOSH) after login: ${cli.some((x) => x !== undefined) ? `${format(mean(cli))} MB RSS (rounds ${cli.map(format).join(" / ")}; ×${(mean(cli) / mean(bare)).toFixed(2)} bare Node)` : `— ${cliWhy}`}`,
    "",
    "### Each round's figure (round 1 / round 2)",
    "",
    ...boshTable.rounds,
    "",
    ...tcpTable.rounds,
    ""
  ].join("\n")
}
