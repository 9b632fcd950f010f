// Checks the deploy/ stack without Docker: the compose file parses and is consistent (services,
// ports, env, mounts, health checks, no secrets), the generated Grafana/Kibana files are fresh,
// and every dashboard query names measurements, tags, fields and metrics that really exist.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { topicLayout, TOPIC_ROLES } from '../../kafka/topics.ts';
import { createMetrics } from '../../runtime/metrics.ts';
import { ES_DYNAMIC_OBJECTS, esFieldPaths, esIndexPattern, ES_KINDS, type EsKind } from '../elasticsearch/schema.ts';
import { KIBANA_SEARCHES, kibanaSavedObjects, kqlFields } from '../elasticsearch/kibana.ts';
import { parseIngestConfig } from '../../ingest/command.ts';
import { renderDeployFiles } from './deploy-files.ts';
import { DATASOURCES, ES_DATASOURCE_INDEX, grafanaDashboards, influxQueries, type EsTarget } from './grafana.ts';
import { INFLUX_FIELDS, INFLUX_MEASUREMENTS, INFLUX_TAGS } from './schema.ts';

const root = fileURLToPath(new URL('../../../../../', import.meta.url));
const read = (p: string): string => readFileSync(`${root}${p}`, 'utf8');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
const compose = parse(read('deploy/docker-compose.yml'), { merge: true }) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};

/** Identifiers an InfluxQL query names in double quotes, minus aliases (`AS "x"`). */
function influxIdentifiers(query: string): { measurements: string[]; names: string[] } {
  const aliases = new Set([...query.matchAll(/AS "([^"]+)"/g)].map((m) => m[1]));
  const measurements = [...query.matchAll(/FROM "([^"]+)"/g)].map((m) => m[1] ?? '');
  const names = [...query.matchAll(/"([^"]+)"/g)]
    .map((m) => m[1] ?? '')
    .filter((n) => !aliases.has(n) && !measurements.includes(n));
  return { measurements, names };
}

describe('docker compose stack', () => {
  it('has every service of the design, each with a health check or a one-shot role', () => {
    const names = Object.keys(compose.services).sort();
    for (const s of [
      'kafka',
      'influxdb',
      'elasticsearch',
      'logstash',
      'kibana',
      'grafana',
      'spark-master',
      'spark-worker',
      'ingest',
      'worker',
      'api',
      'simulator',
    ]) {
      expect(names).toContain(s);
    }
    const withoutHealth = names.filter((n) => compose.services[n]?.healthcheck === undefined);
    expect(withoutHealth.sort()).toEqual(['kibana-setup', 'simulator']);
  });

  it('publishes ports on loopback only, depends only on services that exist, mounts files that exist', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const p of s.ports ?? [])
        expect({ name, p }).toEqual({ name, p: expect.stringMatching(/^127\.0\.0\.1:\d+:\d+$/) as unknown });
      for (const [dep, c] of Object.entries(s.depends_on ?? {})) {
        expect(compose.services[dep], `${name} depends on ${dep}`).toBeDefined();
        if (c.condition === 'service_healthy')
          expect(compose.services[dep]?.healthcheck, `${dep} needs a health check`).toBeDefined();
      }
      for (const v of s.volumes ?? []) {
        const [src] = v.split(':');
        if (src?.startsWith('.')) expect(existsSync(`${root}deploy/${src}`), `${name} mounts ${src}`).toBe(true);
        else expect(compose.volumes, `${name} uses volume ${src}`).toHaveProperty(src ?? '');
      }
      for (const arg of s.command ?? []) {
        const m = /^\/etc\/retimuad\/(.+)$/.exec(arg);
        if (m) expect(existsSync(`${root}deploy/retimuad/${m[1]}`), `${name} reads ${arg}`).toBe(true);
      }
    }
    expect(compose.services['worker']?.build).toEqual({ context: '..', dockerfile: 'deploy/Dockerfile' });
  });

  it('commits no secrets: required secrets come from .env without defaults, and .env.example leaves them empty', () => {
    const text = read('deploy/docker-compose.yml');
    expect(text).toContain('${GRAFANA_ADMIN_PASSWORD:?');
    expect(text).not.toMatch(/PASSWORD[^\n]*:-/);
    const env = Object.fromEntries(
      read('deploy/.env.example')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(env['GRAFANA_ADMIN_PASSWORD']).toBe('');
    // Every ${VAR} the compose file uses is documented in .env.example.
    const used = new Set([...text.matchAll(/\$\{([A-Z_]+)[:}]/g)].map((m) => m[1] ?? ''));
    expect([...used].filter((v) => !(v in env))).toEqual([]);
  });

  it('wires Grafana, Logstash and the worker config to the real hosts, ports, topics and indices', () => {
    const ds = parse(read('deploy/grafana/provisioning/datasources/retimuad.yaml')) as {
      datasources: Array<{ uid: string; url: string; jsonData?: { index?: string } }>;
    };
    expect(ds.datasources.map((d) => d.uid).sort()).toEqual(
      Object.values(DATASOURCES)
        .map((d) => d.uid)
        .sort(),
    );
    for (const d of ds.datasources) {
      const host = new URL(d.url).hostname;
      expect(compose.services[host], `datasource ${d.uid} → ${host}`).toBeDefined();
      const idx = (ES_DATASOURCE_INDEX as Record<string, string>)[d.uid];
      if (idx !== undefined) expect(d.jsonData?.index).toBe(idx);
    }
    const ls = read('deploy/logstash/pipeline/retimuad.conf');
    const layout = topicLayout({ prefix: 'retimuad' });
    for (const role of ['logs', 'anomalies', 'incidents', 'deadletters'] as const)
      expect(ls).toContain(`"${layout.name(role)}"`);
    expect(TOPIC_ROLES).toContain('logs');
    for (const kind of ES_KINDS)
      expect(ls).toContain(`"retimuad-${kind}${kind === 'incidents' ? '' : '-%{+YYYY.MM}'}"`);
    const worker = parse(read('deploy/retimuad/worker.yaml')) as { sinks: Array<{ type: string; url?: string }> };
    for (const s of worker.sinks)
      if (s.url !== undefined) expect(compose.services[new URL(s.url).hostname]).toBeDefined();
    expect(worker.sinks.map((s) => s.type).sort()).toEqual(['elasticsearch', 'influxdb', 'kafka']);
    const ingest = parseIngestConfig(read('deploy/retimuad/ingest.yaml'), 'deploy/retimuad/ingest.yaml');
    expect(compose.services['ingest']?.ports).toEqual([`127.0.0.1:${ingest.http.port}:${ingest.http.port}`]);
    expect(compose.services['ingest']?.healthcheck?.test.join(' ')).toContain(`:${ingest.http.port}/health`);
  });
});

describe('generated dashboards and saved objects', () => {
  it('are fresh (node deploy/grafana/generate.mjs)', () => {
    for (const [path, text] of Object.entries(renderDeployFiles())) {
      const onDisk = read(path);
      if (path.endsWith('.json')) expect(JSON.parse(onDisk), path).toEqual(JSON.parse(text));
      else
        expect(
          onDisk
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as unknown),
          path,
        ).toEqual(
          text
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as unknown),
        );
    }
  });

  it('have stable, unique uids and panel ids', () => {
    const ds = grafanaDashboards();
    expect(ds.map((d) => d.uid)).toEqual([
      'retimuad-plant-overview',
      'retimuad-asset-signals',
      'retimuad-incidents',
      'retimuad-pipeline-health',
    ]);
    for (const d of ds) expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
  });

  it('query only measurements, tags and fields the InfluxDB sink writes', () => {
    const measurements = Object.values(INFLUX_MEASUREMENTS) as string[];
    let checked = 0;
    for (const d of grafanaDashboards()) {
      for (const query of influxQueries(d)) {
        const { measurements: ms, names } = influxIdentifiers(query);
        expect(ms.length, query).toBeGreaterThan(0);
        for (const m of ms) {
          expect(measurements, query).toContain(m);
          const key = m as keyof typeof INFLUX_TAGS;
          const known = new Set<string>([...INFLUX_TAGS[key], ...Object.keys(INFLUX_FIELDS[key])]);
          // Subqueries use aliases of inner selections; every other name must be a column of some measurement in the query.
          const allKnown = new Set([
            ...known,
            ...ms.flatMap((x) => [
              ...INFLUX_TAGS[x as keyof typeof INFLUX_TAGS],
              ...Object.keys(INFLUX_FIELDS[x as keyof typeof INFLUX_FIELDS]),
            ]),
          ]);
          for (const n of names) expect(allKnown.has(n), `${n} in ${query}`).toBe(true);
        }
        checked++;
      }
      for (const a of d.annotations.list) {
        const m = influxIdentifiers(a.query).measurements[0] as keyof typeof INFLUX_FIELDS;
        expect(Object.keys(INFLUX_FIELDS[m])).toContain(a.textColumn);
        expect([...INFLUX_TAGS[m], ...Object.keys(INFLUX_FIELDS[m])]).toContain(a.tagsColumn);
      }
    }
    expect(checked).toBeGreaterThan(15);
  });

  it('query only Elasticsearch fields the Elasticsearch sink maps', () => {
    const kindOf: Record<string, EsKind> = {
      [DATASOURCES.logs.uid]: 'logs',
      [DATASOURCES.anomalies.uid]: 'anomalies',
      [DATASOURCES.incidents.uid]: 'incidents',
    };
    let checked = 0;
    for (const d of grafanaDashboards()) {
      for (const p of d.panels) {
        for (const t of p.targets) {
          if (!('timeField' in t)) continue;
          const et: EsTarget = t;
          const fields = esFieldPaths(kindOf[et.datasource.uid] ?? 'logs');
          const used = [
            et.timeField,
            ...kqlFields(et.query),
            ...et.metrics.flatMap((m) => (m.field ? [m.field] : [])),
            ...et.bucketAggs.map((b) => b.field),
          ];
          for (const f of used) expect(fields.has(f), `${f} in ${d.uid}/${p.title}`).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(3);
  });

  it('use only Prometheus metrics that /metrics exposes', () => {
    const names = new Set(
      createMetrics({ defaultMetrics: false })
        .registry.getMetricsAsArray()
        .map((m) => m.name),
    );
    const exprs = grafanaDashboards().flatMap((d) =>
      d.panels.flatMap((p) => p.targets.flatMap((t) => ('expr' in t ? [t.expr] : []))),
    );
    expect(exprs.length).toBeGreaterThan(5);
    for (const e of exprs)
      for (const m of e.match(/retimuad_[a-z_]+/g) ?? [])
        expect(names.has(m.replace(/_bucket$/, '')), `${m} in ${e}`).toBe(true);
  });

  it('Kibana objects reference existing data views and mapped fields', () => {
    const objs = kibanaSavedObjects();
    const ids = new Set(objs.map((o) => `${o.type}:${o.id}`));
    for (const o of objs)
      for (const r of o.references) expect(ids.has(`${r.type}:${r.id}`), `${o.id} → ${r.id}`).toBe(true);
    for (const kind of ES_KINDS)
      expect(objs.find((o) => o.id === `retimuad-${kind}`)?.attributes['title']).toBe(esIndexPattern('retimuad', kind));
    for (const s of KIBANA_SEARCHES) {
      const fields = esFieldPaths(s.kind);
      const ok = (f: string): boolean => fields.has(f) || ES_DYNAMIC_OBJECTS.some((d) => f.startsWith(`${d}.`));
      for (const f of [...s.columns, ...kqlFields(s.query), ...s.sort.map(([f]) => f)])
        expect(ok(f), `${f} in ${s.id}`).toBe(true);
    }
    expect(objs.filter((o) => o.type === 'dashboard')).toHaveLength(1);
  });
});
