/** Test helpers that read and write a `Connection` through its Effect socket. */
import type { Connection } from "@xmpp-core/client"
import { Effect } from "effect"
import * as Socket from "effect/socket/Socket"

/** Writes `text`, then reads until the received text contains `marker`; returns all of it. */
export const exchange = (connection: Connection.Connection, text: string | undefined, marker: string) =>
  Effect.scoped(
    Effect.gen(function*() {
      const pull = yield* Socket.readerBytes(connection.socket)
      const writer = yield* connection.socket.writer
      if (text !== undefined) yield* writer.write(text)
      let received = ""
      while (!received.includes(marker)) {
        const chunks = yield* pull
        for (const chunk of chunks) received += Buffer.from(chunk).toString("utf8")
      }
      return received
    })
  )
