/**
 * Helpers for the Elasticsearch sink tests: start the real OpenSearch through
 * scripts/services/opensearch.sh (or use RETIMUAD_OPENSEARCH_URL) and query it.
 *
 * @example
 * const url = await openSearchUrl();
 * const hits = await esSearch(url, 'retimuad-logs-*', { query: { match_all: {} } });
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const openSearchSh = fileURLToPath(new URL('../../../../../scripts/services/opensearch.sh', import.meta.url));

export async function openSearchUrl(): Promise<string> {
  const env = process.env['RETIMUAD_OPENSEARCH_URL'];
  if (env !== undefined && env !== '') return env;
  const { stdout } = await promisify(execFile)(openSearchSh, ['start'], { timeout: 280_000 });
  return stdout.trim().split('\n').at(-1) ?? '';
}

export interface EsHit {
  _id: string;
  _index: string;
  _version?: number;
  _source: Record<string, unknown>;
}

export async function esSearch(
  url: string,
  index: string,
  body: Record<string, unknown>,
): Promise<{ total: number; hits: EsHit[]; aggregations?: Record<string, unknown> }> {
  const res = await fetch(`${url}/${index}/_search?version=true&track_total_hits=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const j = (await res.json()) as {
    hits?: { total?: { value?: number }; hits?: EsHit[] };
    aggregations?: Record<string, unknown>;
    error?: unknown;
  };
  if (!res.ok) throw new Error(`search ${index} failed: ${res.status} ${JSON.stringify(j.error)}`);
  return {
    total: j.hits?.total?.value ?? 0,
    hits: j.hits?.hits ?? [],
    ...(j.aggregations ? { aggregations: j.aggregations } : {}),
  };
}

export async function esDeleteIndices(url: string, pattern: string): Promise<void> {
  await fetch(`${url}/${pattern}?expand_wildcards=all`, { method: 'DELETE' });
  await fetch(`${url}/_index_template/${pattern.replace(/\*$/, '')}*`, { method: 'DELETE' });
}

/** a.b.c → value, for checking documents. */
export function pick(doc: Record<string, unknown>, path: string): unknown {
  let o: unknown = doc;
  for (const k of path.split('.'))
    o = o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined;
  return o;
}
