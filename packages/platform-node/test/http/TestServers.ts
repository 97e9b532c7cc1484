// Reads `.state/servers.json`, written by `./run servers up` (see the servers
// contract). No skipping: `./run test` starts the servers first, so a missing
// file is a failure with a message that says what to do.
import { Schema } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const Manager = Schema.Struct({ http: Schema.Number, https: Schema.Number, boshPath: Schema.String })

const Servers = Schema.Struct({
  ca: Schema.String,
  domain: Schema.String,
  prosody: Manager,
  ejabberd: Manager,
  tinyproxy: Schema.Struct({ open: Schema.Number, auth: Schema.Number, user: Schema.String, password: Schema.String }),
  untrusted: Schema.Struct({ https: Schema.Number })
})

export type Servers = typeof Servers.Type

export const statePath = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", ".state", "servers.json")

export const load = (): Servers & { readonly caPem: string } => {
  if (!existsSync(statePath)) {
    throw new Error(`${statePath} is missing: start the local test servers with \`./run servers up\``)
  }
  const servers = Schema.decodeUnknownSync(Servers)(JSON.parse(readFileSync(statePath, "utf8")))
  return { ...servers, caPem: readFileSync(servers.ca, "utf8") }
}
