/**
 * What the BOSH machine (`BoshSession.step`) asks its driver to do: HTTP
 * requests to post, payloads to hand out, and how the session went.
 *
 * @since 0.1.0
 */
import type * as Element from "../xml/Element.js"
import type { XmlError } from "../xml/XmlError.js"
import type { BoshError } from "./BoshError.js"
import type * as SessionParameters from "./SessionParameters.js"

/**
 * One HTTP POST to perform. `text` is the exact body; a resend of the same
 * `rid` carries the same text. `attributes` and `payloads` describe it for
 * whoever wants to look without parsing (tests, logs).
 *
 * @since 0.1.0
 */
export interface Request {
  readonly _tag: "Request"
  readonly rid: number
  readonly attempt: number
  readonly text: string
  readonly attributes: Readonly<Record<string, string>>
  readonly payloads: ReadonlyArray<Element.Element>
}

/**
 * @since 0.1.0
 */
export type Action =
  | Request
  | { readonly _tag: "Deliver"; readonly rid: number; readonly payloads: ReadonlyArray<Element.Element> }
  | { readonly _tag: "SessionEstablished"; readonly parameters: SessionParameters.SessionParameters }
  | {
    readonly _tag: "Rejected"
    readonly request: "Send" | "Restart" | "Pause" | "Close"
    readonly message: string
    readonly stanzas: ReadonlyArray<Element.Element>
    readonly error?: XmlError | undefined
  }
  /**
   * The manager has received the first `upTo` payloads the machine accepted
   * (counted over `Send` and `Close`, in order; see `Acknowledgements`).
   */
  | { readonly _tag: "Acknowledged"; readonly upTo: number }
  | { readonly _tag: "Closed" }
  /** The session ended with `error`; `unacknowledged` are the payloads the manager may not have, oldest first. */
  | { readonly _tag: "Terminated"; readonly error: BoshError; readonly unacknowledged: ReadonlyArray<Element.Element> }
