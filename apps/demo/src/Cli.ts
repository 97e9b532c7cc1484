/**
 * The commands: the tour (no subcommand), `connect`, `send` and `echo`.
 * Each handler decodes its flags into an `XmppClientConfig`, logs in and
 * prints; the protocol lives in the client packages.
 *
 * @since 0.1.0
 */
import type { Connector, SaslCrypto, ServerLookup, TlsUpgrade, XmppClient } from "@xmpp-core/client"
import { type Element, Jid, XmlSerializer } from "@xmpp-core/protocol"
import { Duration, Effect, Option, Result, Stream } from "effect"
import { Command, Flag } from "effect/cli"
import * as Output from "./Console.js"
import { DemoError } from "./DemoError.js"
import * as ExitCode from "./ExitCode.js"
import * as Flags from "./Flags.js"
import * as Password from "./Password.js"
import * as Session from "./Session.js"
import * as Stanza from "./Stanza.js"
import * as Tour from "./Tour.js"

const forSeconds = Flag.Int("for").pipe(
  Flag.withDescription("stay online this many seconds, then close (default: until Ctrl-C)"),
  Flag.filter((seconds) => seconds >= 1, (seconds) => `--for must be at least 1 second, got ${seconds}`),
  Flag.optional
)

// Flags → config (with the password), then a logged-in session in the scope.
const loginWith = (flags: Flags.ConnectionFlags) =>
  Effect.gen(function*() {
    const password = Flags.needsPassword(flags) ? yield* Password.read(flags.passwordEnv, flags.jid) : undefined
    const config = yield* Flags.toConfig(flags, password)
    return yield* Session.login(config, { label: flags.jid, debug: flags.debug })
  })

// Runs `effect` until it ends, or for `seconds` when given.
const forAtMost = <A, E, R>(seconds: Option.Option<number>, effect: Effect.Effect<A, E, R>) =>
  Option.isSome(seconds) ? Effect.asVoid(Effect.timeoutOption(effect, Duration.seconds(seconds.value))) : Effect.asVoid(effect)

const announce = (client: XmppClient.XmppClient["Service"]) =>
  Output.result(`bound ${Jid.format(client.jid)} with ${client.mechanism}`)

// Logged in and available until --for ends (or Ctrl-C), each incoming stanza
// handed to `onStanza`; then a clean close.
const stayOnline = <E>(
  flags: Flags.ConnectionFlags & { readonly for: Option.Option<number> },
  onStanza: (client: XmppClient.XmppClient["Service"], stanza: Element.Element) => Effect.Effect<void, E>
) =>
  Effect.gen(function*() {
    const { client } = yield* loginWith(flags)
    yield* announce(client)
    // What happens to the connection, as progress on stderr (reconnects, resumptions, stanzas handed back).
    yield* Effect.forkScoped(Stream.runForEach(client.events, (event) => Output.progress(`${flags.jid} ${Session.describeEvent(event)}`)))
    yield* client.send(Stanza.presence)
    yield* forAtMost(flags.for, Stream.runForEach(client.stanzas, (stanza) => onStanza(client, stanza)))
    yield* client.close
  }).pipe(Effect.scoped)

const connect = Command.make(
  "connect",
  { ...Flags.connection, for: forSeconds },
  (flags) => stayOnline(flags, (_client, stanza) => Output.result(XmlSerializer.toXml(stanza)))
).pipe(Command.withDescription("Log in, print the bound JID and mechanism, then print incoming stanzas until Ctrl-C or --for"))

const send = Command.make(
  "send",
  {
    ...Flags.connection,
    to: Flag.String("to").pipe(Flag.withDescription("recipient JID")),
    body: Flag.String("body").pipe(Flag.withDescription("message text"))
  },
  (flags) =>
    Effect.gen(function*() {
      const to = Jid.parse(flags.to)
      if (Result.isFailure(to)) {
        return yield* new DemoError({ reason: "InvalidFlags", message: `--to: ${to.failure.message}` })
      }
      const { client } = yield* loginWith(flags)
      yield* announce(client)
      yield* client.send(Stanza.chat({ to: to.success, body: flags.body }))
      // A confirmed close means the server read the message.
      yield* client.close
      yield* Output.result(`sent to ${Jid.format(to.success)}`)
    }).pipe(Effect.scoped)
).pipe(Command.withDescription("Log in, send one chat message, close cleanly"))

const echo = Command.make(
  "echo",
  { ...Flags.connection, for: forSeconds },
  (flags) =>
    stayOnline(flags, (client, stanza) => {
      const from = stanza.attributes["from"]
      const text = Stanza.body(stanza)
      const sender = from === undefined ? undefined : Jid.parse(from)
      if (stanza.name !== "message" || stanza.attributes["type"] !== "chat" || text === undefined) return Effect.void
      if (sender === undefined || Result.isFailure(sender)) return Effect.void
      return client.send(Stanza.chat({ to: sender.success, body: text })).pipe(
        Effect.andThen(Output.result(`echoed to ${from}: ${text}`))
      )
    })
).pipe(Command.withDescription("An echo bot: answers each chat message with the same body, until Ctrl-C or --for"))

/**
 * What the commands need from the platform: the client's ports.
 *
 * @since 0.1.0
 */
export type Requirements = Connector.Connector | TlsUpgrade.TlsUpgrade | ServerLookup.ServerLookup | SaslCrypto.SaslCrypto

/**
 * The root command: without a subcommand it runs the tour.
 *
 * @since 0.1.0
 */
export const demo = Command.make(
  "demo",
  {
    servers: Flag.Boolean("servers").pipe(
      Flag.withDescription("start the local test servers first (--no-servers: they already run)"),
      Flag.withDefault(true)
    ),
    debug: Flag.Boolean("debug").pipe(Flag.withDescription("XML console on stderr (SASL secrets redacted)"), Flag.withDefault(false))
  },
  (flags) => Tour.run({ startServers: flags.servers, debug: flags.debug })
).pipe(
  Command.withDescription(
    [
      "XMPP connection core demo. Without a subcommand: a tour against the local test servers",
      "(Prosody and ejabberd): alice and bob log in, alice sends bob messages, bob must get each",
      "exactly once and in order. The password of connect/send/echo comes from $XMPP_PASSWORD",
      "(--password-env VAR) or a terminal prompt, never from a flag.",
      "",
      ExitCode.table
    ].join("\n")
  ),
  Command.withSubcommands([connect, send, echo])
)
