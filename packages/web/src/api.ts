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

import type { IncidentAction, LogTemplate } from '../../engine/src/storage/duckdb-store.ts';

type Params = Record<string, string | number | undefined>;

export interface Me {
  name: string;
  role: 'viewer' | 'operator' | 'admin';
}

/** Called when the server says the session is gone (401), so the app can show the sign-in form. */
let onUnauthenticated: () => void = () => undefined;
export function setUnauthenticatedHandler(fn: () => void): void {
  onUnauthenticated = fn;
}

async function failure(res: Response): Promise<ApiRequestError> {
  let msg = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { error?: { message?: string } };
    if (body.error?.message) msg = body.error.message;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiRequestError(res.status, msg);
}

/** Sends JSON (the API refuses other content types for writes, which blocks cross-site forms). */
export async function sendJSON<T>(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw await failure(res);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

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
    if (res.status === 401 && path !== '/api/session') onUnauthenticated();
    throw await failure(res);
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
  incidents: (p: { status?: string; asset?: string; from?: number; to?: number; limit?: number }) =>
    getJSON<Incident[]>('/api/incidents', p),
  incident: (id: string) => getJSON<Incident>(`/api/incidents/${encodeURIComponent(id)}`),
  logs: (p: { q?: string; level?: string; asset?: string; from?: number; to?: number; limit?: number }) =>
    getJSON<StoredLog[]>('/api/logs', p),
  logTemplates: (p: { asset?: string; from?: number; to?: number; limit?: number }) =>
    getJSON<LogTemplate[]>('/api/logs/templates', p),
  me: () => getJSON<Me>('/api/session'),
  signIn: (username: string, password: string) => sendJSON<Me>('POST', '/api/session', { username, password }),
  signOut: () => sendJSON<undefined>('DELETE', '/api/session'),
  handling: (ids: readonly string[]) =>
    getJSON<Record<string, IncidentAction>>('/api/incident-handling', { ids: ids.join(',') }),
  actions: (id: string) => getJSON<IncidentAction[]>(`/api/incidents/${encodeURIComponent(id)}/actions`),
  act: (id: string, action: IncidentAction['action'], comment?: string) =>
    sendJSON<IncidentAction>('POST', `/api/incidents/${encodeURIComponent(id)}/actions`, {
      action,
      ...(comment ? { comment } : {}),
    }),
  media: (p: { asset?: string; from?: number; to?: number; limit?: number }) => getJSON<StoredMedia[]>('/api/media', p),
  deadLetters: (limit: number) => getJSON<DeadLetter[]>('/api/deadletters', { limit }),
  labels: () => getJSON<Label[]>('/api/labels'),
};

/** URL of a blob for <img>/<audio>; the sha is checked so nothing else lands in the path. */
export function blobUrl(sha256: string): string {
  return /^[0-9a-f]{64}$/.test(sha256) ? `/api/blobs/${sha256}` : '#';
}
