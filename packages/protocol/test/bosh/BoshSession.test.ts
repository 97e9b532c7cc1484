/**
 * The machine step by step, against the examples and rules of XEP-0124 and XEP-0206.
 */
import { BodyParser, BoshSession, Element } from "@xmpp-core/protocol"
import * as Sha1 from "../../src/bosh/Sha1.js"
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import * as fc from "fast-check"
import {
  creationResponse,
  delivered,
  encoder,
  FIRST_RID,
  type Machine,
  message,
  open,
  parse,
  randomness,
  requests,
  respond,
  step,
  terminated
} from "./Steps.js"

describe("session creation (XEP-0124 §7, XEP-0206 §4)", () => {
  it("asks with to, xml:lang, wait, hold, ver, content, ack, route, from, xmpp:version and a newkey", () => {
    const started = BoshSession.make(
      { to: "jabber.org", route: "xmpp:jabber.org:9999", from: "alice@jabber.org", lang: "en" },
      randomness,
      0
    )
    assert.strictEqual(started.state._tag, "AwaitingSessionResponse")
    const [request] = requests(started.actions)
    assert.isDefined(request)
    const a = request?.attributes ?? {}
    assert.strictEqual(a.rid, String(FIRST_RID))
    assert.strictEqual(a.to, "jabber.org")
    assert.strictEqual(a.route, "xmpp:jabber.org:9999")
    assert.strictEqual(a.from, "alice@jabber.org")
    assert.strictEqual(a["xml:lang"], "en")
    assert.strictEqual(a.wait, "60")
    assert.strictEqual(a.hold, "1")
    assert.strictEqual(a.ver, "1.11")
    assert.strictEqual(a.content, "text/xml; charset=utf-8")
    assert.strictEqual(a.ack, "1")
    assert.strictEqual(a["xmpp:version"], "1.0")
    assert.strictEqual(a["xmlns:xmpp"], "urn:xmpp:xbosh")
    assert.match(a.newkey ?? "", /^[0-9a-f]{40}$/)
    assert.isUndefined(a.sid)
    // The wire text: the literal xmpp: prefix, declared, in the httpbind namespace.
    assert.include(request?.text, "xmpp:version='1.0'")
    assert.include(request?.text, "xmlns:xmpp='urn:xmpp:xbosh'")
    assert.include(request?.text, "xmlns='http://jabber.org/protocol/httpbind'/>")
    assert.deepStrictEqual(parse(request?.text ?? "").attributes.rid, String(FIRST_RID))
  })

  it("the initial rid is large, random and leaves room below 2^53 - 1", () => {
    assert.strictEqual(BoshSession.initialRid(new Uint8Array(6)), 1)
    assert.strictEqual(BoshSession.initialRid(new Uint8Array(6).fill(255)), 2 ** 48)
    assert.isBelow(2 ** 48 + 1e9, Number.MAX_SAFE_INTEGER)
  })

  it("reads the session creation response of example 2 (§7.2)", () => {
    const m = open({}, `<body wait='60' inactivity='30' polling='5' requests='2' hold='1' ack='${FIRST_RID}'
      accept='deflate,gzip' maxpause='120' sid='SomeSID' charsets='ISO_8859-1 ISO-2022-JP' ver='1.6'
      from='jabber.org' secure='true' authid='abc' xmlns='http://jabber.org/protocol/httpbind'/>`)
    const established = m.actions.find((a) => a._tag === "SessionEstablished")
    assert.isDefined(established)
    const p = BoshSession.parameters(m.state)
    assert.deepStrictEqual(p && {
      sid: p.sid,
      wait: p.wait,
      inactivity: p.inactivity,
      polling: p.polling,
      requests: p.requests,
      hold: p.hold,
      maxpause: p.maxpause,
      acknowledgements: p.acknowledgements,
      version: p.version,
      legacy: p.legacy,
      accept: p.accept,
      charsets: p.charsets,
      from: p.from,
      authid: p.authid
    }, {
      sid: "SomeSID",
      wait: 60,
      inactivity: 30,
      polling: 5,
      requests: 2,
      hold: 1,
      maxpause: 120,
      acknowledgements: true,
      version: { major: 1, minor: 6 },
      legacy: false,
      accept: ["deflate", "gzip"],
      charsets: ["ISO_8859-1", "ISO-2022-JP"],
      from: "jabber.org",
      authid: "abc"
    })
    assert.strictEqual(m.state._tag, "Open")
  })

  it("applies the XEP's defaults: no ver means 1.5 (Openfire), no requests means hold + 1, no polling 0", () => {
    const m = open({}, `<body sid='s' wait='60' xmlns='http://jabber.org/protocol/httpbind'/>`)
    const p = BoshSession.parameters(m.state)
    assert.deepStrictEqual(p?.version, { major: 1, minor: 5 })
    assert.isTrue(p?.legacy)
    assert.strictEqual(p?.hold, 1)
    assert.strictEqual(p?.requests, 2)
    assert.strictEqual(p?.polling, 0)
    assert.isUndefined(p?.inactivity)
    assert.isUndefined(p?.maxpause)
    assert.isFalse(p?.acknowledgements)
  })

  const impossible: ReadonlyArray<readonly [string, string]> = [
    ["no sid", `<body wait='60' xmlns='http://jabber.org/protocol/httpbind'/>`],
    ["no wait", `<body sid='s' xmlns='http://jabber.org/protocol/httpbind'/>`],
    ["a longer wait than asked", `<body sid='s' wait='61' xmlns='http://jabber.org/protocol/httpbind'/>`],
    ["a larger hold than asked", `<body sid='s' wait='60' hold='2' xmlns='http://jabber.org/protocol/httpbind'/>`],
    ["requests 0", `<body sid='s' wait='60' requests='0' xmlns='http://jabber.org/protocol/httpbind'/>`],
    ["a wait that is no number", `<body sid='s' wait='soon' xmlns='http://jabber.org/protocol/httpbind'/>`],
    ["a ver that is not major.minor", `<body sid='s' wait='60' ver='one' xmlns='http://jabber.org/protocol/httpbind'/>`],
    ["an ack that is not the creation rid", `<body sid='s' wait='60' ack='5' xmlns='http://jabber.org/protocol/httpbind'/>`],
    ["polling not shorter than inactivity", `<body sid='s' wait='60' polling='30' inactivity='30' xmlns='http://jabber.org/protocol/httpbind'/>`]
  ]
  for (const [what, xml] of impossible) {
    it(`refuses a creation response with ${what}: invalid-session-response`, () => {
      const m = open({}, xml)
      assert.strictEqual(m.state._tag, "Terminated")
      assert.strictEqual(terminated(m.actions)[0]?.reason, "invalid-session-response")
    })
  }
})

describe("requests (§8, §14, §15)", () => {
  it("after creation, while the caller waits, exactly one empty request waits, with rid + 1, the sid and the next key", () => {
    const started = BoshSession.make({ to: "jabber.org" }, randomness, 0)
    const newkey = requests(started.actions)[0]?.attributes.newkey
    const waiting = step({ state: started.state, actions: [] }, BoshSession.Event.receive(), 0)
    const m = respond(waiting, FIRST_RID, creationResponse(), 10)
    const sent = requests(m.actions)
    assert.strictEqual(sent.length, 1)
    const a = sent[0]?.attributes ?? {}
    assert.strictEqual(a.rid, String(FIRST_RID + 1))
    assert.strictEqual(a.sid, "SomeSID")
    assert.strictEqual(Sha1.hexOfString(a.key ?? ""), newkey)
    assert.strictEqual(sent[0]?.payloads.length, 0)
  })

  it("sends at once while a slot is free and batches while every slot is busy", () => {
    let m = open()
    m = step(m, BoshSession.Event.send([message("a")]), 20)
    assert.deepStrictEqual(requests(m.actions).map((r) => r.payloads.length), [1])
    m = step(m, BoshSession.Event.send([message("b")]), 21)
    m = step(m, BoshSession.Event.send([message("c")]), 22)
    assert.deepStrictEqual(requests(m.actions), [])
    assert.strictEqual(BoshSession.queuedStanzas(m.state), 2)
    // The held empty request is answered: b and c go together in the next request.
    m = respond(m, FIRST_RID + 1, `<body xmlns='http://jabber.org/protocol/httpbind'/>`, 30)
    const next = requests(m.actions)
    assert.strictEqual(next.length, 1)
    assert.deepStrictEqual(next[0]?.payloads.map((p) => Element.attribute(p, "id")), ["b", "c"])
    assert.strictEqual(next[0]?.attributes.rid, String(FIRST_RID + 3))
  })

  it("splits a batch larger than maxBodyChars, keeping the order", () => {
    let m = open({ maxBodyChars: 150 })
    m = step(m, BoshSession.Event.send([message("a")]), 20)
    m = step(m, BoshSession.Event.send([message("b"), message("c"), message("d")]), 21)
    const sent: Array<BoshSession.Request> = []
    m = respond(m, FIRST_RID + 1, `<body xmlns='http://jabber.org/protocol/httpbind'/>`, 30)
    sent.push(...requests(m.actions))
    m = respond(m, FIRST_RID + 2, `<body xmlns='http://jabber.org/protocol/httpbind'/>`, 31)
    sent.push(...requests(m.actions))
    const carried = sent.map((r) => r.payloads.map((p) => Element.attribute(p, "id")))
    assert.deepStrictEqual(carried, [["b"], ["c"]])
    // One stanza is about 110 characters: two would pass the limit of 150.
    for (const r of sent) assert.strictEqual(r.payloads.length, 1)
  })

  it("delivers payloads in rid order whatever order the responses arrive in, and each once", () => {
    let m = open()
    m = step(m, BoshSession.Event.send([message("a")]), 20)
    const body = (id: string) =>
      `<body xmlns='http://jabber.org/protocol/httpbind'><message xmlns='jabber:client' id='${id}'/></body>`
    m = respond(m, FIRST_RID + 2, body("second"), 30)
    assert.deepStrictEqual(delivered(m.actions), [])
    m = respond(m, FIRST_RID + 2, body("second"), 31)
    assert.deepStrictEqual(delivered(m.actions), [])
    m = respond(m, FIRST_RID + 1, body("first"), 32)
    assert.deepStrictEqual(delivered(m.actions), ["first", "second"])
    m = respond(m, FIRST_RID + 1, body("first"), 33)
    assert.deepStrictEqual(delivered(m.actions), [])
  })

  it("resends a request whose connection broke with the same rid and bytes, after a backoff", () => {
    let m = open()
    m = step(m, BoshSession.Event.send([message("a")]), 20)
    const original = requests(m.actions)[0]
    m = step(m, { _tag: "HttpFailed", rid: FIRST_RID + 2, reason: "ECONNRESET", attempt: 1 }, 25)
    assert.deepStrictEqual(requests(m.actions), [])
    assert.strictEqual(BoshSession.nextDeadline(m.state), 25 + 500)
    m = step(m, BoshSession.Event.tick(), 525)
    const again = requests(m.actions)[0]
    assert.strictEqual(again?.rid, original?.rid)
    assert.strictEqual(again?.text, original?.text)
    assert.strictEqual(again?.attempt, 2)
    // A late failure of the first attempt is not a second failure.
    m = step(m, { _tag: "HttpFailed", rid: FIRST_RID + 2, reason: "late", attempt: 1 }, 530)
    assert.deepStrictEqual(requests(m.actions), [])
    // Next comes the held empty request's timeout (10 + 65 s), before the resent one's (525 + 65 s).
    assert.strictEqual(BoshSession.nextDeadline(m.state), 10 + 65_000)
    const tick = step(m, BoshSession.Event.tick(), 65_010)
    assert.deepStrictEqual(requests(tick.actions), [])
    assert.strictEqual(BoshSession.nextDeadline(tick.state), 65_010 + 500)
  })

  it("times a request out after wait plus the margin, and resends it", () => {
    const m = open()
    // The held empty request went out at 10: its deadline is 10 + 60 s + 5 s.
    assert.strictEqual(BoshSession.nextDeadline(m.state), 10 + 65_000)
    const timedOut = step(m, BoshSession.Event.tick(), 65_010)
    assert.deepStrictEqual(requests(timedOut.actions), [])
    const again = step(timedOut, BoshSession.Event.tick(), 65_510)
    assert.strictEqual(requests(again.actions)[0]?.rid, FIRST_RID + 1)
  })

  it("treats HTTP 503 as recoverable and gives up after maxAttempts with connection-manager-unreachable", () => {
    let m = open({ maxAttempts: 3 })
    let now = 20
    for (let attempt = 1; attempt <= 3; attempt++) {
      m = step(m, { _tag: "HttpResponse", rid: FIRST_RID + 1, status: 503, body: undefined, attempt }, now)
      now += 10_000
      if (attempt < 3) m = step(m, BoshSession.Event.tick(), now)
    }
    assert.strictEqual(m.state._tag, "Terminated")
    assert.strictEqual(terminated(m.actions)[0]?.reason, "connection-manager-unreachable")
  })

  it("a recoverable binding error (type='error') resends that request and every earlier unanswered one (§17.3)", () => {
    let m = open()
    m = step(m, BoshSession.Event.send([message("a")]), 20)
    m = respond(m, FIRST_RID + 2, `<body type='error' xmlns='http://jabber.org/protocol/httpbind'/>`, 30)
    assert.deepStrictEqual(requests(m.actions).map((r) => r.rid).sort(), [FIRST_RID + 1, FIRST_RID + 2])
  })

  it("acknowledges responses (§9.2): ack names the last rid answered in order when one is missing", () => {
    let m = open({}, creationResponse().replace("requests='2'", "requests='3'"))
    m = step(m, BoshSession.Event.send([message("a")]), 20)
    // rid+2 answered first; rid+1 still out: the next request says ack=rid (the creation).
    m = respond(m, FIRST_RID + 2, `<body xmlns='http://jabber.org/protocol/httpbind'/>`, 30)
    m = step(m, BoshSession.Event.send([message("b")]), 31)
    const next = requests(m.actions)[0]
    assert.strictEqual(next?.attributes.ack, String(FIRST_RID))
    // In the normal case (everything answered) no ack is sent.
    m = respond(m, FIRST_RID + 1, `<body xmlns='http://jabber.org/protocol/httpbind'/>`, 32)
    m = respond(m, FIRST_RID + 3, `<body xmlns='http://jabber.org/protocol/httpbind'/>`, 33)
    assert.isUndefined(requests(m.actions)[0]?.attributes.ack)
  })

  it("a report/time answer (§9.2) makes the client resend the reported request at once", () => {
    let m = open({}, creationResponse(`ack='${FIRST_RID}'`))
    m = step(m, BoshSession.Event.send([message("a")]), 20)
    const original = requests(m.actions)[0]
    m = respond(m, FIRST_RID + 1, `<body report='${FIRST_RID + 2}' time='852' xmlns='http://jabber.org/protocol/httpbind'/>`, 30)
    const resent = requests(m.actions).find((r) => r.rid === FIRST_RID + 2)
    assert.strictEqual(resent?.text, original?.text)
  })

  it("switches to a new key chain before the old one runs out (§15.4)", () => {
    let m = open({ keyChainLength: 3 })
    const keys: Array<{ key?: string | undefined; newkey?: string | undefined }> = []
    let now = 20
    for (let i = 0; i < 6; i++) {
      m = step(m, BoshSession.Event.send([message(`m${i}`)]), now++)
      for (const r of requests(m.actions)) keys.push({ key: r.attributes.key, newkey: r.attributes.newkey })
      m = respond(m, FIRST_RID + 1 + i, `<body xmlns='http://jabber.org/protocol/httpbind'/>`, now++)
      for (const r of requests(m.actions)) keys.push({ key: r.attributes.key, newkey: r.attributes.newkey })
    }
    // Each key hashes to the key (or newkey) of the request before it.
    for (let i = 1; i < keys.length; i++) {
      const previous = keys[i - 1]
      assert.strictEqual(Sha1.hexOfString(keys[i]?.key ?? ""), previous?.newkey ?? previous?.key)
    }
    assert.isAbove(keys.filter((k) => k.newkey !== undefined).length, 2)
  })

  it("refuses a stanza that is not valid XML with the XmlError, and queues nothing", () => {
    const m = step(open(), BoshSession.Event.send([Element.make("bad name")]), 20)
    const rejected = m.actions.find((a) => a._tag === "Rejected")
    assert.strictEqual(rejected?._tag === "Rejected" ? rejected.error?._tag : undefined, "XmlError")
    assert.strictEqual(BoshSession.queuedStanzas(m.state), 0)
  })
})

describe("terminal conditions (§17)", () => {
  const conditions = [
    "bad-request",
    "host-gone",
    "host-unknown",
    "improper-addressing",
    "internal-server-error",
    "item-not-found",
    "other-request",
    "policy-violation",
    "remote-connection-failed",
    "remote-stream-error",
    "see-other-uri",
    "system-shutdown",
    "undefined-condition"
  ] as const
  for (const condition of conditions) {
    it(`${condition} in the body ends the session with a BoshError of that reason`, () => {
      const m = respond(open(), FIRST_RID + 1, `<body type='terminate' condition='${condition}' xmlns='http://jabber.org/protocol/httpbind'/>`, 20)
      assert.strictEqual(m.state._tag, "Terminated")
      assert.strictEqual(terminated(m.actions)[0]?.reason, condition)
    })
    it(`${condition} in the HTTP reason phrase with status 200 (ejabberd) does too`, () => {
      const m = respond(open(), FIRST_RID + 1, `<body xmlns='http://jabber.org/protocol/httpbind'/>`, 20, { reasonPhrase: condition })
      assert.strictEqual(terminated(m.actions)[0]?.reason, condition)
    })
  }

  it("see-other-uri carries the URI", () => {
    const m = respond(open(), FIRST_RID + 1, `<body condition='see-other-uri' type='terminate' xmlns='http://jabber.org/protocol/httpbind'><uri>https://secure.jabber.org/xmppcm</uri></body>`, 20)
    assert.strictEqual(terminated(m.actions)[0]?.uri, "https://secure.jabber.org/xmppcm")
  })

  it("remote-stream-error carries the XMPP stream error, and the payloads before it are delivered", () => {
    const m = respond(open(), FIRST_RID + 1, `<body condition='remote-stream-error' type='terminate'
      xmlns='http://jabber.org/protocol/httpbind' xmlns:stream='http://etherx.jabber.org/streams'>
      <message xmlns='jabber:client' id='last'><body>I said "Hi!"</body></message>
      <stream:error><xml-not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></body>`, 20)
    const error = terminated(m.actions)[0]
    assert.strictEqual(error?.reason, "remote-stream-error")
    assert.strictEqual(error?.streamError?.name, "error")
    assert.strictEqual(error?.streamError?.children.find((c) => typeof c !== "string" && c.name === "xml-not-well-formed") !== undefined, true)
    assert.deepStrictEqual(delivered(m.actions), ["last"])
  })

  for (const [status, reason] of [[400, "bad-request"], [403, "policy-violation"], [404, "item-not-found"]] as const) {
    it(`legacy HTTP ${status} becomes ${reason}`, () => {
      const m = step(open(), { _tag: "HttpResponse", rid: FIRST_RID + 1, status, body: undefined }, 20)
      const error = terminated(m.actions)[0]
      assert.strictEqual(error?.reason, reason)
      assert.strictEqual(error?.status, status)
    })
  }

  it("a terminate with no condition the client did not ask for is a typed error too", () => {
    const m = respond(open(), FIRST_RID + 1, `<body type='terminate' xmlns='http://jabber.org/protocol/httpbind'/>`, 20)
    assert.strictEqual(terminated(m.actions)[0]?.reason, "terminated-by-connection-manager")
  })
})

describe("restart, pause, polling, close (XEP-0206 §5, XEP-0124 §10–§13)", () => {
  it("restart sends xmpp:restart='true' with the literal prefix, to and xml:lang, and no payload", () => {
    const m = step(open(), BoshSession.Event.restart(), 20)
    const r = requests(m.actions)[0]
    assert.include(r?.text, "xmpp:restart='true'")
    assert.include(r?.text, "xmlns:xmpp='urn:xmpp:xbosh'")
    assert.strictEqual(r?.attributes.to, "jabber.org")
    assert.strictEqual(r?.attributes["xml:lang"], "en")
    assert.strictEqual(r?.payloads.length, 0)
  })

  it("features in the restart's own response or in a later one are both delivered; nothing waits for them", () => {
    let m = step(open(), BoshSession.Event.restart(), 20)
    // Openfire: the restart is answered empty; the line stays open (a new empty request goes out).
    m = respond(m, FIRST_RID + 1, `<body xmlns='http://jabber.org/protocol/httpbind'/>`, 30)
    m = respond(m, FIRST_RID + 2, `<body xmlns='http://jabber.org/protocol/httpbind'/>`, 31)
    assert.strictEqual(requests(m.actions).length, 1)
    m = respond(m, FIRST_RID + 3, `<body xmlns='http://jabber.org/protocol/httpbind' xmlns:stream='http://etherx.jabber.org/streams'><stream:features/></body>`, 40)
    assert.deepStrictEqual(delivered(m.actions), ["features"])
  })

  it("pause is refused without maxpause, and sent with it; the session then stops refilling until resumed", () => {
    const refused = step(open(), BoshSession.Event.pause(60), 20)
    assert.strictEqual(refused.actions[0]?._tag, "Rejected")
    // wait 20: a pause must cover two lost exchanges of 25 s each plus backoff (53 s).
    let m = open({ wait: 20 }, creationResponse("maxpause='120'").replace("wait='60'", "wait='20'"))
    m = step(m, BoshSession.Event.pause(60), 20)
    assert.strictEqual(requests(m.actions)[0]?.attributes.pause, "60")
    assert.strictEqual(m.state._tag, "Paused")
    m = respond(m, FIRST_RID + 1, `<body xmlns='http://jabber.org/protocol/httpbind'/>`, 30)
    assert.deepStrictEqual(requests(m.actions), [])
    m = step(m, BoshSession.Event.resume(), 40_000)
    assert.strictEqual(requests(m.actions).length, 1)
    assert.strictEqual(m.state._tag, "Open")
  })

  it("a pause shorter than two lost exchanges and their backoff is refused (§10: it would end before we are back)", () => {
    // wait 20 + 5 s margin per attempt: 2 × 25 s + 0.5 s + 1 s backoff + 1 s slack = 52.5 s.
    const m = open({ wait: 20 }, creationResponse("maxpause='120'").replace("wait='60'", "wait='20'"))
    const refused = step(m, BoshSession.Event.pause(52), 20)
    assert.strictEqual(refused.actions[0]?._tag, "Rejected")
    assert.deepStrictEqual(requests(refused.actions), [])
    assert.strictEqual(refused.state._tag, "Open")
    const accepted = step(open({ wait: 20 }, creationResponse("maxpause='120'").replace("wait='60'", "wait='20'")), BoshSession.Event.pause(53), 20)
    assert.strictEqual(requests(accepted.actions)[0]?.attributes.pause, "53")
  })

  it("a paused session comes back by itself in time for a lost request to get through before the pause ends", () => {
    let m = open({ wait: 20 }, creationResponse("maxpause='120'").replace("wait='60'", "wait='20'"))
    m = step(m, BoshSession.Event.pause(100), 1_000)
    assert.strictEqual(m.state._tag, "Paused")
    // The manager answers the held poll at once and never the pause (ejabberd).
    m = respond(m, FIRST_RID + 1, `<body xmlns='http://jabber.org/protocol/httpbind'/>`, 1_010)
    assert.deepStrictEqual(requests(m.actions), [])
    const resumeAt = 1_000 + 100_000 - 52_500
    assert.strictEqual(BoshSession.nextDeadline(m.state), resumeAt)
    m = step(m, BoshSession.Event.tick(), resumeAt - 1)
    assert.strictEqual(m.state._tag, "Paused")
    m = step(m, BoshSession.Event.tick(), resumeAt)
    assert.strictEqual(m.state._tag, "Open")
    const [poll] = requests(m.actions)
    assert.isDefined(poll)
    assert.strictEqual(poll?.payloads.length, 0)
    assert.isUndefined(poll?.attributes.pause)
  })

  it("a polling session (requests=1) polls no faster than polling allows", () => {
    let m = open({}, `<body sid='s' wait='60' requests='1' hold='0' polling='5' inactivity='60' ver='1.6' xmlns='http://jabber.org/protocol/httpbind'/>`)
    // The first poll waits `polling` (+ margin) after the creation request.
    assert.deepStrictEqual(requests(m.actions), [])
    assert.strictEqual(BoshSession.nextDeadline(m.state), 0 + 5_000 + 250)
    m = step(m, BoshSession.Event.tick(), 5_250)
    assert.strictEqual(requests(m.actions).length, 1)
    m = respond(m, FIRST_RID + 1, `<body xmlns='http://jabber.org/protocol/httpbind'/>`, 5_300)
    assert.deepStrictEqual(requests(m.actions), [])
    assert.strictEqual(BoshSession.nextDeadline(m.state), 5_250 + 5_250)
  })

  it("close sends type='terminate' carrying every stanza still queued, then reports Closed", () => {
    let m = open()
    m = step(m, BoshSession.Event.send([message("a")]), 20)
    m = step(m, BoshSession.Event.send([message("b")]), 21)
    const presence = Element.make("presence", { namespace: "jabber:client", attributes: { type: "unavailable", id: "p" } })
    m = step(m, BoshSession.Event.close([presence]), 22)
    // Both slots busy: the terminate may use the one extra request §11 allows.
    const terminate = requests(m.actions)[0]
    assert.strictEqual(terminate?.attributes.type, "terminate")
    assert.deepStrictEqual(terminate?.payloads.map((p) => Element.attribute(p, "id")), ["b", "p"])
    assert.strictEqual(step(m, BoshSession.Event.send([message("late")]), 23).actions[0]?._tag, "Rejected")
    m = respond(m, FIRST_RID + 1, `<body xmlns='http://jabber.org/protocol/httpbind'/>`, 30)
    m = respond(m, FIRST_RID + 2, `<body xmlns='http://jabber.org/protocol/httpbind'/>`, 31)
    m = respond(m, FIRST_RID + 3, `<body type='terminate' xmlns='http://jabber.org/protocol/httpbind'/>`, 32)
    assert.isTrue(m.actions.some((a) => a._tag === "Closed"))
    assert.strictEqual(m.state._tag, "Terminated")
    assert.isUndefined(m.state._tag === "Terminated" ? m.state.error : "open")
  })

  it("a held request answered with other-request after our terminate (ejabberd 23.01) means closed, not an error", () => {
    let m = open()
    m = step(m, BoshSession.Event.close(), 20)
    const terminate = requests(m.actions)[0]
    assert.strictEqual(terminate?.rid, FIRST_RID + 2)
    // ejabberd answers the terminate first, then the held poll with other-request; processed in rid order.
    m = respond(m, FIRST_RID + 2, `<body type='terminate' xmlns='http://jabber.org/protocol/httpbind'/>`, 21)
    m = respond(m, FIRST_RID + 1, `<body type='terminate' condition='other-request' xmlns='http://jabber.org/protocol/httpbind'/>`, 22)
    assert.isTrue(m.actions.some((a) => a._tag === "Closed"))
    assert.deepStrictEqual(terminated(m.actions), [])
  })

  it("after a delivery no poll races the caller's reply: the reply goes alone, the poll once the caller waits again", () => {
    let m = open()
    assert.strictEqual(requests(m.actions)[0]?.rid, FIRST_RID + 1)
    m = respond(m, FIRST_RID + 1, `<body xmlns='http://jabber.org/protocol/httpbind'>${"<message xmlns='jabber:client' id='in'/>"}</body>`, 20)
    assert.deepStrictEqual(delivered(m.actions), ["in"])
    // The caller has its payload and has not asked for more: no empty request yet.
    assert.deepStrictEqual(requests(m.actions), [])
    m = step(m, BoshSession.Event.send([message("reply")]), 20)
    assert.deepStrictEqual(requests(m.actions).map((r) => [r.rid, r.payloads.length]), [[FIRST_RID + 2, 1]])
    // The reply's request is at the manager and can carry what it pushes: still no empty request.
    m = step(m, BoshSession.Event.receive(), 21)
    assert.deepStrictEqual(requests(m.actions), [])
    m = respond(m, FIRST_RID + 2, "<body xmlns='http://jabber.org/protocol/httpbind'/>", 30)
    // Nothing delivered, and the caller still waits: the empty request goes now.
    assert.deepStrictEqual(requests(m.actions).map((r) => [r.rid, r.payloads.length]), [[FIRST_RID + 3, 0]])
  })

  it("when nobody waits for payloads, no empty request goes until half the inactivity has passed (keep-alive)", () => {
    const started = BoshSession.make({ to: "jabber.org" }, randomness, 0)
    // inactivity='30' in the creation response: a keep-alive 15 s after the last answer.
    let m = respond({ state: started.state, actions: [] }, FIRST_RID, creationResponse(), 10)
    assert.deepStrictEqual(requests(m.actions), [])
    assert.strictEqual(BoshSession.nextDeadline(m.state), 15_010)
    m = step(m, BoshSession.Event.tick(), 15_010)
    assert.deepStrictEqual(requests(m.actions).map((r) => [r.rid, r.payloads.length]), [[FIRST_RID + 1, 0]])
  })

  it("other-request without a terminate of ours stays a typed error", () => {
    const m = respond(open(), FIRST_RID + 1, `<body type='terminate' condition='other-request' xmlns='http://jabber.org/protocol/httpbind'/>`, 20)
    assert.strictEqual(terminated(m.actions)[0]?.reason, "other-request")
  })
})

describe("deadlines that fit the request, and failures that cannot recover", () => {
  const started = (options: Partial<BoshSession.Options> = {}): Machine => {
    const made = BoshSession.make({ to: "jabber.org", ...options }, randomness, 0)
    return { state: made.state, actions: [...made.actions] }
  }

  it("a silent manager ends session creation after requestTimeoutMs (default 10 s), not after wait + margin", () => {
    let m = started()
    assert.strictEqual(BoshSession.nextDeadline(m.state), 10_000)
    m = step(m, BoshSession.Event.tick(), 9_999)
    assert.deepStrictEqual(terminated(m.actions), [])
    m = step(m, BoshSession.Event.tick(), 10_000)
    const [error] = terminated(m.actions)
    assert.strictEqual(error?.reason, "connection-manager-unreachable")
    assert.include(error?.message, "no answer to the session creation request within 10 s")
  })

  it("a reset at creation is resent within the same deadline, which no attempt extends", () => {
    let m = started({ requestTimeoutMs: 3_000 })
    m = step(m, { _tag: "HttpFailed", rid: FIRST_RID, reason: "reset", attempt: 1 }, 100)
    assert.strictEqual(BoshSession.nextDeadline(m.state), 600) // backoff 500 ms
    m = step(m, BoshSession.Event.tick(), 600)
    assert.deepStrictEqual(requests(m.actions).map((r) => [r.rid, r.attempt]), [[FIRST_RID, 2]])
    // The second attempt is waited for only until the first one's deadline.
    assert.strictEqual(BoshSession.nextDeadline(m.state), 3_000)
    m = step(m, { _tag: "HttpFailed", rid: FIRST_RID, reason: "reset", attempt: 2 }, 2_500)
    // A retry after the backoff (1 s) would come past the deadline: give up now, with the last cause.
    const [error] = terminated(m.actions)
    assert.include(error?.message, "within 3 s (last: reset)")
  })

  it("a request the manager may hold waits wait + margin, per attempt", () => {
    const m = open({ timeoutMarginMs: 5_000 })
    // The poll sent at 10 ms with the granted wait of 60 s.
    assert.strictEqual(BoshSession.nextDeadline(m.state), 10 + 65_000)
  })

  it("restart is answered at once: each attempt gets the short deadline, and a lost one is resent", () => {
    let m = open({ requestTimeoutMs: 4_000, maxAttempts: 2 })
    m = step(m, BoshSession.Event.restart(), 1_000)
    const restart = requests(m.actions).find((r) => r.attributes["xmpp:restart"] === "true")
    assert.strictEqual(restart?.rid, FIRST_RID + 2)
    assert.strictEqual(BoshSession.nextDeadline(m.state), 5_000)
    m = step(m, BoshSession.Event.tick(), 5_000)
    m = step(m, BoshSession.Event.tick(), 5_500)
    // The held poll before it goes again too: the manager takes rids in order, and it may be what was lost.
    assert.deepStrictEqual(requests(m.actions).map((r) => [r.rid, r.attempt]), [[FIRST_RID + 1, 2], [FIRST_RID + 2, 2]])
    m = step(m, BoshSession.Event.tick(), 9_500)
    assert.include(terminated(m.actions)[0]?.message, "request 102 failed 2 times, last: timed out")
  })

  it("a failure that cannot recover ends the session at once, keeping its cause", () => {
    const cause = { _tag: "TlsError", reason: "CertificateInvalid" }
    const m = step(started(), { _tag: "HttpFailed", rid: FIRST_RID, reason: "certificate not trusted", recoverable: false, cause }, 5)
    const [error] = terminated(m.actions)
    assert.strictEqual(error?.reason, "connection-manager-unreachable")
    assert.strictEqual(error?.cause, cause)
    assert.deepStrictEqual(requests(m.actions), [], "nothing is resent")
  })

  it("a recoverable failure keeps its cause when the retries run out", () => {
    let m = open({ maxAttempts: 2, timeoutMarginMs: 1_000 })
    const poll = FIRST_RID + 1
    m = step(m, { _tag: "HttpFailed", rid: poll, reason: "reset", attempt: 1, cause: "first" }, 20)
    m = step(m, BoshSession.Event.tick(), 520)
    m = step(m, { _tag: "HttpFailed", rid: poll, reason: "reset", attempt: 2, cause: "second" }, 600)
    const [error] = terminated(m.actions)
    assert.include(error?.message, "failed 2 times")
    assert.strictEqual(error?.cause, "second")
  })

  it("an answer that is not well-formed XML ends the session as invalid-response: its resend would bring the same bytes", () => {
    const parsed = BodyParser.parseBody(encoder.encode("<body xmlns='http://jabber.org/protocol/httpbind'><unclosed></body>"))
    assert.isTrue(Result.isFailure(parsed))
    const bodyError = Result.isFailure(parsed) ? parsed.failure : undefined
    const m = step(open(), { _tag: "HttpResponse", rid: FIRST_RID + 1, status: 200, body: undefined, bodyError }, 20)
    const [error] = terminated(m.actions)
    assert.strictEqual(error?.reason, "invalid-response")
    assert.strictEqual(error?.cause, bodyError)
    assert.deepStrictEqual(requests(m.actions), [])
  })

  it("HTTP 503 is resent; a client error other than 400/403/404 (and 408/429) ends the session with its status", () => {
    let m = step(open(), { _tag: "HttpResponse", rid: FIRST_RID + 1, status: 503, body: undefined }, 20)
    assert.deepStrictEqual(terminated(m.actions), [])
    m = step(open(), { _tag: "HttpResponse", rid: FIRST_RID + 1, status: 405, reasonPhrase: "Method Not Allowed", body: undefined }, 20)
    const [error] = terminated(m.actions)
    assert.strictEqual(error?.reason, "undefined-condition")
    assert.strictEqual(error?.status, 405)
    assert.include(error?.message, "HTTP 405 Method Not Allowed")
  })
})

describe("rid text (§14.1)", () => {
  it("every request's rid attribute is the decimal of its rid, across the whole 48-bit range", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), fc.integer({ min: 1, max: 4 }), (bytes, sends) => {
        const first = BoshSession.initialRid(bytes)
        const started = BoshSession.make({ to: "jabber.org", acknowledgements: false }, { rid: bytes, keySeed: randomness.keySeed }, 0)
        const waiting = step({ state: started.state, actions: [] }, BoshSession.Event.receive(), 0)
        let m = respond(waiting, first, creationResponse(), 10)
        const seen = [...requests(started.actions), ...requests(m.actions)]
        for (let i = 0; i < sends; i++) {
          for (const request of requests(m.actions)) m = respond(m, request.rid, "<body xmlns='http://jabber.org/protocol/httpbind'/>", 20 + i)
          m = step(m, BoshSession.Event.send([message(`m${i}`)]), 20 + i)
          seen.push(...requests(m.actions))
        }
        assert.isAtLeast(seen.length, 3)
        for (const request of seen) {
          assert.strictEqual(request.attributes.rid, String(request.rid))
          assert.include(request.text, ` rid='${request.rid}'`)
        }
      })
    )
  })
})

describe("a state value never changes once returned", () => {
  it("step works on a copy: the state it was given is the same after, whatever the event", () => {
    // Replaying from an old state must give the same result as the first time.
    const states: Array<BoshSession.State> = []
    const snapshots: Array<string> = []
    // What a state holds: maps as entries, and of the queue of unsent stanzas
    // (shared between states, each with its own window) just its window.
    const view = (state: BoshSession.State) =>
      JSON.stringify(state, (_key, value) => {
        if (value instanceof Map) return [...value]
        if (
          typeof value === "object" && value !== null && Array.isArray(value.items) &&
          typeof value.head === "number" && typeof value.end === "number"
        ) {
          return { ...value, items: value.items.slice(value.head, value.end), head: 0, end: 0 }
        }
        return value
      })
    const remember = (m: Machine): Machine => {
      states.push(m.state)
      snapshots.push(view(m.state))
      return m
    }
    let m = remember(open())
    m = remember(step(m, { _tag: "Send", stanzas: [message("a"), message("b")] }, 20))
    m = remember(step(m, { _tag: "Send", stanzas: [message("c")] }, 21))
    const [first, second] = requests([...m.actions])
    m = remember(respond(m, second?.rid ?? 0, "<body xmlns='http://jabber.org/protocol/httpbind'><message id='s2'/></body>", 30))
    m = remember(step(m, { _tag: "HttpFailed", rid: first?.rid ?? 0, reason: "connection reset" }, 31))
    m = remember(step(m, { _tag: "Tick" }, 5_000))
    m = remember(step(m, { _tag: "Close", stanzas: [message("bye")] }, 5_001))
    // And a replay from an early state gives what it gave the first time.
    const replayA = BoshSession.step(states[1] ?? m.state, { _tag: "Send", stanzas: [message("x")] }, 22)
    const replayB = BoshSession.step(states[1] ?? m.state, { _tag: "Send", stanzas: [message("x")] }, 22)
    assert.deepStrictEqual(requests(replayA.actions).map((r) => r.text), requests(replayB.actions).map((r) => r.text))
    // Neither the steps nor the replays changed any state seen before.
    states.forEach((state, i) => {
      assert.strictEqual(
        view(state),
        snapshots[i],
        `state ${i} changed after later steps`
      )
    })
  })
})
