/**
 * The local test servers as `.state/servers.json` describes them (written by
 * scripts/servers.sh), with what the client tests need. Missing file: a clear
 * failure, never a skip, because `./run test` starts the servers first.
 */
import { XmppClientConfig } from "@xmpp-core/client"
import { Schema } from "effect"
import { readFileSync } from "node:fs"
import * as TestServers from "../support/TestServers.js"

export type Servers = TestServers.TestServers
export type ServerName = "prosody" | "ejabberd"

export const servers = TestServers.testServers

/**
 * SASL EXTERNAL on a server: the account its test certificate names (on the
 * server's certificate domain), and `credentials` Certificate from its files.
 */
export const certificateLogin = (s: Servers, server: ServerName) => {
  const account = `alice@${s[server].certificateDomain}`
  const files = account === "alice@localhost" ? s.clientCertificates["alice@localhost"] : s.clientCertificates["alice@cert.localhost"]
  return {
    account,
    credentials: {
      _tag: "Certificate",
      certificate: readFileSync(files.cert, "utf8"),
      key: readFileSync(files.key, "utf8")
    }
  } as const
}

/** The account part of a configuration, shared by every transport; absent overrides stay absent. */
const accountFields = (
  s: Servers,
  account: "alice" | "bob",
  overrides: {
    readonly jid?: string
    readonly credentials?: unknown
    readonly password?: string
    readonly resource?: string
    readonly mechanisms?: ReadonlyArray<string>
    readonly channelBinding?: boolean
    readonly allowPlaintext?: boolean
    readonly allowPlainWithoutTls?: boolean
  }
) => ({
  jid: overrides.jid ?? `${account}@${s.domain}`,
  ...(overrides.credentials === undefined
    ? { password: overrides.password ?? s.accounts[account] }
    : { credentials: overrides.credentials }),
  ca: readFileSync(s.ca, "utf8"),
  ...(overrides.resource === undefined ? {} : { resource: overrides.resource }),
  ...(overrides.mechanisms === undefined ? {} : { mechanisms: overrides.mechanisms }),
  ...(overrides.channelBinding === undefined ? {} : { channelBinding: overrides.channelBinding }),
  ...(overrides.allowPlaintext === undefined ? {} : { allowPlaintext: overrides.allowPlaintext }),
  ...(overrides.allowPlainWithoutTls === undefined ? {} : { allowPlainWithoutTls: overrides.allowPlainWithoutTls })
})

/** A client configuration for an account on a server, decoded like an app would. */
export const config = (
  s: Servers,
  server: ServerName,
  account: "alice" | "bob",
  overrides: {
    readonly jid?: string
    readonly credentials?: unknown
    readonly directTls?: boolean
    readonly password?: string
    readonly resource?: string
    readonly mechanisms?: ReadonlyArray<string>
    readonly channelBinding?: boolean
    readonly proxies?: ReadonlyArray<unknown>
    readonly maxTlsVersion?: "TLSv1.2" | "TLSv1.3"
  } = {}
): XmppClientConfig.XmppClientConfig =>
  Schema.decodeUnknownSync(XmppClientConfig.XmppClientConfig)({
    ...accountFields(s, account, overrides),
    transport: {
      _tag: "tcp",
      host: "127.0.0.1",
      port: overrides.directTls === true ? s[server].c2sDirectTls : s[server].c2s,
      directTls: overrides.directTls === true,
      ...(overrides.maxTlsVersion === undefined ? {} : { maxTlsVersion: overrides.maxTlsVersion }),
      ...(overrides.proxies === undefined ? {} : { proxies: overrides.proxies })
    }
  })

/** The connection manager URL of a server: `https://localhost:…` or `http://127.0.0.1:…`. */
export const boshUrl = (s: Servers, server: ServerName, scheme: "http" | "https") =>
  scheme === "https"
    ? `https://${s.domain}:${s[server].https}${s[server].boshPath}`
    : `http://127.0.0.1:${s[server].http}${s[server].boshPath}`

/** A BOSH client configuration for an account on a server, decoded like an app would. */
export const boshConfig = (
  s: Servers,
  server: ServerName,
  account: "alice" | "bob",
  scheme: "http" | "https",
  overrides: {
    readonly jid?: string
    readonly credentials?: unknown
    readonly password?: string
    readonly resource?: string
    readonly mechanisms?: ReadonlyArray<string>
    readonly allowPlaintext?: boolean
    readonly allowPlainWithoutTls?: boolean
    readonly mode?: "close" | "keep-alive" | "pipelining"
    readonly proxies?: ReadonlyArray<unknown>
    readonly url?: string
    readonly closeTimeout?: number
    readonly wait?: number
    readonly hold?: number
    readonly requestTimeout?: number
    readonly streamManagement?: Record<string, unknown>
  } = {}
): XmppClientConfig.XmppClientConfig =>
  Schema.decodeUnknownSync(XmppClientConfig.XmppClientConfig)({
    ...accountFields(s, account, overrides),
    transport: {
      _tag: "bosh",
      url: overrides.url ?? boshUrl(s, server, scheme),
      ...(overrides.mode === undefined ? {} : { mode: overrides.mode }),
      ...(overrides.proxies === undefined ? {} : { proxies: overrides.proxies }),
      ...(overrides.closeTimeout === undefined ? {} : { closeTimeout: overrides.closeTimeout }),
      ...(overrides.wait === undefined ? {} : { wait: overrides.wait }),
      ...(overrides.hold === undefined ? {} : { hold: overrides.hold }),
      ...(overrides.requestTimeout === undefined ? {} : { requestTimeout: overrides.requestTimeout })
    },
    ...(overrides.streamManagement === undefined ? {} : { streamManagement: overrides.streamManagement })
  })
