/**
 * A demo of the API and dashboard on synthetic data, for looking at the UI without the
 * pipeline (and for screenshots): three stages of assets, live readings and scores, an
 * occasional anomaly that opens an incident.
 *
 * @example
 * node bin/run-ts.mjs packages/engine/src/api/demo.ts 8080
 */
import { createHash } from 'node:crypto';
import pino from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Anomaly, Incident } from '../../../core/src/schema/events.ts';
import type { AssetSummary, BlobStore, ScorePoint, SeriesPoint, StoreReader, TimeRange } from '../runtime/types.ts';
import { createLiveHub } from './deps.ts';
import { createApiServer } from './server.ts';

const SITE = 'plant-a';
const ASSETS = [
  { asset: 'P-101', stage: 'intake', metric: 'flow_m3h', unit: 'm3/h', base: 40, amp: 3 },
  { asset: 'T-201', stage: 'filtration', metric: 'turbidity_ntu', unit: 'NTU', base: 0.6, amp: 0.1 },
  { asset: 'D-301', stage: 'dosing', metric: 'chlorine_mgl', unit: 'mg/L', base: 1.2, amp: 0.15 },
  { asset: 'R-401', stage: 'storage', metric: 'level_m', unit: 'm', base: 4.5, amp: 0.4 },
];
const STEP_MS = 1000;
const value = (a: (typeof ASSETS)[number], t: number): number =>
  a.base + a.amp * Math.sin(t / 600_000 + a.base) + (a.amp / 5) * Math.sin(t / 7_000);

/** Keeps 24 h of one point per second per asset in memory, generated on demand. */
class DemoStore implements StoreReader {
  anomaliesList: Anomaly[] = [];
  incidentsList: Incident[] = [];
  scoresList: ScorePoint[] = [];
  now = Date.now();
  assets(): Promise<AssetSummary[]> {
    const open = new Set(this.incidentsList.filter((i) => i.status === 'open').flatMap((i) => i.assets));
    const recent = new Set(this.anomaliesList.filter((a) => this.now - a.time < 60_000).map((a) => a.asset));
    return Promise.resolve(
      ASSETS.map((a) => ({
        site: SITE,
        asset: a.asset,
        stage: a.stage,
        metrics: [{ metric: a.metric, unit: a.unit, last: value(a, this.now), lastTime: this.now }],
        state: open.has(a.asset) ? 'incident' : recent.has(a.asset) ? 'anomalous' : 'normal',
      })),
    );
  }
  series(_site: string, asset: string, _metric: string, r: TimeRange, maxPoints: number): Promise<SeriesPoint[]> {
    const a = ASSETS.find((x) => x.asset === asset);
    if (!a) return Promise.resolve([]);
    const step = Math.max(STEP_MS, Math.ceil((r.to - r.from) / maxPoints));
    const out: SeriesPoint[] = [];
    for (let t = r.from - (r.from % step); t <= r.to; t += step) out.push({ time: t, value: value(a, t) });
    return Promise.resolve(out);
  }
  scores(_site: string, asset: string, r: TimeRange): Promise<ScorePoint[]> {
    return Promise.resolve(this.scoresList.filter((s) => s.asset === asset && s.time >= r.from && s.time <= r.to));
  }
  anomalies(q: { asset?: string; range?: TimeRange; limit?: number }): Promise<Anomaly[]> {
    return Promise.resolve(
      this.anomaliesList
        .filter(
          (a) => (!q.asset || a.asset === q.asset) && (!q.range || (a.time >= q.range.from && a.time <= q.range.to)),
        )
        .slice(-(q.limit ?? 100))
        .reverse(),
    );
  }
  incidents(): Promise<Incident[]> {
    return Promise.resolve([...this.incidentsList].reverse());
  }
  incident(id: string): Promise<Incident | undefined> {
    return Promise.resolve(this.incidentsList.find((i) => i.id === id));
  }
  logs() {
    return Promise.resolve([
      {
        id: 'l1',
        time: this.now,
        site: SITE,
        asset: 'P-101',
        level: 'warn',
        message: 'login failed for user <script>alert(1)</script>',
        fields: { 'user.name': 'op1' },
      },
    ]);
  }
  media() {
    return Promise.resolve([]);
  }
  deadLetters() {
    return Promise.resolve([
      {
        id: 'd1',
        time: this.now,
        component: 'file',
        where: 'readings.csv:17',
        reason: '/value: expected a finite number, got "abc"',
        raw: 'P-101,flow_m3h,abc',
      },
    ]);
  }
  counts() {
    return Promise.resolve({});
  }
  labels() {
    return Promise.resolve([]);
  }
}

const blobs: BlobStore = {
  put: (bytes, contentType) => {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return Promise.resolve({ uri: `blob://${sha256}`, contentType, bytes: bytes.length, sha256 });
  },
  get: (uri) => Promise.reject(Object.assign(new Error(`blob ${uri} not found`), { code: 'BLOB_NOT_FOUND' })),
};

const store = new DemoStore();
const live = createLiveHub();
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const logger = pino({ level: 'info' });
const started = Date.now();
const api = createApiServer({
  store,
  registry,
  live,
  blobs,
  logger,
  health: () => ({
    status: 'ok',
    uptimeSecs: (Date.now() - started) / 1000,
    components: [{ id: 'demo', kind: 'source', received: 0, emitted: 0, discarded: 0 }],
    queue: { depth: 3, capacity: 1000 },
    deadLetters: 1,
  }),
});
const { url } = await api.listen(Number(process.argv[2] ?? 8080), '127.0.0.1');
logger.info({ url }, 'demo dashboard');

let n = 0;
setInterval(() => {
  const t = (store.now = Date.now());
  n++;
  for (const a of ASSETS) {
    const spike = a.asset === 'P-101' && n % 120 > 100;
    const v = value(a, t) + (spike ? a.amp * 3 : 0);
    live.publish({
      type: 'reading',
      data: {
        kind: 'reading',
        id: `${a.asset}-${t}`,
        time: t,
        ingestTime: t,
        site: SITE,
        asset: a.asset,
        stage: a.stage,
        source: 'demo',
        metric: a.metric,
        value: v,
        unit: a.unit,
        quality: 'good',
      },
    });
    const score: ScorePoint = {
      time: t,
      site: SITE,
      asset: a.asset,
      detector: 'zscore',
      metric: a.metric,
      score: spike ? 0.95 : 0.1 + 0.05 * Math.random(),
    };
    store.scoresList.push(score);
    live.publish({ type: 'score', data: score });
    if (spike) {
      const an: Anomaly = {
        id: `an-${t}`,
        time: t,
        site: SITE,
        asset: a.asset,
        stage: a.stage,
        detector: 'zscore',
        detectorType: 'zscore',
        modality: 'reading',
        metric: a.metric,
        score: 0.95,
        severity: 'critical',
        reason: `${a.metric} ${v.toFixed(1)} above band`,
        value: v,
      };
      store.anomaliesList.push(an);
      live.publish({ type: 'anomaly', data: an });
      const inc: Incident = {
        id: `inc-${Math.floor(n / 120)}`,
        site: SITE,
        assets: [a.asset],
        stage: a.stage,
        status: 'open',
        severity: 'critical',
        modalities: ['reading'],
        startTime: t,
        lastTime: t,
        anomalyCount: 1,
        evidence: [an],
        explanation: `${a.asset} flow above its normal band`,
        peakScore: 0.95,
        revision: n,
      };
      const i = store.incidentsList.findIndex((x) => x.id === inc.id);
      if (i >= 0)
        store.incidentsList[i] = {
          ...inc,
          startTime: store.incidentsList[i]!.startTime,
          anomalyCount: store.incidentsList[i]!.anomalyCount + 1,
          evidence: [...store.incidentsList[i]!.evidence.slice(0, 4), an],
        };
      else store.incidentsList.push(inc);
      live.publish({ type: 'incident', data: store.incidentsList[i >= 0 ? i : store.incidentsList.length - 1]! });
    } else {
      for (const inc of store.incidentsList) {
        if (inc.status === 'open' && inc.assets.includes(a.asset) && t - inc.lastTime > 0 && n % 120 === 110) {
          Object.assign(inc, { status: 'resolved', endTime: t, revision: inc.revision + 1 });
          live.publish({ type: 'incident', data: inc });
        }
      }
    }
  }
  if (store.scoresList.length > 400_000) store.scoresList.splice(0, 100_000);
}, STEP_MS);
