/**
 * A request the BOSH session sent and keeps until its response is
 * processed: its exact text (a resend carries the same bytes), and where its
 * exchanges stand.
 *
 * @since 0.1.0
 */
import type * as Element from "../xml/Element.js"

/**
 * What a request is for.
 *
 * @since 0.1.0
 */
export type RequestKind = "create" | "payloads" | "empty" | "restart" | "pause" | "terminate"

/**
 * @since 0.1.0
 */
export interface Outgoing {
  readonly rid: number
  readonly kind: RequestKind
  readonly text: string
  readonly attributes: Readonly<Record<string, string>>
  readonly payloads: ReadonlyArray<Element.Element>
  attempts: number
  /** "sent": an exchange is under way; "retry": waiting for `deadline` to send again. */
  status: "sent" | "retry"
  deadline: number
  lastSentAt: number
  /** Session creation: when to give up, over every attempt (Infinity for the others). */
  readonly giveUpAt: number
}

/**
 * A copy whose changeable fields (attempts, status, deadline) are its own.
 *
 * @since 0.1.0
 */
export const copy = (request: Outgoing): Outgoing => ({
  rid: request.rid,
  kind: request.kind,
  text: request.text,
  attributes: request.attributes,
  payloads: request.payloads,
  attempts: request.attempts,
  status: request.status,
  deadline: request.deadline,
  lastSentAt: request.lastSentAt,
  giveUpAt: request.giveUpAt
})

/**
 * Requests no manager holds: their answer comes at once, so they get the
 * short `requestTimeoutMs`.
 *
 * @since 0.1.0
 */
export const answeredAtOnce = (kind: RequestKind): boolean => kind === "create" || kind === "restart" || kind === "terminate"

/**
 * How a request is named in error messages.
 *
 * @since 0.1.0
 */
export const name: Readonly<Record<RequestKind, string>> = {
  create: "the session creation request",
  restart: "the restart request",
  terminate: "the terminate request",
  payloads: "request",
  empty: "request",
  pause: "the pause request"
}
