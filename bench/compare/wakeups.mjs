// Timer callbacks run during a window, for the idle measure of every
// JavaScript client (worker.mjs), whatever created the timer.
//
// How: an async_hooks `before` hook, enabled only for the window. Node calls
// `before` around every callback of every timer (`setTimeout`,
// `setInterval`, `timeout.refresh()`, and the timers Node itself keeps for
// sockets, `socket.setTimeout`, and undici's coarse timer tick) and every
// `setImmediate` callback, with the `Timeout` / `Immediate` object as the
// execution resource (`executionAsyncResource()`), and around promise
// reactions (the resource is then the promise: not counted). Wrapping the
// global `setTimeout` instead would miss the timers Node's net and http code
// arm through its internal timers module, and any module that took
// `setTimeout` before the wrap.
//
// The count is of callbacks, so an upper bound on the loop's wake-ups for
// timers: callbacks due at the same millisecond run in one wake-up. The
// hook is off outside the window, so the other measures run without it.
import { createHook, executionAsyncResource } from "node:async_hooks"

/**
 * Starts counting; `stop()` returns `{ timeouts, immediates, byCallback }`
 * counted since, `byCallback` the timeouts per callback function name and
 * delay (Node's `_onTimeout` and `_idleTimeout` fields; "anonymous" when unnamed).
 * `ignore` is a timer of the caller's own (the window's end): not counted.
 */
export const countTimerCallbacks = (ignore) => {
  let timeouts = 0, immediates = 0
  const byCallback = {}
  const hook = createHook({
    before() {
      const resource = executionAsyncResource()
      if (resource === ignore || resource === null || typeof resource !== "object") return
      const name = resource.constructor?.name
      if (name === "Timeout") {
        timeouts++
        const callback = `${resource._onTimeout?.name || "anonymous"} (${resource._idleTimeout} ms)`
        byCallback[callback] = (byCallback[callback] ?? 0) + 1
      } else if (name === "Immediate") immediates++
    }
  }).enable()
  return {
    stop: () => {
      hook.disable()
      return { timeouts, immediates, byCallback }
    }
  }
}
