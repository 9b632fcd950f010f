/**
 * The config of `retimuad spark-stream`: which Kafka topics the Spark Structured Streaming job
 * reads, its event-time windows and watermark, its trigger, where it checkpoints, the InfluxDB it
 * writes window aggregates to, and the checks (threshold, count, rule) it evaluates per window.
 * One TypeBox schema gives the type, the validation and the defaults; problems name the file,
 * line, column and path like the pipeline config's. The resolved config travels to
 * spark/jobs/stream.py as JSON (`toJobConfig`).
 *
 * @example
 * const cfg = parseSparkStreamConfig(await readFile('examples/spark-stream.yaml', 'utf8'), 'examples/spark-stream.yaml');
 * cfg.checks[0]; // { id: 'flow-high', type: 'threshold', on: 'mean', above: 55, ... }
 */
import { dirname, resolve } from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { isNode } from 'yaml';
import { ConfigError, parseYamlDocument, type ConfigProblem } from '../config/load.ts';
import { TOPIC_ROLES, topicLayout, type TopicRole } from '../kafka/topics.ts';
import { parseRule, RuleError } from './rule.ts';

const Globs = Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
  minItems: 1,
  default: ['*'],
  description: 'Glob patterns (* and ?); default every one.',
});
const Select = Type.Object(
  { asset: Globs, metric: Globs },
  { additionalProperties: false, default: {}, description: 'Which series the check judges.' },
);
const Severity = Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')], {
  default: 'warning',
});
const CheckId = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.:-]+$' });
const CheckType = Type.Union([Type.Literal('threshold'), Type.Literal('count'), Type.Literal('rule')]);

const common = { id: CheckId, select: Select, severity: Severity };

export const ThresholdCheck = Type.Object(
  {
    ...common,
    type: Type.Literal('threshold'),
    on: Type.Union([Type.Literal('mean'), Type.Literal('value')], {
      default: 'mean',
      description: 'mean: the window mean; value: any single reading (window max for above, min for below).',
    }),
    above: Type.Optional(Type.Number({ description: 'Limit in the metric unit: flagged when beyond it.' })),
    below: Type.Optional(Type.Number({ description: 'Limit in the metric unit: flagged when under it.' })),
  },
  { additionalProperties: false },
);
export const CountCheck = Type.Object(
  {
    ...common,
    type: Type.Literal('count'),
    min: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'Fewest readings per window; with min >= 1 a window with none (silence) is flagged too.',
      }),
    ),
    max: Type.Optional(Type.Integer({ minimum: 0, description: 'Most readings per window.' })),
  },
  { additionalProperties: false },
);
export const RuleCheck = Type.Object(
  {
    ...common,
    type: Type.Literal('rule'),
    expr: Type.String({
      minLength: 1,
      maxLength: 500,
      description: 'Condition over count, mean, std, min, max, sum, e.g. "std > 5 and count >= 10".',
    }),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 300, description: 'Human text for the finding.' })),
    score: Type.Number({ minimum: 0, maximum: 1, default: 0.8, description: 'Score of a finding, 0..1.' }),
  },
  { additionalProperties: false },
);
const CHECK_SCHEMAS: Record<Static<typeof CheckType>, TSchema> = {
  threshold: ThresholdCheck,
  count: CountCheck,
  rule: RuleCheck,
};

export const SparkStreamConfig = Type.Object(
  {
    kafka: Type.Object(
      {
        brokers: Type.String({ minLength: 1, default: '127.0.0.1:9092', description: 'host:port[,host:port]' }),
        topic_prefix: Type.String({ pattern: '^[A-Za-z0-9._-]{1,200}$', default: 'retimuad' }),
        topics: Type.Array(Type.String({ minLength: 1, maxLength: 249 }), {
          minItems: 1,
          default: ['readings'],
          description: 'Topic roles of the layout (readings) or full topic names.',
        }),
        anomalies_topic: Type.Optional(
          Type.String({ minLength: 1, maxLength: 249, description: 'Default: <prefix>.anomalies.' }),
        ),
        starting_offsets: Type.Union([Type.Literal('earliest'), Type.Literal('latest')], {
          default: 'latest',
          description: 'Where a job with no checkpoint starts; a checkpoint always wins.',
        }),
        max_offsets_per_trigger: Type.Optional(Type.Integer({ minimum: 1, description: 'Records per micro-batch.' })),
        options: Type.Record(Type.String({ pattern: '^[a-z][a-z0-9.]*$' }), Type.String(), {
          default: {},
          description:
            'Extra Kafka client properties (security.protocol, sasl.mechanism, ...), passed as kafka.<name>.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    window: Type.Object(
      {
        size_secs: Type.Number({ exclusiveMinimum: 0, maximum: 86400, default: 60, description: 'Window length, s.' }),
        slide_secs: Type.Optional(
          Type.Number({ exclusiveMinimum: 0, maximum: 86400, description: 'Slide, s; default size_secs (tumbling).' }),
        ),
        watermark_secs: Type.Number({
          minimum: 0,
          maximum: 86400,
          default: 30,
          description: 'How late a reading may arrive; a window is judged once the watermark passes its end.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    trigger: Type.Object(
      {
        mode: Type.Union([Type.Literal('processing_time'), Type.Literal('available_now')], {
          default: 'processing_time',
          description:
            'processing_time: a micro-batch every interval_secs, until stopped; available_now: what is there, then stop.',
        }),
        interval_secs: Type.Number({ exclusiveMinimum: 0, default: 10 }),
        max_batches: Type.Optional(Type.Integer({ minimum: 1, description: 'Stop after this many micro-batches.' })),
      },
      { additionalProperties: false, default: {} },
    ),
    checkpoint_dir: Type.String({
      minLength: 1,
      default: 'data/spark-stream',
      description: "Spark's checkpoint and the silence state; relative to the config file.",
    }),
    influxdb: Type.Optional(
      Type.Object(
        {
          url: Type.String({ pattern: '^https?://', description: 'InfluxDB 1.x base URL.' }),
          database: Type.String({ minLength: 1, default: 'retimuad' }),
          measurement: Type.String({ minLength: 1, default: 'window_aggregates' }),
          create_database: Type.Boolean({ default: true }),
        },
        { additionalProperties: false },
      ),
    ),
    spark: Type.Object(
      {
        master: Type.String({ minLength: 1, default: 'local[2]' }),
        shuffle_partitions: Type.Integer({ minimum: 1, default: 4 }),
        conf: Type.Record(Type.String({ minLength: 1 }), Type.String(), {
          default: {},
          description: 'Extra spark-submit --conf entries.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    checks: Type.Array(Type.Object({ id: CheckId, type: CheckType }, { additionalProperties: true }), { default: [] }),
  },
  { additionalProperties: false },
);

export type ThresholdCheck = Static<typeof ThresholdCheck>;
export type CountCheck = Static<typeof CountCheck>;
export type RuleCheck = Static<typeof RuleCheck>;
export type StreamCheck = ThresholdCheck | CountCheck | RuleCheck;
export type SparkStreamConfig = Omit<Static<typeof SparkStreamConfig>, 'checks'> & { checks: StreamCheck[] };

/** Parses and validates config text; `file` names it in messages and anchors relative paths. */
export function parseSparkStreamConfig(text: string, file: string): SparkStreamConfig {
  const parsed = parseYamlDocument(text, file);
  const raw: unknown = parsed.raw ?? {};
  const { doc, locate } = parsed;
  const problems: ConfigProblem[] = [];
  const at = (path: string, message: string, colOffset?: number): void => {
    const pos = locate(path);
    problems.push({
      path,
      message,
      ...pos,
      ...(colOffset !== undefined && pos.col !== undefined ? { col: pos.col + colOffset } : {}),
    });
  };
  const check = <S extends TSchema>(schema: S, value: unknown, prefix: string): Static<S> => {
    const v = Value.Default(schema, Value.Clone(value)) as Static<S>;
    if (!Value.Check(schema, v)) {
      const seen = new Set<string>();
      for (const e of Value.Errors(schema, v)) {
        const path = prefix + e.path;
        if (seen.has(path)) continue;
        seen.add(path);
        const props = (e.schema as { properties?: Record<string, unknown> }).properties;
        if (e.message === 'Unexpected property' && props !== undefined) {
          at(path, `unknown option "${e.path.split('/').at(-1) ?? ''}"; known: ${Object.keys(props).join(', ')}`);
          continue;
        }
        const got = e.value === undefined ? 'nothing' : JSON.stringify(e.value);
        at(path, `${e.message.replace(/^Expected/, 'expected')}, got ${got}`);
      }
    }
    return v;
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(file, [{ path: '/', message: 'expected a mapping with kafka, window, checks, ...' }]);
  }
  const top = check(SparkStreamConfig, raw, '');
  if (problems.length > 0) throw new ConfigError(file, problems);

  const ids = new Map<string, number>();
  const checks = top.checks.map((c, i): StreamCheck => {
    const path = `/checks/${i}`;
    const prev = ids.get(c.id);
    if (prev !== undefined) at(`${path}/id`, `id "${c.id}" is already used by /checks/${prev}`);
    ids.set(c.id, i);
    const before = problems.length;
    const resolved = check(CHECK_SCHEMAS[c.type], c, path) as StreamCheck;
    if (problems.length > before) return resolved;
    if (resolved.type === 'threshold' && resolved.above === undefined && resolved.below === undefined)
      at(path, 'a threshold check needs above, below or both');
    if (
      resolved.type === 'threshold' &&
      resolved.above !== undefined &&
      resolved.below !== undefined &&
      resolved.below > resolved.above
    )
      at(`${path}/below`, `below (${resolved.below}) is greater than above (${resolved.above}): nothing could pass`);
    if (resolved.type === 'count' && resolved.min === undefined && resolved.max === undefined)
      at(path, 'a count check needs min, max or both');
    if (
      resolved.type === 'count' &&
      resolved.min !== undefined &&
      resolved.max !== undefined &&
      resolved.min > resolved.max
    )
      at(`${path}/min`, `min (${resolved.min}) is greater than max (${resolved.max})`);
    if (resolved.type === 'rule' && typeof resolved.expr === 'string') {
      try {
        parseRule(resolved.expr);
      } catch (err) {
        if (!(err instanceof RuleError)) throw err;
        // Point at the character inside a plain scalar; quoted ones shift by their quote.
        const node = doc.getIn(['checks', i, 'expr'], true);
        const quoted = isNode(node) && 'type' in node && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE');
        at(`${path}/expr`, `${err.message} (column ${err.column} of the rule)`, err.column - 1 + (quoted ? 1 : 0));
      }
    }
    return resolved;
  });
  const w = top.window;
  if (w.slide_secs !== undefined && w.slide_secs > w.size_secs)
    at(
      '/window/slide_secs',
      `slide_secs (${w.slide_secs}) exceeds size_secs (${w.size_secs}): readings between windows would be lost`,
    );
  if (problems.length > 0) throw new ConfigError(file, problems);
  return {
    ...top,
    checks,
    checkpoint_dir: resolve(dirname(resolve(file)), top.checkpoint_dir),
  };
}

/** The JSON the Spark job reads: topic roles resolved to names, globs under `assets`/`metrics`. */
export function toJobConfig(cfg: SparkStreamConfig): Record<string, unknown> {
  const layout = topicLayout({ prefix: cfg.kafka.topic_prefix });
  const topic = (t: string): string =>
    (TOPIC_ROLES as readonly string[]).includes(t) ? layout.name(t as TopicRole) : t;
  return {
    kafka: {
      brokers: cfg.kafka.brokers,
      topics: cfg.kafka.topics.map(topic),
      anomalies_topic: cfg.kafka.anomalies_topic ?? layout.name('anomalies'),
      starting_offsets: cfg.kafka.starting_offsets,
      options: cfg.kafka.options,
      ...(cfg.kafka.max_offsets_per_trigger !== undefined
        ? { max_offsets_per_trigger: cfg.kafka.max_offsets_per_trigger }
        : {}),
    },
    window: {
      size_secs: cfg.window.size_secs,
      slide_secs: cfg.window.slide_secs ?? cfg.window.size_secs,
      watermark_secs: cfg.window.watermark_secs,
    },
    trigger: cfg.trigger,
    checkpoint_dir: cfg.checkpoint_dir,
    influxdb: cfg.influxdb ?? null,
    checks: cfg.checks.map(({ select, ...c }) => ({ ...c, assets: select.asset, metrics: select.metric })),
  };
}
