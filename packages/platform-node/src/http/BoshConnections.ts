/**
 * One BOSH session's connections to its connection manager: up to
 * `connections` undici `Client`s (one connection each) for one origin, and
 * the few requests that wait while every one of them is busy.
 *
 * What undici's `Pool` does for this, without its request queue: a `Pool`
 * allocates a `FixedQueue` of 2,048 slots (16 KiB) when it is made, and a
 * BOSH session, which never has more than `hold + 1` requests out, had one
 * for each session: measured at 16 KiB of the ~100 KiB of JavaScript heap an
 * idle session holds (bench/compare/heap.mjs). Here a request waits in a
 * plain array, empty nearly always.
 *
 * A request goes to the first client that is not busy (its `dispatch`
 * returned `true`, or it emitted `drain` since), else to a new client while
 * there are fewer than `connections`, else it waits, in order, for the next
 * client's `drain`. A request that is interrupted while it waits is ended
 * by its handler when it starts (`BoshUndiciClient` aborts it at
 * `onRequestStart`).
 *
 * @since 0.1.0
 */
import * as Undici from "@effect/platform-node/Undici"
import { EventEmitter } from "node:events"

/**
 * @since 0.1.0
 */
export interface Options extends Undici.Client.Options {
  /** Most connections (clients) at once; at least 1. */
  readonly connections: number
}

interface Waiting {
  readonly options: Undici.Dispatcher.DispatchOptions
  readonly handler: Undici.Dispatcher.DispatchHandler
}

/**
 * @since 0.1.0
 */
export class BoshConnections extends Undici.Dispatcher {
  readonly origin: string | URL
  readonly clientOptions: Undici.Client.Options
  readonly connections: number
  readonly clients: Array<Undici.Client> = []
  readonly busy = new Set<Undici.Client>()
  waiting: Array<Waiting> = []
  closing = false
  destroyed = false
  constructor(origin: string | URL, options: Options) {
    super()
    const { connections, ...clientOptions } = options
    this.origin = origin
    this.clientOptions = clientOptions
    this.connections = Math.max(1, connections)
  }

  override dispatch(options: Undici.Dispatcher.DispatchOptions, handler: Undici.Dispatcher.DispatchHandler): boolean {
    if (this.destroyed || this.closing) {
      const error = this.destroyed ? new Undici.errors.ClientDestroyedError() : new Undici.errors.ClientClosedError()
      queueMicrotask(() => handler.onResponseError?.(abortedController(), error))
      return false
    }
    const client = this.freeClient()
    if (client === undefined) {
      this.waiting.push({ options, handler })
      this.needDrain = true
      return false
    }
    this.send(client, options, handler)
    // As undici's dispatchers: `false` asks the caller to wait for `drain` before the next request.
    this.needDrain = this.freeClient(false) === undefined && this.clients.length >= this.connections
    return !this.needDrain
  }

  /** The last `dispatch` returned `false` and no `drain` was emitted since. */
  needDrain = false

  /** A client that takes a request now: an idle one, else a new one while under the limit. */
  freeClient(create = true): Undici.Client | undefined {
    for (const client of this.clients) if (!this.busy.has(client)) return client
    if (!create || this.clients.length >= this.connections) return undefined
    const client = new Undici.Client(this.origin, this.clientOptions)
    client.on("drain", () => this.drained(client))
    this.clients.push(client)
    return client
  }

  send(client: Undici.Client, options: Undici.Dispatcher.DispatchOptions, handler: Undici.Dispatcher.DispatchHandler): void {
    if (!client.dispatch(options, handler)) this.busy.add(client)
  }

  /** `client` takes requests again: the waiting ones go to it first. */
  drained(client: Undici.Client): void {
    this.busy.delete(client)
    while (!this.busy.has(client) && !this.destroyed) {
      const next = this.waiting.shift()
      if (next === undefined) break
      this.send(client, next.options, next.handler)
    }
    if (this.waiting.length > 0) return
    this.emptied?.()
    if (this.needDrain && !this.busy.has(client)) {
      this.needDrain = false
      // With its targets, as undici's dispatchers emit it (an `Agent` above spreads them).
      EventEmitter.prototype.emit.call(this, "drain", typeof this.origin === "string" ? new URL(this.origin) : this.origin, [this])
    }
  }

  /** Set while `close` waits for the waiting requests to go to a client. */
  emptied: (() => void) | undefined

  /** Waits for the waiting and running requests, then closes every connection. */
  override close(): Promise<void>
  override close(callback: () => void): void
  override close(callback?: () => void): Promise<void> | void {
    this.closing = true
    const empty = this.waiting.length === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.emptied = resolve))
    const closed = empty.then(() => Promise.all(this.clients.map((client) => client.close()))).then(() => undefined)
    if (callback === undefined) return closed
    void closed.then(callback)
  }

  /** Fails the waiting requests with `error` and destroys every connection. */
  override destroy(): Promise<void>
  override destroy(error: Error | null): Promise<void>
  override destroy(callback: () => void): void
  override destroy(error: Error | null, callback: () => void): void
  override destroy(first?: Error | null | (() => void), second?: () => void): Promise<void> | void {
    const error = typeof first === "function" || first === undefined || first === null
      ? new Undici.errors.ClientDestroyedError()
      : first
    const callback = typeof first === "function" ? first : second
    this.destroyed = true
    const waiting = this.waiting
    this.waiting = []
    for (const { handler } of waiting) handler.onResponseError?.(abortedController(), error)
    this.emptied?.()
    const destroyed = Promise.all(this.clients.map((client) => client.destroy(error))).then(() => undefined)
    if (callback === undefined) return destroyed
    void destroyed.then(callback)
  }
}

/** The controller handed with the error of a request that never started. */
const abortedController = (): Undici.Dispatcher.DispatchController => ({
  aborted: true,
  paused: false,
  reason: null,
  abort: () => undefined,
  pause: () => undefined,
  resume: () => undefined
})
