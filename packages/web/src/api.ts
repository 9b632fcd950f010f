/**
 * Typed fetch helpers for the RETIMU-AD HTTP API.
 *
 * @example
 * const assets = await api.assets();
 * const pts = await api.series({ site, asset, metric, from, to, max_points: 800 });
 */
import type { Anomaly, Incident, Label } from '../../core/src/schema/events.ts';
import type {
  AssetSummary,
  DeadLetter,
  ScorePoint,
  SeriesPoint,
  StoredLog,
  StoredMedia,
} from '../../engine/src/runtime/types.ts';
import type { HealthReport } from '../../engine/src/api/deps.ts';

type Params = Record<string, string | number | undefined>;

export class ApiRequestError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export async function getJSON<T>(path: string, params: Params = {}): Promise<T> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') qs.set(k, String(v));
  const url = qs.size ? `${path}?${qs.toString()}` : path;
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  if (!res.ok) {
    let msg = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { error?: { message?: string } };
      if (body.error?.message) msg = body.error.message;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiRequestError(res.status, msg);
  }
  return (await res.json()) as T;
}

export const api = {
  health: () => getJSON<HealthReport>('/api/health'),
  assets: () => getJSON<AssetSummary[]>('/api/assets'),
  series: (p: { site: string; asset: string; metric: string; from: number; to: number; max_points: number }) =>
    getJSON<SeriesPoint[]>('/api/series', p),
  scores: (p: { site: string; asset: string; from: number; to: number; max_points: number }) =>
    getJSON<ScorePoint[]>('/api/scores', p),
  anomalies: (p: { asset?: string; from?: number; to?: number; limit?: number }) =>
    getJSON<Anomaly[]>('/api/anomalies', p),
  incidents: (p: { status?: string; asset?: string; limit?: number }) => getJSON<Incident[]>('/api/incidents', p),
  incident: (id: string) => getJSON<Incident>(`/api/incidents/${encodeURIComponent(id)}`),
  logs: (p: { q?: string; level?: string; asset?: string; limit?: number }) => getJSON<StoredLog[]>('/api/logs', p),
  media: (p: { asset?: string; from?: number; to?: number; limit?: number }) => getJSON<StoredMedia[]>('/api/media', p),
  deadLetters: (limit: number) => getJSON<DeadLetter[]>('/api/deadletters', { limit }),
  labels: () => getJSON<Label[]>('/api/labels'),
};

/** URL of a blob for <img>/<audio>; the sha is checked so nothing else lands in the path. */
export function blobUrl(sha256: string): string {
  return /^[0-9a-f]{64}$/.test(sha256) ? `/api/blobs/${sha256}` : '#';
}
