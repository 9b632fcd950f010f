/**
 * Loads and validates a pipeline config file. Every error names the file, the line and
 * column, the path inside the document and what was expected:
 *
 *   pipeline.yaml:14:7 /detectors/1/params/window_secs: expected number, got "five"
 *
 * @example
 * const cfg = await loadConfigFile('examples/plant.yaml', registry);
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { Value } from '@sinclair/typebox/value';
import '../../../core/src/schema/formats.ts';
import type { TSchema, Static } from '@sinclair/typebox';
import { ApiConfig, PipelineConfig, RuntimeConfig, DetectorEntry } from './schema.ts';
import { CorrelatorParams, type CorrelatorParams as CorrelatorParamsT } from '../../../core/src/correlator/index.ts';
import { resolveParams, ParamError } from '../../../core/src/detectors/params.ts';
import type { AnyDetectorDef } from '../../../core/src/detectors/registry.ts';

export interface ConfigProblem {
  path: string;
  message: string;
  line?: number;
  col?: number;
}

export class ConfigError extends Error {
  readonly code = 'E_CONFIG';
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      problems
        .map((p) => `${file}${p.line !== undefined ? `:${p.line}:${p.col ?? 1}` : ''} ${p.path || '/'}: ${p.message}`)
        .join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/** What the loader needs to know of the component registries: option schemas by type. */
export interface ComponentSchemas {
  sources: Record<string, TSchema>;
  sinks: Record<string, TSchema>;
  detectors: Record<string, AnyDetectorDef>;
}

export interface ComponentConfig {
  id: string;
  type: string;
  options: Record<string, unknown>;
}

export interface DetectorConfig extends Omit<DetectorEntry, 'params' | 'overrides'> {
  def: AnyDetectorDef;
  /** Resolved parameters (defaults filled). */
  params: Record<string, unknown>;
  overrides: Array<{ asset: string; params: Record<string, unknown> }>;
}

export interface PipelineConfig {
  file: string;
  site: string;
  dataDir: string;
  sources: ComponentConfig[];
  detectors: DetectorConfig[];
  /** Model entries, validated by the schema; ONNX files are checked when the model stage loads them. */
  models?: unknown[];
  correlator: CorrelatorParamsT;
  sinks: ComponentConfig[];
  api: Static<typeof ApiConfig>;
  runtime: Static<typeof RuntimeConfig>;
}

export async function loadConfigFile(file: string, schemas: ComponentSchemas): Promise<PipelineConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '/', message: `cannot read the file (${(err as Error).message})` }]);
  }
  return parseConfig(text, file, schemas);
}

/**
 * Parses YAML text for a config parser: syntax errors become a ConfigError with line and column;
 * `locate` maps a JSON-pointer path of the parsed value back to its line and column (or its
 * nearest existing parent's), so validation problems can point into the file.
 */
export function parseYamlDocument(
  text: string,
  file: string,
): { doc: Document; raw: unknown; locate: (path: string) => Pick<ConfigProblem, 'line' | 'col'> } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return {
          path: '/',
          message: `YAML syntax: ${e.message.split('\n')[0] ?? e.message}`,
          line: pos.line,
          col: pos.col,
        };
      }),
    );
  }
  return { doc, raw: doc.toJS(), locate: (path) => locatePath(doc, lines, path) };
}

/** Parses and validates config text; `file` is used in messages and to resolve relative paths. */
export function parseConfig(text: string, file: string, schemas: ComponentSchemas): PipelineConfig {
  const { raw, locate } = parseYamlDocument(text, file);
  const problems: ConfigProblem[] = [];
  const check = (schema: TSchema, value: unknown, prefix: string): unknown => {
    const v = Value.Default(schema, Value.Clone(value));
    if (!Value.Check(schema, v)) {
      const seen = new Set<string>();
      for (const e of Value.Errors(schema, v)) {
        const path = prefix + e.path;
        if (seen.has(path)) continue;
        seen.add(path);
        const got = e.value === undefined ? 'nothing' : JSON.stringify(e.value);
        const about = typeof e.schema.description === 'string' ? ` (${e.schema.description})` : '';
        problems.push({ path, message: `${expectation(e.schema, e.message)}, got ${got}${about}`, ...locate(path) });
      }
    }
    return v;
  };

  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(file, [{ path: '/', message: 'expected a mapping with version, sources, detectors, sinks' }]);
  }
  const top = check(PipelineConfig, raw, '') as Static<typeof PipelineConfig>;
  if (problems.length > 0) throw new ConfigError(file, problems);

  const ids = new Map<string, string>();
  const unique = (id: string, path: string) => {
    const prev = ids.get(id);
    if (prev !== undefined) problems.push({ path, message: `id "${id}" is already used at ${prev}`, ...locate(path) });
    else ids.set(id, path);
  };

  const components = (list: Array<{ id: string; type: string }>, kind: 'sources' | 'sinks'): ComponentConfig[] =>
    list.map((entry, i) => {
      const path = `/${kind}/${i}`;
      unique(entry.id, `${path}/id`);
      const schema = schemas[kind][entry.type];
      if (schema === undefined) {
        problems.push({
          path: `${path}/type`,
          message: `unknown ${kind === 'sources' ? 'source' : 'sink'} type "${entry.type}"; known: ${Object.keys(schemas[kind]).join(', ')}`,
          ...locate(`${path}/type`),
        });
        return { id: entry.id, type: entry.type, options: {} };
      }
      const { id: _id, type: _type, ...rest } = entry as Record<string, unknown>;
      const options = check(schema, rest, path) as Record<string, unknown>;
      return { id: entry.id, type: entry.type, options };
    });

  const sources = components(top.sources, 'sources');
  const sinks = components(top.sinks, 'sinks');
  const detectors: DetectorConfig[] = [];
  top.detectors.forEach((d, i) => {
    const path = `/detectors/${i}`;
    unique(d.id, `${path}/id`);
    const def = schemas.detectors[d.type];
    if (def === undefined) {
      problems.push({
        path: `${path}/type`,
        message: `unknown detector type "${d.type}"; known: ${Object.keys(schemas.detectors).sort().join(', ')}`,
        ...locate(`${path}/type`),
      });
      return;
    }
    const paramProblem = (err: unknown, at: string) => {
      if (err instanceof ParamError) {
        for (const p of err.problems) {
          problems.push({
            path: at + p.path,
            message: p.message.replace(/^Expected/, 'expected'),
            ...locate(at + p.path),
          });
        }
      } else throw err;
    };
    let params: Record<string, unknown> = {};
    try {
      params = resolveParams(def, d.params ?? {}) as Record<string, unknown>;
    } catch (err) {
      paramProblem(err, `${path}/params`);
    }
    const overrides = (d.overrides ?? []).map((o, j) => {
      try {
        return {
          asset: o.asset,
          params: resolveParams(def, { ...(d.params ?? {}), ...o.params }) as Record<string, unknown>,
        };
      } catch (err) {
        paramProblem(err, `${path}/overrides/${j}/params`);
        return { asset: o.asset, params };
      }
    });
    if (d.select?.asset_pattern !== undefined) {
      try {
        new RegExp(d.select.asset_pattern);
      } catch (err) {
        const at = `${path}/select/asset_pattern`;
        problems.push({
          path: at,
          message: `not a valid regular expression: ${(err as Error).message}`,
          ...locate(at),
        });
      }
    }
    const { params: _p, overrides: _o, ...entry } = d;
    const select = entry.select ?? { kind: 'reading' as const };
    if (select.kind !== 'reading' && entry.key.includes('metric') && select.value_field === undefined) {
      // Non-reading events have no metric; keying by it would put every event under "".
      entry.key = entry.key.filter((k) => k !== 'metric');
    }
    detectors.push({ ...entry, select, def, params, overrides });
  });

  if (problems.length > 0) throw new ConfigError(file, problems);
  const base = dirname(resolve(file));
  return {
    file,
    site: top.site,
    dataDir: resolve(base, top.data_dir),
    sources,
    detectors,
    models: top.models,
    correlator: check(CorrelatorParams, top.correlator ?? {}, '/correlator') as CorrelatorParamsT,
    sinks,
    api: check(ApiConfig, top.api ?? {}, '/api') as Static<typeof ApiConfig>,
    runtime: check(RuntimeConfig, top.runtime ?? {}, '/runtime') as Static<typeof RuntimeConfig>,
  };
}

/** "expected one of realtime, max, a number" rather than TypeBox's "Expected union value". */
function expectation(schema: TSchema, message: string): string {
  const anyOf = (schema as { anyOf?: TSchema[] }).anyOf;
  if (Array.isArray(anyOf)) {
    const options = anyOf.map((s) => {
      const c = (s as { const?: unknown }).const;
      if (c !== undefined) return JSON.stringify(c);
      const t: unknown = s['type'];
      return typeof t === 'string' ? `a ${t}` : 'another form';
    });
    return `expected one of ${options.join(', ')}`;
  }
  return message.replace(/^Expected/, 'expected');
}

/** Finds the line/column of a JSON-pointer path in the YAML document, or of its nearest existing parent. */
function locatePath(doc: Document, lines: LineCounter, pointer: string): Pick<ConfigProblem, 'line' | 'col'> {
  const parts = pointer
    .split('/')
    .slice(1)
    .filter((p) => p !== '')
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, '/').replace(/~0/g, '~')));
  for (let n = parts.length; n >= 0; n--) {
    const node: unknown = n === 0 ? doc.contents : doc.getIn(parts.slice(0, n), true);
    if (isNode(node) && node.range) {
      const pos = lines.linePos(node.range[0]);
      return { line: pos.line, col: pos.col };
    }
  }
  return {};
}
