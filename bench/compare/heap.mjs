// What a heap holds per idle session: two V8 heap snapshots (written by
// `idle.mjs --heap-snapshot`, one with 0 sessions, one with N), grouped by
// constructor (node type and name), the difference per session:
//
//   node bench/compare/heap.mjs base.heapsnapshot with.heapsnapshot N [top]
//
// Prints (1) the self size and count per constructor, N sessions minus none,
// per session; (2) in the N-session snapshot, the retained size (dominator
// tree, weak edges ignored, as DevTools computes it) summed per constructor,
// per session, for the constructors with at least N instances more than in
// the base: what one instance of each keeps alive on its own.
import { readFileSync } from "node:fs"

const [basePath, withPath, nText, topText] = process.argv.slice(2)
const sessions = Number(nText)
const top = Number(topText ?? 40)
if (basePath === undefined || withPath === undefined || !(sessions > 0)) {
  console.error("usage: node bench/compare/heap.mjs base.heapsnapshot with.heapsnapshot sessions [top]")
  process.exit(2)
}

/** The nodes and edges of a snapshot as flat arrays, with each node's first edge. */
const load = (path) => {
  const json = JSON.parse(readFileSync(path, "utf8"))
  const meta = json.snapshot.meta
  const nf = meta.node_fields.length, ef = meta.edge_fields.length
  const nodeTypes = meta.node_types[0], edgeTypes = meta.edge_types[0]
  const at = (fields, name) => fields.indexOf(name)
  const n = json.nodes.length / nf
  const firstEdge = new Uint32Array(n + 1)
  for (let i = 0, e = 0; i < n; i++) {
    firstEdge[i] = e
    e += json.nodes[i * nf + at(meta.node_fields, "edge_count")] * ef
  }
  firstEdge[n] = json.edges.length
  return {
    json, nf, ef, n, firstEdge, strings: json.strings,
    type: (i) => nodeTypes[json.nodes[i * nf + at(meta.node_fields, "type")]],
    name: (i) => json.strings[json.nodes[i * nf + at(meta.node_fields, "name")]],
    selfSize: (i) => json.nodes[i * nf + at(meta.node_fields, "self_size")],
    edgeType: (e) => edgeTypes[json.edges[e + at(meta.edge_fields, "type")]],
    edgeTo: (e) => json.edges[e + at(meta.edge_fields, "to_node")] / nf
  }
}

/** A node's group: objects by constructor, closures by function name, the rest by type. */
const groupOf = (s, i) => {
  const type = s.type(i)
  const name = s.name(i)
  switch (type) {
    case "object":
    case "native":
      return `${type} ${name.length > 60 ? `${name.slice(0, 60)}…` : name}`
    case "closure":
      return `closure ${name || "(anonymous)"}`
    default:
      return `(${type})`
  }
}

const aggregate = (s) => {
  const groups = new Map()
  for (let i = 0; i < s.n; i++) {
    const key = groupOf(s, i)
    const g = groups.get(key) ?? { count: 0, self: 0 }
    g.count++
    g.self += s.selfSize(i)
    groups.set(key, g)
  }
  return groups
}

/** Immediate dominators (Cooper, Harvey, Kennedy), from the root node 0, weak edges ignored. */
const dominators = (s) => {
  const order = new Int32Array(s.n).fill(-1) // post-order index
  const post = new Uint32Array(s.n)
  let count = 0
  const stack = [0], next = [s.firstEdge[0]]
  order[0] = -2
  while (stack.length > 0) {
    const top = stack.length - 1
    const node = stack[top]
    let e = next[top]
    let pushed = false
    for (; e < s.firstEdge[node + 1]; e += s.ef) {
      if (s.edgeType(e) === "weak") continue
      const to = s.edgeTo(e)
      if (order[to] !== -1) continue
      order[to] = -2
      next[top] = e + s.ef
      stack.push(to)
      next.push(s.firstEdge[to])
      pushed = true
      break
    }
    if (!pushed) {
      stack.pop()
      next.pop()
      order[node] = count
      post[count++] = node
    }
  }
  // predecessors of reachable nodes
  const predCount = new Uint32Array(s.n + 1)
  for (let i = 0; i < s.n; i++) {
    if (order[i] < 0) continue
    for (let e = s.firstEdge[i]; e < s.firstEdge[i + 1]; e += s.ef) {
      if (s.edgeType(e) !== "weak") predCount[s.edgeTo(e) + 1]++
    }
  }
  for (let i = 0; i < s.n; i++) predCount[i + 1] += predCount[i]
  const preds = new Uint32Array(predCount[s.n])
  const fill = predCount.slice(0, s.n)
  for (let i = 0; i < s.n; i++) {
    if (order[i] < 0) continue
    for (let e = s.firstEdge[i]; e < s.firstEdge[i + 1]; e += s.ef) {
      if (s.edgeType(e) !== "weak") preds[fill[s.edgeTo(e)]++] = i
    }
  }
  const idom = new Int32Array(s.n).fill(-1)
  idom[0] = 0
  const intersect = (a, b) => {
    while (a !== b) {
      while (order[a] < order[b]) a = idom[a]
      while (order[b] < order[a]) b = idom[b]
    }
    return a
  }
  for (let changed = true; changed;) {
    changed = false
    for (let k = count - 1; k >= 0; k--) {
      const node = post[k]
      if (node === 0) continue
      let dom = -1
      for (let p = predCount[node]; p < predCount[node + 1]; p++) {
        const pred = preds[p]
        if (order[pred] < 0 || idom[pred] === -1) continue
        dom = dom === -1 ? pred : intersect(pred, dom)
      }
      if (dom !== -1 && idom[node] !== dom) {
        idom[node] = dom
        changed = true
      }
    }
  }
  const retained = new Float64Array(s.n)
  for (let k = 0; k < count; k++) retained[post[k]] += s.selfSize(post[k])
  for (let k = 0; k < count; k++) {
    const node = post[k]
    if (node !== 0 && idom[node] >= 0) retained[idom[node]] += retained[node]
  }
  return { retained, reachable: count }
}

const kib = (bytes) => (bytes / 1024).toFixed(2).padStart(8)
const base = aggregate(load(basePath))
const withSnapshot = load(withPath)
const withGroups = aggregate(withSnapshot)
const rows = [...withGroups].map(([key, g]) => {
  const b = base.get(key) ?? { count: 0, self: 0 }
  return { key, count: (g.count - b.count) / sessions, self: (g.self - b.self) / sessions }
})
const total = rows.reduce((sum, r) => sum + r.self, 0)
console.log(`self size per session: ${kib(total)} KiB in all (all groups, N minus none, / ${sessions})\n`)
console.log("   KiB/session  count/session  group")
for (const r of rows.sort((a, b) => b.self - a.self).slice(0, top)) {
  console.log(`${kib(r.self)}    ${r.count.toFixed(2).padStart(10)}     ${r.key}`)
}

const { retained } = dominators(withSnapshot)
const byGroup = new Map()
for (let i = 0; i < withSnapshot.n; i++) {
  const key = groupOf(withSnapshot, i)
  byGroup.set(key, (byGroup.get(key) ?? 0) + retained[i])
}
console.log(`\nretained size per session of the constructors with ≥ 1 more instance per session (N snapshot, / ${sessions})\n`)
console.log("   KiB/session  count/session  group")
for (const r of rows.filter((r) => r.count >= 1 && r.key.startsWith("object ")).map((r) => ({ ...r, retained: byGroup.get(r.key) / sessions }))
  .sort((a, b) => b.retained - a.retained).slice(0, top)) {
  console.log(`${kib(r.retained)}    ${r.count.toFixed(2).padStart(10)}     ${r.key}`)
}
