/**
 * The signal a BOSH HTTP layer gives when a request's bytes have been handed
 * to its connection: the driver sends request `n + 1` only after request
 * `n` was written, so requests reach the connection manager in `rid` order
 * because of how they are written, not because of a timer (ejabberd 23.01
 * stalls a session for good when a later `rid` overtakes an earlier one).
 *
 * A BOSH `HttpClient` (see `BoshHttpClients`) must call the callback found
 * here exactly once per request, as soon as it knows the request is
 * written: Node's undici layer when undici has written it to the socket,
 * the fetch layer when fetch was called (a browser tells no more). A layer
 * that never calls it leaves the next request waiting until this one ends.
 *
 * @since 0.1.0
 */
import { Context } from "effect"

/**
 * The callback for the request being executed, if its caller wants to know
 * when it is written.
 *
 * @since 0.1.0
 */
export const RequestWritten = Context.Reference<(() => void) | undefined>("@xmpp-core/client/http/RequestWritten", {
  defaultValue: () => undefined
})
