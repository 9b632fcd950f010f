/**
 * The template miner as it was before the interned-token rewrite (git e19dfd1, frozen copy), kept
 * as the reference the differential test and the benchmark compare the current miner against:
 * same template ids, texts and JSON state on every input. Do not optimise this file.
 *
 * @example
 * const m = initMiner();
 * mine(DEFAULT_MINER_PARAMS, m, 'a 1').id; // 1
 */
import { Type, type Static } from '@sinclair/typebox';
import { maskTokens } from './mask_v1.ts';

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
const prefixTokens = (p: MinerParams, len: number): number => Math.max(0, Math.min(p.depth - 3, len - 1));

/** Mines one message: masks it, finds or creates its template, updates the state in place. */
export function mine(p: MinerParams, m: MinerState, message: string): MineResult {
  return mineTokens(p, m, maskTokens(message));
}

/** As `mine`, for tokens already masked (e.g. by `maskTokens`). `toks` is kept by a new cluster. */
export function mineTokens(p: MinerParams, m: MinerState, toks: string[]): MineResult {
  m.lines++;
  const leafPath = searchLeaf(p, m.root, toks);
  if (leafPath !== null) {
    const best = bestMatch(m, leafPath.node.ids, toks, p.sim_threshold);
    if (best !== undefined) {
      const cl = m.clusters[best]!;
      cl.n++;
      cl.last = m.lines;
      let changed = false;
      const t = cl.t;
      for (let i = 0; i < t.length; i++) {
        if (t[i] !== toks[i] && t[i] !== WILDCARD) {
          t[i] = WILDCARD;
          changed = true;
        }
      }
      return { id: best, change: changed ? 'updated' : 'none', cluster: cl };
    }
  }
  if (m.size >= p.max_clusters) evictOldest(m);
  const id = m.next++;
  const path = addToTree(p, m.root, toks, id);
  const cl: Cluster = { t: toks, n: 1, last: m.lines, path };
  m.clusters[id] = cl;
  m.size++;
  return { id, change: 'created', cluster: cl };
}

/** Walks the tree the way `addToTree` would, without creating nodes; null when there is no leaf. */
function searchLeaf(p: MinerParams, root: TreeNode, toks: readonly string[]): { node: TreeNode } | null {
  let node = root.c[`|${toks.length}`];
  if (node === undefined) return null;
  const steps = prefixTokens(p, toks.length);
  for (let i = 0; i < steps; i++) {
    const next: TreeNode | undefined = node.c[`|${toks[i]!}`] ?? node.c[WILD_KEY];
    if (next === undefined) return null;
    node = next;
  }
  return { node };
}

/**
 * The most similar cluster with similarity ≥ threshold. Similarity is the share of positions where
 * the template holds the same constant token; wildcard and equal masked positions count as
 * parameters, which break ties (the more general template wins on equal similarity, as in Drain).
 */
function bestMatch(
  m: MinerState,
  ids: number[] | undefined,
  toks: readonly string[],
  threshold: number,
): number | undefined {
  if (ids === undefined) return undefined;
  const len = toks.length;
  let bestSim = -1;
  let bestParams = -1;
  let best: number | undefined;
  for (const id of ids) {
    const t = m.clusters[id]!.t;
    let same = 0;
    let params = 0;
    let differ = 0;
    for (let i = 0; i < len; i++) {
      const a = t[i]!;
      if (a === WILDCARD) params++;
      else if (a !== toks[i]) differ++;
      else if (a.charCodeAt(0) === 60) params++;
      else same++;
    }
    // Equal masks (<NUM> = <NUM>) say only that both hold a value there: they count as parameters,
    // not as evidence of the same template. A message without constants that agrees everywhere matches.
    const sim = len === 0 || (same === 0 && differ === 0) ? 1 : same / len;
    if (sim > bestSim || (sim === bestSim && params > bestParams)) {
      bestSim = sim;
      bestParams = params;
      best = id;
    }
  }
  return bestSim >= threshold ? best : undefined;
}

/** Adds a cluster id to the tree, creating nodes as needed; returns the keys of its path. */
function addToTree(p: MinerParams, root: TreeNode, toks: readonly string[], id: number): string[] {
  const lenKey = `|${toks.length}`;
  let node = root.c[lenKey];
  if (node === undefined) node = root.c[lenKey] = { c: {} };
  const path = [lenKey];
  const steps = prefixTokens(p, toks.length);
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
      if (next === undefined) next = node.c[useKey] = { c: {} };
    }
    path.push(useKey);
    node = next;
  }
  (node.ids ??= []).push(id);
  return path;
}

function evictOldest(m: MinerState): void {
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
    if (at >= 0) node.ids.splice(at, 1);
  }
  delete m.clusters[oldest];
  m.size--;
}
