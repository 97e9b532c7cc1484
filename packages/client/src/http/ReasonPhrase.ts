/**
 * The HTTP reason phrase of a response ("OK" in "HTTP/1.1 200 OK").
 *
 * ejabberd (23.01) explains BOSH errors there, with status 200 (e.g.
 * "HTTP/1.1 200 Session ID mismatch" for an unknown `sid`, "HTTP/1.1 200
 * Missing 'to' attribute"), so a BOSH driver needs it. Effect's
 * `HttpClientResponse` has no field for it, so each BOSH HTTP layer makes it
 * readable in one of two ways, and {@link reasonPhrase} reads both:
 *
 * - fetch (`FetchBoshHttpClient`): the web `Response` behind the effect
 *   response carries `statusText`.
 * - undici (`NodeBoshHttpClient` in @xmpp-core/platform-node): undici sees
 *   the status line, but effect's undici response drops it; the layer's
 *   dispatcher copies it into the response header {@link header} (and
 *   removes any such header the server sent).
 *
 * HTTP/2 has no reason phrase: then, and when a server sends an empty one,
 * the result is `None`.
 *
 * @since 0.1.0
 */
import { Option } from "effect"
import * as HttpClientResponse from "effect/http/HttpClientResponse"

/**
 * The response header that carries the reason phrase on Node's undici layer.
 *
 * @since 0.1.0
 */
export const header = "x-xmpp-core-reason-phrase"

/**
 * The reason phrase of `response`, if the transport saw a non-empty one.
 *
 * @since 0.1.0
 */
export const reasonPhrase = (response: HttpClientResponse.HttpClientResponse): Option.Option<string> => {
  const web = HttpClientResponse.toWeb(response)
  if (Option.isSome(web)) {
    return web.value.statusText === "" ? Option.none() : Option.some(web.value.statusText)
  }
  const value = response.headers[header]
  return value === undefined || value === "" ? Option.none() : Option.some(value)
}
