/**
 * What the driver tells the BOSH machine (`BoshSession.step`): the caller's
 * requests, the outcome of each HTTP exchange, and `Tick` when the machine's
 * next deadline came.
 *
 * @since 0.1.0
 */
import type * as Element from "../xml/Element.js"
import type { XmlError } from "../xml/XmlError.js"

/**
 * @since 0.1.0
 */
export type Event =
  | { readonly _tag: "Send"; readonly stanzas: ReadonlyArray<Element.Element> }
  | { readonly _tag: "Restart" }
  | { readonly _tag: "Pause"; readonly seconds: number }
  | { readonly _tag: "Resume" }
  | { readonly _tag: "Close"; readonly stanzas: ReadonlyArray<Element.Element> }
  /**
   * The caller waits for payloads and holds none: the machine keeps `hold`
   * empty requests at the manager until payloads are delivered.
   */
  | { readonly _tag: "Receive" }
  /**
   * The caller waits for the manager to acknowledge the first `upTo`
   * payloads accepted (see `Acknowledgements`): a request carrying them is
   * not left held at the manager; an empty request after it makes the
   * manager answer it (§9), as the polling rules allow.
   */
  | { readonly _tag: "AwaitAcknowledgement"; readonly upTo: number }
  | {
    readonly _tag: "HttpResponse"
    readonly rid: number
    readonly status: number
    readonly reasonPhrase?: string | undefined
    /** The parsed `<body/>`; undefined when the HTTP body was empty or unparsable. */
    readonly body: Element.Element | undefined
    /** Why the HTTP body could not be parsed, when it could not (not for an empty body). */
    readonly bodyError?: XmlError | undefined
    /** The `attempt` of the `Request` this answers, when the driver knows it. */
    readonly attempt?: number | undefined
  }
  | {
    readonly _tag: "HttpFailed"
    readonly rid: number
    /** What went wrong, in words (for the error message). */
    readonly reason: string
    /**
     * Whether sending the same request again can succeed (a reset or timed-out
     * exchange); false for what cannot recover by itself (an untrusted
     * certificate, a name that does not resolve, refused proxy credentials):
     * the session then ends at once. Default true.
     */
    readonly recoverable?: boolean | undefined
    /** The driver's typed failure, kept as the `cause` of the `BoshError` that ends the session. */
    readonly cause?: unknown
    readonly attempt?: number | undefined
  }
  | { readonly _tag: "Tick" }

/**
 * Event constructors.
 *
 * @since 0.1.0
 */
export const Event = {
  send: (stanzas: ReadonlyArray<Element.Element>): Event => ({ _tag: "Send", stanzas }),
  restart: (): Event => ({ _tag: "Restart" }),
  pause: (seconds: number): Event => ({ _tag: "Pause", seconds }),
  resume: (): Event => ({ _tag: "Resume" }),
  close: (stanzas: ReadonlyArray<Element.Element> = []): Event => ({ _tag: "Close", stanzas }),
  receive: (): Event => ({ _tag: "Receive" }),
  awaitAcknowledgement: (upTo: number): Event => ({ _tag: "AwaitAcknowledgement", upTo }),
  tick: (): Event => ({ _tag: "Tick" })
} as const
