/**
 * Online log template mining, Drain-style (He et al., ICWS 2017): a fixed-depth parse tree routes
 * each masked message by its token count, then by its first `depth - 3` tokens, to a leaf holding
 * a few template clusters; the message joins the most similar cluster (share of equal tokens at
 * least `sim_threshold`), whose template then turns differing tokens into `<*>`, or starts a new
 * cluster. Our own implementation: the whole state is plain JSON (no Maps, no classes), so a
 * detector can keep it in its checkpointed state and a restored miner continues exactly.
 *
 * Tree keys are prefixed with `|` so that tokens such as `__proto__` or `constructor` are ordinary
 * keys. When `max_clusters` is reached the least recently matched cluster is forgotten (its id is
 * never reused).
 *
 * Speed: beside the JSON state, never in it, each miner keeps a derived index (in a WeakMap): token
 * texts interned to integer ids (`lexicon.ts`, one lexicon for all miners), templates as
 * Int32Arrays, and a cache of tree routes by (token count, routing token ids). Results and the
 * JSON state are exactly those of the string implementation this replaced (`reference/miner_v1.ts`,
 * checked by `miner.differential.test.ts`); the state format is unchanged (v 1). The index is
 * rebuilt from the JSON state when it cannot be trusted (a restored state, a state changed other
 * than through `mine`), so change the state only through this module.
 *
 * @example
 * const p = { sim_threshold: 0.4, depth: 4, max_children: 100, max_clusters: 1000 };
 * const m = initMiner();
 * mine(p, m, 'Failed password for bob from 10.0.0.7 port 40122 ssh2'); // { id: 1, change: 'created', ... }
 * templateText(m, 1); // 'Failed password for bob from <IP> port <NUM> ssh2'
 */
import { Type, type Static } from '@sinclair/typebox';
import { Lexicon, WILD_ID } from './lexicon.ts';
import { maskTokens } from './mask.ts';

/** Miner parameters, shared by every log detector (spread into their param schemas). */
export const minerParamFields = {
  sim_threshold: Type.Number({
    minimum: 0,
    maximum: 1,
    default: 0.4,
    description:
      'Share of equal tokens (0..1) a message needs with a template to join it; below it a new template starts.',
  }),
  depth: Type.Integer({
    minimum: 3,
    maximum: 16,
    default: 4,
    description:
      'Depth of the parse tree as in drain3: messages are routed by token count, then by their first depth - 3 tokens.',
  }),
  max_children: Type.Integer({
    minimum: 2,
    maximum: 10_000,
    default: 100,
    description: 'Children per tree node; beyond it further distinct tokens share a wildcard branch (bounds memory).',
  }),
  max_clusters: Type.Integer({
    minimum: 1,
    maximum: 1_000_000,
    default: 2000,
    description: 'Templates kept per miner; beyond it the least recently matched one is forgotten (bounds memory).',
  }),
};
export const MinerParams = Type.Object(minerParamFields, { additionalProperties: false });
export type MinerParams = Static<typeof MinerParams>;

export const DEFAULT_MINER_PARAMS: MinerParams = {
  sim_threshold: 0.4,
  depth: 4,
  max_children: 100,
  max_clusters: 2000,
};

export const WILDCARD = '<*>';

/** A tree node: children by `|token`, and at a leaf the ids of its clusters. */
export interface TreeNode {
  c: Record<string, TreeNode>;
  ids?: number[];
}

export interface Cluster {
  /** Template tokens; `<*>` where messages differed. */
  t: string[];
  /** Messages matched. */
  n: number;
  /** Miner line counter when last matched (for least-recently-used eviction). */
  last: number;
  /** Keys from the root to the leaf holding this cluster (to remove it on eviction). */
  path: string[];
}

export interface MinerState {
  v: 1;
  /** Next cluster id (ids start at 1 and are never reused). */
  next: number;
  /** Lines mined. */
  lines: number;
  /** Live clusters by id. */
  clusters: Record<string, Cluster>;
  /** Number of live clusters. */
  size: number;
  root: TreeNode;
}

export type TemplateChange = 'created' | 'updated' | 'none';

export interface MineResult {
  /** Template (cluster) id, stable for the life of the miner. */
  id: number;
  change: TemplateChange;
  /** The cluster (live state object: read, do not modify). */
  cluster: Cluster;
}
export function initMiner(): MinerState {
  return { v: 1, next: 1, lines: 0, clusters: {}, size: 0, root: { c: {} } };
}

/** Template text of a live cluster, or undefined when the id is unknown or was evicted. */
export function templateText(m: MinerState, id: number): string | undefined {
  return m.clusters[id]?.t.join(' ');
}

const hasDigit = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) return true;
  }
  return false;
};

const WILD_KEY = `|${WILDCARD}`;

/**
 * How many leading tokens route a message: `depth` counts the root, the length layer and the leaf
 * as in drain3 (so depth 4 routes on the first token), and the last token never routes.
 */
const prefixTokens = (depth: number, len: number): number => Math.max(0, Math.min(depth - 3, len - 1));

// ---------------------------------------------------------------------------------------------
// Interned mirror of the JSON state. The JSON state stays the only truth (it is what checkpoints
// hold); beside it, per miner object, a derived index with templates as Int32Arrays of token ids
// and a cache of tree routes keyed by (token count, routing token ids). It is rebuilt from the
// JSON state whenever it cannot be trusted: a state restored from JSON (a new object), a state
// changed other than through this module (line or id counters differ), another depth, or too many
// interned tokens (which bounds its memory).

/** The clusters of one tree leaf, in the order of `node.ids`. */
interface Leaf {
  node: TreeNode;
  tpls: Int32Array[];
  cls: Cluster[];
}

/** A route-cache node: children by routing token id; `leaf` once resolved (null: no leaf yet). */
interface Route {
  leaf: Leaf | null | undefined;
  kids: Map<number, Route> | undefined;
}

interface Index {
  lex: Lexicon;
  lines: number;
  next: number;
  depth: number;
  root: TreeNode;
  clusters: Record<string, Cluster>;
  leaves: Map<TreeNode, Leaf>;
  routes: Map<number, Route>;
  routeNodes: number;
}

/** Interned tokens beyond which a fresh lexicon starts (each miner then re-interns its live templates). */
const MAX_TOKENS = 1 << 19;
/** Cached routes beyond which the route cache is dropped (bounds memory). */
const MAX_ROUTES = 1 << 16;

// One lexicon for all miners: token ids are a memo of token texts, so sharing them changes no
// result, and its caches then cost memory once per process rather than once per detector key.
let lexicon = new Lexicon();
let lexiconLimit = MAX_TOKENS;

const indexes = new WeakMap<MinerState, Index>();

function indexOf(p: MinerParams, m: MinerState): Index {
  if (lexicon.size > lexiconLimit) {
    lexicon = new Lexicon();
    lexiconLimit = MAX_TOKENS;
  }
  const x = indexes.get(m);
  if (
    x !== undefined &&
    x.lex === lexicon &&
    x.lines === m.lines &&
    x.next === m.next &&
    x.depth === p.depth &&
    x.root === m.root &&
    x.clusters === m.clusters
  )
    return x;
  const built = buildIndex(p, m);
  // Live templates alone may hold more tokens than the limit: never start over on every line.
  lexiconLimit = Math.max(lexiconLimit, 2 * lexicon.size);
  indexes.set(m, built);
  return built;
}

function buildIndex(p: MinerParams, m: MinerState): Index {
  const x: Index = {
    lex: lexicon,
    lines: m.lines,
    next: m.next,
    depth: p.depth,
    root: m.root,
    clusters: m.clusters,
    leaves: new Map(),
    routes: new Map(),
    routeNodes: 0,
  };
  const walk = (node: TreeNode): void => {
    if (node.ids !== undefined) leafOf(x, m, node);
    for (const k in node.c) walk(node.c[k]!);
  };
  walk(m.root);
  return x;
}

function encode(lex: Lexicon, t: readonly string[]): Int32Array {
  const a = new Int32Array(t.length);
  for (let i = 0; i < t.length; i++) a[i] = lex.intern(t[i]!);
  return a;
}

function leafOf(x: Index, m: MinerState, node: TreeNode): Leaf {
  let leaf = x.leaves.get(node);
  if (leaf === undefined) {
    leaf = { node, tpls: [], cls: [] };
    for (const id of node.ids ?? []) {
      const cl = m.clusters[id]!;
      leaf.tpls.push(encode(x.lex, cl.t));
      leaf.cls.push(cl);
    }
    x.leaves.set(node, leaf);
  }
  return leaf;
}

/** The leaf a message of `len` tokens (ids in `ids`) routes to, through the route cache. */
function route(x: Index, m: MinerState, ids: Int32Array, len: number): Leaf | null {
  let r = x.routes.get(len);
  if (r === undefined) {
    r = { leaf: undefined, kids: undefined };
    x.routes.set(len, r);
    x.routeNodes++;
  }
  const steps = prefixTokens(x.depth, len);
  for (let i = 0; i < steps; i++) {
    let kids: Map<number, Route> | undefined = r.kids;
    if (kids === undefined) kids = r.kids = new Map<number, Route>();
    let next = kids.get(ids[i]!);
    if (next === undefined) {
      next = { leaf: undefined, kids: undefined };
      kids.set(ids[i]!, next);
      x.routeNodes++;
    }
    r = next;
  }
  if (r.leaf === undefined) {
    // Same walk as the tree search on token texts: a token without its own branch takes the wildcard one.
    let node: TreeNode | undefined = m.root.c[`|${len}`];
    for (let i = 0; i < steps && node !== undefined; i++) node = node.c[`|${x.lex.text(ids[i]!)}`] ?? node.c[WILD_KEY];
    r.leaf = node === undefined ? null : leafOf(x, m, node);
  }
  return r.leaf;
}

/** Mines one message: masks it, finds or creates its template, updates the state in place. */
export function mine(p: MinerParams, m: MinerState, message: string): MineResult {
  const x = indexOf(p, m);
  return mineIds(p, m, x, x.lex.scan(message), message);
}

/** As `mine`, for tokens already masked (e.g. by `maskTokens`). `toks` is kept by a new cluster. */
export function mineTokens(p: MinerParams, m: MinerState, toks: string[]): MineResult {
  const x = indexOf(p, m);
  const lex = x.lex;
  if (lex.buf.length < toks.length) lex.buf = new Int32Array(toks.length);
  for (let i = 0; i < toks.length; i++) lex.buf[i] = lex.intern(toks[i]!);
  return mineIds(p, m, x, toks.length, toks);
}

/**
 * The match: among the leaf's clusters the most similar one with similarity ≥ threshold.
 * Similarity is the share of positions where the template holds the same constant token; wildcard
 * and equal masked positions count as parameters, which break ties (the more general template wins
 * on equal similarity, as in Drain). Then the template widens to `<*>` where the message differs.
 */
function mineIds(p: MinerParams, m: MinerState, x: Index, len: number, src: string | string[]): MineResult {
  const ids = x.lex.buf;
  const lines = ++m.lines;
  x.lines = lines;
  const leaf = route(x, m, ids, len);
  if (leaf !== null) {
    const tpls = leaf.tpls;
    let bestSim = -1;
    let bestParams = -1;
    let best = -1;
    for (let k = 0; k < tpls.length; k++) {
      const t = tpls[k]!;
      let same = 0;
      let params = 0;
      let differ = 0;
      for (let i = 0; i < len; i++) {
        const a = t[i]!;
        if (a === WILD_ID) params++;
        else if (a !== ids[i]) differ++;
        // Equal masks (<NUM> = <NUM>) say only that both hold a value there: they count as parameters,
        // not as evidence of the same template. A message without constants that agrees everywhere matches.
        else if (a & 1) params++;
        else same++;
      }
      const sim = len === 0 || (same === 0 && differ === 0) ? 1 : same / len;
      if (sim > bestSim || (sim === bestSim && params > bestParams)) {
        bestSim = sim;
        bestParams = params;
        best = k;
      }
    }
    if (best >= 0 && bestSim >= p.sim_threshold) {
      const t = tpls[best]!;
      const cl = leaf.cls[best]!;
      cl.n++;
      cl.last = lines;
      let changed = false;
      for (let i = 0; i < len; i++) {
        const a = t[i]!;
        if (a !== ids[i] && a !== WILD_ID) {
          t[i] = WILD_ID;
          cl.t[i] = WILDCARD;
          changed = true;
        }
      }
      return { id: leaf.node.ids![best]!, change: changed ? 'updated' : 'none', cluster: cl };
    }
  }
  return create(p, m, x, typeof src === 'string' ? maskTokens(src) : src);
}

/** Starts a cluster for a message's masked tokens, evicting the oldest at capacity. */
function create(p: MinerParams, m: MinerState, x: Index, toks: string[]): MineResult {
  if (m.size >= p.max_clusters) evictOldest(m, x);
  const id = m.next++;
  x.next = m.next;
  const { path, node, grew } = addToTree(p, m.root, toks, id);
  // A new branch can change where cached routes lead (a token that took the wildcard branch now has its own).
  if (grew || x.routeNodes > MAX_ROUTES) {
    x.routes = new Map();
    x.routeNodes = 0;
  }
  const cl: Cluster = { t: toks, n: 1, last: m.lines, path };
  m.clusters[id] = cl;
  m.size++;
  const leaf = x.leaves.get(node);
  if (leaf === undefined) leafOf(x, m, node);
  else {
    leaf.tpls.push(encode(x.lex, toks));
    leaf.cls.push(cl);
  }
  return { id, change: 'created', cluster: cl };
}

/** Adds a cluster id to the tree, creating nodes as needed; returns its path keys, its leaf and whether nodes were added. */
function addToTree(
  p: MinerParams,
  root: TreeNode,
  toks: readonly string[],
  id: number,
): { path: string[]; node: TreeNode; grew: boolean } {
  const lenKey = `|${toks.length}`;
  let grew = false;
  let node = root.c[lenKey];
  if (node === undefined) {
    node = root.c[lenKey] = { c: {} };
    grew = true;
  }
  const path = [lenKey];
  const steps = prefixTokens(p.depth, toks.length);
  for (let i = 0; i < steps; i++) {
    const tok = toks[i]!;
    const key = `|${tok}`;
    let next: TreeNode | undefined = node.c[key];
    let useKey = key;
    if (next === undefined) {
      // Tokens with digits vary between messages: send them down the wildcard branch.
      const children = Object.keys(node.c).length;
      const hasWild = node.c[WILD_KEY] !== undefined;
      if (hasDigit(tok) || tok === WILDCARD) useKey = WILD_KEY;
      else if (hasWild) useKey = children < p.max_children ? key : WILD_KEY;
      else useKey = children + 1 < p.max_children ? key : WILD_KEY;
      next = node.c[useKey];
      if (next === undefined) {
        next = node.c[useKey] = { c: {} };
        grew = true;
      }
    }
    path.push(useKey);
    node = next;
  }
  (node.ids ??= []).push(id);
  return { path, node, grew };
}

function evictOldest(m: MinerState, x: Index): void {
  let oldest: string | undefined;
  let oldestLast = Infinity;
  for (const id in m.clusters) {
    const last = m.clusters[id]!.last;
    if (last < oldestLast) {
      oldestLast = last;
      oldest = id;
    }
  }
  if (oldest === undefined) return;
  const cl = m.clusters[oldest]!;
  let node: TreeNode | undefined = m.root;
  for (const k of cl.path) node = node?.c[k];
  if (node?.ids !== undefined) {
    const at = node.ids.indexOf(Number(oldest));
    if (at >= 0) {
      node.ids.splice(at, 1);
      const leaf = x.leaves.get(node);
      if (leaf !== undefined) {
        leaf.tpls.splice(at, 1);
        leaf.cls.splice(at, 1);
      }
    }
  }
  delete m.clusters[oldest];
  m.size--;
}
