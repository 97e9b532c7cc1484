import { assert, describe, it } from "@effect/vitest"
import { Element, Namespaces, Negotiation, XmlStreamEvent } from "@xmpp-core/protocol"
import {
  b64,
  bindFeature,
  bindResult,
  channelBindingTypes,
  drive,
  el,
  features,
  iqError,
  iqResult,
  mechanisms,
  payloadOf,
  sasl,
  saslFailure,
  serverHeader,
  sessionFeature,
  starttls,
  streamError,
  summarize,
  tls12,
  tls13
} from "./NegotiationFixtures.js"

const password = { _tag: "Password", username: "user", password: "pencil" } as const

const tcp: Negotiation.Config = {
  transport: "tcp",
  domain: "localhost",
  credentials: password,
  clientNonce: "fyko+d2lbbFgONRv9qkxdawL"
}

const rfc5802First = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"
const rfc5802Final = "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="

const noBindingTls = Negotiation.tlsEstablished({ tlsVersion: "TLSv1.2", bindings: [] })

describe("Negotiation over TCP", () => {
  it("goes from connected to bound: STARTTLS, SCRAM-SHA-1 (RFC 5802 vector), restart, bind", () => {
    const { actions, state } = drive(tcp, [
      serverHeader(),
      el(features(starttls(true), mechanisms("SCRAM-SHA-1", "PLAIN"))),
      el(Element.make("proceed", { namespace: Namespaces.TLS })),
      noBindingTls,
      serverHeader({ id: "s2" }),
      el(features(mechanisms("SCRAM-SHA-1", "PLAIN"))),
      el(sasl("challenge", b64(rfc5802First))),
      el(sasl("success", b64(rfc5802Final))),
      serverHeader({ id: "s3" }),
      el(features(bindFeature(), sessionFeature(true))),
      el(bindResult("user@localhost/abc"))
    ])
    assert.deepStrictEqual(summarize(actions), [
      "SendStreamHeader",
      "Send starttls",
      "StartTls",
      "RestartStream",
      "SendStreamHeader",
      "Send auth SCRAM-SHA-1",
      "ComputeScram",
      "Send response",
      "RestartStream",
      "SendStreamHeader",
      "Send iq",
      "Bound user@localhost/abc"
    ])
    assert.strictEqual(payloadOf(actions[5]), "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL")
    assert.strictEqual(
      payloadOf(actions[7]),
      "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
    )
    assert.strictEqual(state._tag, "Bound")
    const bound = actions[11]
    assert.strictEqual(bound?._tag, "Bound")
    if (bound?._tag === "Bound") {
      assert.strictEqual(bound.mechanism, "SCRAM-SHA-1")
      assert.strictEqual(bound.scramKeys?.iterations, 4096)
    }
  })

  it("writes a stream header with to, version, xml:lang and the namespaces", () => {
    const { actions } = drive({ ...tcp, lang: "en" }, [])
    const header = actions[0]
    assert.strictEqual(header?._tag, "SendStreamHeader")
    if (header?._tag === "SendStreamHeader") {
      assert.strictEqual(
        header.xml,
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' " +
          "xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0' xml:lang='en'>"
      )
    }
  })

  it("names the account in the header's from only once the stream is encrypted", () => {
    const { actions } = drive(tcp, [
      serverHeader(),
      el(features(starttls())),
      el(Element.make("proceed", { namespace: Namespaces.TLS })),
      noBindingTls
    ])
    const headers = actions.flatMap((a) => a._tag === "SendStreamHeader" ? [a.header] : [])
    assert.strictEqual(headers.length, 2)
    assert.isUndefined(headers[0] && Element.attribute(headers[0], "from"))
    assert.strictEqual(headers[1] && Element.attribute(headers[1], "from"), "user@localhost")
  })

  it("checks the server header: version, id, from", () => {
    const failWith = (attributes: Record<string, string | undefined>) =>
      summarize(drive(tcp, [serverHeader(attributes)]).actions).at(-1)
    assert.strictEqual(failWith({ version: undefined }), "Failed NegotiationError unsupported-version")
    assert.strictEqual(failWith({ version: "0.9" }), "Failed NegotiationError unsupported-version")
    assert.strictEqual(failWith({ id: undefined }), "Failed NegotiationError invalid-stream-header")
    assert.strictEqual(failWith({ from: "evil.example" }), "Failed NegotiationError invalid-stream-header")
    assert.strictEqual(failWith({ version: "1.1" }), "SendStreamHeader")
  })

  it("ends in a typed error, never a plaintext login, when the server offers no STARTTLS", () => {
    const { actions, state } = drive(tcp, [serverHeader(), el(features(mechanisms("PLAIN", "SCRAM-SHA-1")))])
    assert.deepStrictEqual(summarize(actions), ["SendStreamHeader", "Failed NegotiationError starttls-not-offered"])
    assert.strictEqual(state._tag, "Failed")
  })

  it("with plaintext allowed, uses SCRAM but never PLAIN unless PLAIN without TLS is allowed too", () => {
    const plaintext = { ...tcp, allowPlaintext: true }
    assert.deepStrictEqual(
      summarize(drive(plaintext, [serverHeader(), el(features(mechanisms("PLAIN", "SCRAM-SHA-1")))]).actions),
      ["SendStreamHeader", "Send auth SCRAM-SHA-1"]
    )
    assert.deepStrictEqual(
      summarize(drive(plaintext, [serverHeader(), el(features(mechanisms("PLAIN")))]).actions),
      ["SendStreamHeader", "Failed NegotiationError no-acceptable-mechanism"]
    )
    assert.deepStrictEqual(
      summarize(
        drive({ ...plaintext, allowPlainWithoutTls: true }, [serverHeader(), el(features(mechanisms("PLAIN")))])
          .actions
      ),
      ["SendStreamHeader", "Send auth PLAIN"]
    )
  })

  it("a STARTTLS <failure/> is a typed error", () => {
    const { actions } = drive(tcp, [
      serverHeader(),
      el(features(starttls())),
      el(Element.make("failure", { namespace: Namespaces.TLS }))
    ])
    assert.strictEqual(summarize(actions).at(-1), "Failed NegotiationError tls-failed")
  })

  it("a wrong server signature stops the login: no restart, no bind", () => {
    const { actions, state } = drive({ ...tcp, tls: { tlsVersion: "TLSv1.2", bindings: [] } }, [
      serverHeader(),
      el(features(mechanisms("SCRAM-SHA-1"))),
      el(sasl("challenge", b64(rfc5802First))),
      el(sasl("success", b64("v=AAAApqV8S7suAoZWja4dJRkFsKQ=")))
    ])
    assert.deepStrictEqual(summarize(actions).slice(-1), ["Failed SaslMechanismError invalid-server-signature"])
    assert.notInclude(summarize(actions), "RestartStream")
    assert.strictEqual(state._tag, "Failed")
  })

  it("a success without the server signature stops the login", () => {
    const { actions } = drive({ ...tcp, tls: { tlsVersion: "TLSv1.2", bindings: [] } }, [
      serverHeader(),
      el(features(mechanisms("SCRAM-SHA-1"))),
      el(sasl("challenge", b64(rfc5802First))),
      el(sasl("success"))
    ])
    assert.strictEqual(summarize(actions).at(-1), "Failed SaslMechanismError invalid-server-signature")
  })

  it("accepts the server-final as a last challenge followed by an empty success", () => {
    const { actions } = drive({ ...tcp, tls: { tlsVersion: "TLSv1.2", bindings: [] } }, [
      serverHeader(),
      el(features(mechanisms("SCRAM-SHA-1"))),
      el(sasl("challenge", b64(rfc5802First))),
      el(sasl("challenge", b64(rfc5802Final))),
      el(sasl("success"))
    ])
    assert.deepStrictEqual(summarize(actions).slice(-5), [
      "ComputeScram",
      "Send response",
      "Send response",
      "RestartStream",
      "SendStreamHeader"
    ])
  })

  it("refuses a low iteration count with <abort/> and a typed error", () => {
    const { actions } = drive({ ...tcp, tls: { tlsVersion: "TLSv1.2", bindings: [] } }, [
      serverHeader(),
      el(features(mechanisms("SCRAM-SHA-1"))),
      el(sasl("challenge", b64("r=fyko+d2lbbFgONRv9qkxdawLxx,s=QSXCR+Q6sek8bf92,i=1000")))
    ])
    assert.deepStrictEqual(summarize(actions).slice(-2), [
      "Send abort",
      "Failed SaslMechanismError iteration-count-too-low"
    ])
  })

  it("binds a chosen resource and performs a non-optional session", () => {
    const secure = { ...tcp, tls: { tlsVersion: "TLSv1.3", bindings: [] }, resource: "desk" }
    const { actions } = drive(secure, [
      serverHeader(),
      el(features(mechanisms("PLAIN"))),
      el(sasl("success")),
      serverHeader(),
      el(features(bindFeature(), sessionFeature(false))),
      el(bindResult("user@localhost/desk")),
      el(iqResult("session_1"))
    ])
    const bindRequest = actions.find((a) => a._tag === "Send" && a.element.name === "iq")
    assert.isDefined(bindRequest)
    if (bindRequest?._tag === "Send") {
      const bind = Element.child(bindRequest.element, "bind", Namespaces.BIND)
      assert.strictEqual(bind && Element.text(Element.child(bind, "resource") ?? bind), "desk")
    }
    assert.deepStrictEqual(summarize(actions).slice(-3), ["Send iq", "Send iq", "Bound user@localhost/desk"])
  })

  it("a bind error is a typed error with the stanza condition", () => {
    const { actions } = drive({ ...tcp, tls: { tlsVersion: "TLSv1.3", bindings: [] } }, [
      serverHeader(),
      el(features(mechanisms("PLAIN"))),
      el(sasl("success")),
      serverHeader(),
      el(features(bindFeature())),
      el(iqError("bind_1", "conflict"))
    ])
    const last = actions.at(-1)
    assert.strictEqual(last?._tag, "Failed")
    if (last?._tag === "Failed" && last.error._tag === "NegotiationError") {
      assert.strictEqual(last.error.reason, "bind-failed")
      assert.strictEqual(last.error.condition, "conflict")
    } else assert.fail("expected a NegotiationError")
  })

  it("a bound address that is not a full JID is a typed error", () => {
    for (const jid of ["user@localhost", "user@@localhost/r", "user@/r"]) {
      const { actions } = drive({ ...tcp, tls: { tlsVersion: "TLSv1.3", bindings: [] } }, [
        serverHeader(),
        el(features(mechanisms("PLAIN"))),
        el(sasl("success")),
        serverHeader(),
        el(features(bindFeature())),
        el(bindResult(jid))
      ])
      assert.strictEqual(summarize(actions).at(-1), "Failed NegotiationError bind-failed", jid)
    }
  })

  it("no bind feature after authentication is a typed error", () => {
    const { actions } = drive({ ...tcp, tls: { tlsVersion: "TLSv1.3", bindings: [] } }, [
      serverHeader(),
      el(features(mechanisms("PLAIN"))),
      el(sasl("success")),
      serverHeader(),
      el(features())
    ])
    assert.strictEqual(summarize(actions).at(-1), "Failed NegotiationError bind-not-offered")
  })
})

describe("Negotiation over BOSH", () => {
  const bosh: Negotiation.Config = {
    transport: "bosh",
    domain: "localhost",
    credentials: { _tag: "Password", username: "alice", password: "alicepass" },
    clientNonce: "abcdef",
    secure: true
  }

  it("writes no header, ignores <starttls><required/>, restarts with RestartStream only", () => {
    const { actions } = drive(bosh, [
      XmlStreamEvent.streamOpen(Element.make("body", { namespace: Namespaces.HTTP_BIND })),
      el(features(starttls(true), mechanisms("PLAIN"))),
      el(sasl("success")),
      el(features(bindFeature(), sessionFeature(true))),
      el(bindResult("alice@localhost/bosh"))
    ])
    assert.deepStrictEqual(summarize(actions), [
      "Send auth PLAIN",
      "RestartStream",
      "Send iq",
      "Bound alice@localhost/bosh"
    ])
    assert.strictEqual(payloadOf(actions[0]), "\u0000alice\u0000alicepass")
  })

  it("refuses to authenticate over unencrypted HTTP unless plaintext is allowed", () => {
    const plain = { ...bosh, secure: false }
    assert.deepStrictEqual(summarize(drive(plain, [el(features(starttls(true), mechanisms("PLAIN")))]).actions), [
      "Failed NegotiationError plaintext-not-allowed"
    ])
    assert.deepStrictEqual(
      summarize(
        drive({ ...plain, allowPlaintext: true, allowPlainWithoutTls: true }, [
          el(features(starttls(true), mechanisms("PLAIN")))
        ]).actions
      ),
      ["Send auth PLAIN"]
    )
  })
})

describe("Negotiation errors", () => {
  const secureTcp = { ...tcp, tls: { tlsVersion: "TLSv1.3", bindings: [] } }

  it("maps stream errors with their text and the see-other-host target", () => {
    const last = (element: Element.Element) => drive(tcp, [serverHeader(), el(element)]).actions.at(-1)
    const redirect = last(streamError("see-other-host", { body: "other.example:5222" }))
    assert.strictEqual(redirect?._tag, "Failed")
    if (redirect?._tag === "Failed" && redirect.error._tag === "StreamError") {
      assert.strictEqual(redirect.error.reason, "see-other-host")
      assert.strictEqual(redirect.error.seeOtherHost, "other.example:5222")
    } else assert.fail("expected a StreamError")
    for (const condition of ["host-unknown", "policy-violation", "system-shutdown", "not-authorized", "reset"]) {
      const action = last(streamError(condition, { text: "because" }))
      if (action?._tag === "Failed" && action.error._tag === "StreamError") {
        assert.strictEqual(action.error.reason, condition)
        assert.strictEqual(action.error.text, "because")
      } else assert.fail(`expected a StreamError for ${condition}`)
    }
    const unknown = last(streamError("made-up"))
    assert.strictEqual(unknown?._tag === "Failed" ? unknown.error.reason : undefined, "undefined-condition")
  })

  it("maps every SASL failure condition with the server's text", () => {
    const conditions = [
      "aborted",
      "account-disabled",
      "credentials-expired",
      "encryption-required",
      "incorrect-encoding",
      "invalid-authzid",
      "invalid-mechanism",
      "malformed-request",
      "mechanism-too-weak",
      "not-authorized",
      "temporary-auth-failure"
    ]
    for (const condition of conditions) {
      const action = drive(secureTcp, [
        serverHeader(),
        el(features(mechanisms("PLAIN"))),
        el(saslFailure(condition, `text for ${condition}`))
      ]).actions.at(-1)
      if (action?._tag === "Failed" && action.error._tag === "SaslFailure") {
        assert.strictEqual(action.error.reason, condition)
        assert.strictEqual(action.error.text, `text for ${condition}`)
        assert.strictEqual(action.error.mechanism, "PLAIN")
      } else assert.fail(`expected a SaslFailure for ${condition}`)
    }
  })

  it("times out when the server sends no features, and when it stops answering", () => {
    const started = Negotiation.make({ ...tcp, featuresTimeout: 5000, responseTimeout: 2000 }, 1000)
    assert.strictEqual(Negotiation.nextDeadline(started.state), 6000)
    const early = Negotiation.step(started.state, Negotiation.tick, 5999)
    assert.strictEqual(early.state._tag, "AwaitingStreamHeader")
    const late = Negotiation.step(started.state, Negotiation.tick, 6000)
    assert.deepStrictEqual(summarize(late.actions), ["Failed NegotiationError features-timeout"])
    assert.isUndefined(Negotiation.nextDeadline(late.state))

    const waiting = drive({ ...secureTcp, responseTimeout: 2000 }, [serverHeader(), el(features(mechanisms("PLAIN")))])
    assert.strictEqual(waiting.state._tag, "AwaitingSaslResult")
    const deadline = Negotiation.nextDeadline(waiting.state) ?? Number.NaN
    assert.strictEqual(deadline, 2002)
    const timedOut = Negotiation.step(waiting.state, el(sasl("success")), deadline)
    assert.deepStrictEqual(summarize(timedOut.actions), ["Failed NegotiationError response-timeout"])
  })

  it("the stream closing mid-negotiation is a typed error, and a finished machine ignores input", () => {
    const { state, actions } = drive(tcp, [serverHeader(), XmlStreamEvent.streamClose])
    assert.strictEqual(summarize(actions).at(-1), "Failed NegotiationError stream-closed")
    assert.deepStrictEqual(Negotiation.step(state, serverHeader(), 5).actions, [])
  })
})

describe("Mechanism choice in negotiation", () => {
  const offered = (
    tls: Negotiation.Config["tls"],
    names: ReadonlyArray<string>,
    extra: ReadonlyArray<Element.Element> = [],
    config: Partial<Negotiation.Config> = {}
  ) => {
    const { actions } = drive({ ...tcp, tls, ...config }, [
      serverHeader(),
      el(features(mechanisms(...names), ...extra))
    ])
    const auth = actions[1]
    return { summary: summarize(actions).at(-1), payload: auth?._tag === "Send" ? payloadOf(auth) : "" }
  }
  const all = [
    "SCRAM-SHA-1",
    "SCRAM-SHA-1-PLUS",
    "SCRAM-SHA-256",
    "SCRAM-SHA-256-PLUS",
    "SCRAM-SHA-512",
    "SCRAM-SHA-512-PLUS",
    "PLAIN"
  ]

  it("takes the strongest: -PLUS with tls-exporter on TLS 1.3 when the server lists tls-exporter (XEP-0440)", () => {
    const result = offered(tls13(), all, [channelBindingTypes("tls-exporter", "tls-server-end-point")])
    assert.strictEqual(result.summary, "Send auth SCRAM-SHA-512-PLUS")
    assert.match(result.payload, /^p=tls-exporter,,n=user,r=/)
    const endPoint = offered(tls13(), all, [channelBindingTypes("tls-server-end-point")])
    assert.match(endPoint.payload, /^p=tls-server-end-point,,/)
  })

  it("on TLS 1.3 without a server list: the strongest non-PLUS with y, never a guessed binding type", () => {
    // ejabberd 23.01: -PLUS offered on TLS 1.3, no list, only tls-unique verified.
    const result = offered(tls13(), all)
    assert.strictEqual(result.summary, "Send auth SCRAM-SHA-512")
    assert.match(result.payload, /^y,,n=user,r=/)
  })

  it("on TLS 1.2: tls-unique without a server list or when listed, tls-server-end-point when it is the one listed", () => {
    assert.match(offered(tls12(), all).payload, /^p=tls-unique,,/)
    assert.match(offered(tls12(), all, [channelBindingTypes("tls-server-end-point", "tls-unique")]).payload, /^p=tls-unique,,/)
    assert.match(offered(tls12(), all, [channelBindingTypes("tls-server-end-point")]).payload, /^p=tls-server-end-point,,/)
  })

  it("says y when it could bind but the server offers no -PLUS", () => {
    const result = offered(tls13(), ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"], [channelBindingTypes("tls-exporter")])
    assert.strictEqual(result.summary, "Send auth SCRAM-SHA-256")
    assert.match(result.payload, /^y,,n=user/)
    assert.match(offered(tls12(), ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]).payload, /^y,,n=user/)
  })

  it("says n when the user's own list leaves out the -PLUS the server offers", () => {
    const result = offered(tls12(), all, [], { mechanisms: ["SCRAM-SHA-256"] })
    assert.strictEqual(result.summary, "Send auth SCRAM-SHA-256")
    assert.match(result.payload, /^n,,n=user/)
  })

  it("binds nothing when channel binding is turned off", () => {
    const result = offered(tls13(), all, [channelBindingTypes("tls-exporter")], { channelBinding: false })
    assert.strictEqual(result.summary, "Send auth SCRAM-SHA-512")
    assert.match(result.payload, /^n,,n=user/)
  })

  it("says n when there is no binding data", () => {
    assert.match(offered({ tlsVersion: "TLSv1.3", bindings: [] }, all).payload, /^n,,n=user/)
  })

  it("follows the user's list", () => {
    assert.strictEqual(
      offered(tls13(), all, [], { mechanisms: ["SCRAM-SHA-1", "PLAIN"] }).summary,
      "Send auth SCRAM-SHA-1"
    )
    assert.strictEqual(offered(tls13(), all, [], { mechanisms: ["PLAIN"] }).summary, "Send auth PLAIN")
    assert.strictEqual(
      offered(tls13(), ["PLAIN"], [], { mechanisms: ["SCRAM-SHA-256"] }).summary,
      "Failed NegotiationError no-acceptable-mechanism"
    )
  })

  it("PLAIN carries the authzid", () => {
    const result = offered(tls13(), ["PLAIN"], [], {
      credentials: { _tag: "Password", username: "user", password: "pencil", authzid: "admin@localhost" }
    })
    assert.strictEqual(result.payload, "admin@localhost\u0000user\u0000pencil")
  })

  it("ANONYMOUS without credentials, EXTERNAL with a certificate", () => {
    assert.strictEqual(
      offered(tls13(), [...all, "ANONYMOUS"], [], { credentials: { _tag: "Anonymous" } }).summary,
      "Send auth ANONYMOUS"
    )
    assert.strictEqual(offered(tls12(), [...all, "ANONYMOUS"]).summary, "Send auth SCRAM-SHA-512-PLUS")
    const external = offered(tls13(), [...all, "EXTERNAL"], [], {
      credentials: { _tag: "Certificate", authzid: "user@localhost" }
    })
    assert.strictEqual(external.summary, "Send auth EXTERNAL")
    assert.strictEqual(external.payload, "user@localhost")
  })
})
