/**
 * The `retimuad` command line. Each command's `--help` explains its options.
 *
 * @example
 * retimuad run                                   # embedded system + dashboard
 * retimuad validate examples/plant.yaml
 * retimuad simulate --duration-secs 600 --out data/sim
 * retimuad score --input data.csv --out scored.csv
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfigFile } from '../config/load.ts';
import { DEFAULT_API_TOPICS, type TopicRole } from '../kafka/topics.ts';

// Commands load their modules on first use: a worker restarting after a crash should not pay for
// the API server, analytics and model stages it never runs.
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const DEFAULT_CONFIG = join(repoRoot, 'examples/plant.yaml');
export const DEFAULT_SCORE_CONFIG = join(repoRoot, 'examples/score.yaml');

/** The options that were given: drops undefined values so optional fields stay absent (exactOptionalPropertyTypes). */
function given<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`${name} must be a non-negative whole number, got "${v}"`);
  return n;
};
const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

const program = new Command('retimuad')
  .description(
    'RETIMU-AD: real-time multimodal anomaly detection for critical infrastructure. ' +
      'Sensor readings, logs, audio and camera frames go through stream detectors and a correlator ' +
      'that raises incidents; everything is stored and shown on a web dashboard.',
  )
  .showHelpAfterError('(run with --help for usage)')
  .configureHelp({ sortSubcommands: false });

program
  .command('run')
  .description(
    "Start the embedded system: simulator (or the config's sources) → detectors → correlator → store, alerts and dashboard. Ctrl-C stops it gracefully with a checkpoint; the next run resumes from it.",
  )
  .option('-c, --config <file>', 'pipeline config (YAML)', DEFAULT_CONFIG)
  .option('-p, --port <port>', 'dashboard/API port (overrides the config)', int('--port'))
  .option('--host <address>', 'address to listen on (overrides the config; default 127.0.0.1)')
  .option('--data-dir <dir>', 'where state, blobs, the store and logs go (overrides the config)')
  .option('--fresh', 'ignore an existing checkpoint and start detectors from scratch', false)
  .option('--log-level <level>', 'log level for data/retimuad.log (trace, debug, info, warn, error)')
  .action(
    async (o: {
      config: string;
      port?: number;
      host?: string;
      dataDir?: string;
      fresh: boolean;
      logLevel?: string;
    }) => {
      await (
        await import('./run.ts')
      ).runCommand({
        config: o.config,
        fresh: o.fresh,
        ...given({ port: o.port, host: o.host, dataDir: o.dataDir, logLevel: o.logLevel }),
      });
    },
  );

program
  .command('validate')
  .description(
    'Check a pipeline config: syntax, types, known components, parameters. Errors name the file, line, path and what was expected.',
  )
  .argument('<config>', 'pipeline config (YAML)')
  .action(async (file: string) => {
    const cfg = await loadConfigFile(file, (await import('../runtime/registry.ts')).componentSchemas());
    process.stdout.write(
      `${file}: valid — ${cfg.sources.length} source(s), ${cfg.detectors.length} detector(s), ${cfg.sinks.length} sink(s)\n`,
    );
  });

program
  .command('simulate')
  .description(
    'Run the water-treatment plant simulator as fast as possible and write its streams and ground-truth labels to files (or JSON lines to stdout).',
  )
  .option('--seed <n>', 'random seed (same seed and start time give identical output)', int('--seed'), 42)
  .option('--duration-secs <n>', 'simulated seconds', int('--duration-secs'), 600)
  .option('--start <time>', 'simulated start time (ISO-8601); default 2026-01-01T00:00:00Z')
  .option('--scenarios <names>', 'comma-separated scenarios to schedule (default: the built-in programme)', list)
  .option(
    '-o, --out <dir>',
    'output directory (readings.jsonl, logs.jsonl, audio.jsonl, image.jsonl, media/, labels.json)',
  )
  .option('--stdout', 'write every event as one JSON line to stdout instead', false)
  .addOption(
    new Option(
      '--to <target>',
      'where events go: files (--out/--stdout) or kafka (the topic layout, see docs/kafka.md)',
    )
      .choices(['files', 'kafka'])
      .default('files'),
  )
  .option(
    '--brokers <list>',
    'with --to kafka: bootstrap brokers host:port[,host:port]',
    process.env['RETIMUAD_KAFKA_BROKERS'] ?? '127.0.0.1:9092',
  )
  .option('--topic-prefix <prefix>', 'with --to kafka: topic name prefix', 'retimuad')
  .addOption(
    new Option('--key-by <part>', 'with --to kafka: partition key (asset = site/asset, stage = site/stage, site)')
      .choices(['asset', 'stage', 'site'])
      .default('asset'),
  )
  .option('--speed <x>', 'with --to kafka: simulated seconds per wall second (default: as fast as possible)', Number)
  .option('--partitions <n>', 'with --to kafka: partitions of the event topics it creates', int('--partitions'), 6)
  .option('--blobs-dir <dir>', 'with --to kafka: where audio/image bytes go (events carry references)', 'data/blobs')
  .action(
    async (o: {
      seed: number;
      durationSecs: number;
      start?: string;
      scenarios?: string[];
      out?: string;
      stdout: boolean;
      to: string;
      brokers: string;
      topicPrefix: string;
      keyBy: 'asset' | 'stage' | 'site';
      speed?: number;
      partitions: number;
      blobsDir: string;
    }) => {
      const startTime = o.start === undefined ? Date.UTC(2026, 0, 1) : Date.parse(o.start);
      if (Number.isNaN(startTime)) throw new InvalidArgumentError(`--start: cannot read "${o.start}" as a time`);
      if (o.to === 'kafka') {
        if (o.speed !== undefined && !(o.speed > 0))
          throw new InvalidArgumentError(`--speed must be a number > 0, got ${o.speed}`);
        await (
          await import('../kafka/cli.ts')
        ).runSimulateToKafka({
          brokers: o.brokers,
          topicPrefix: o.topicPrefix,
          seed: o.seed,
          durationSecs: o.durationSecs,
          startTime,
          keyBy: o.keyBy,
          partitions: o.partitions,
          blobsDir: o.blobsDir,
          ...given({ speed: o.speed, scenarios: o.scenarios }),
        });
        return;
      }
      if (o.out === undefined && !o.stdout) throw new InvalidArgumentError('give --out DIR or --stdout');
      await (
        await import('./simulate.ts')
      ).runSimulate({
        seed: o.seed,
        durationSecs: o.durationSecs,
        startTime,
        stdout: o.stdout,
        ...given({ outDir: o.out, scenarios: o.scenarios }),
      });
    },
  );

program
  .command('score')
  .description(
    "Replay a CSV or JSON-lines file through a pipeline's detectors offline and write one row per input row with anomaly_score, is_anomaly and reason. Each value column becomes a signal; key columns name the asset. Rejected rows are reported with their line and kept in OUT.deadletters.jsonl.",
  )
  .option('-c, --config <file>', 'pipeline config whose detectors to use', DEFAULT_SCORE_CONFIG)
  .requiredOption('-i, --input <file>', 'input CSV (any separator) or JSON lines (.jsonl)')
  .requiredOption('-o, --out <file>', 'output file (same format as the input)')
  .option(
    '--timestamp-col <name>',
    'timestamp column (ISO-8601 or epoch s/ms; default: a column named timestamp/time/ts, else one row per --interval-secs)',
  )
  .option('--key-cols <names>', 'comma-separated columns that identify the asset', list)
  .option('--value-cols <names>', 'comma-separated numeric columns to score (default: all other columns)', list)
  .option('--sep <char>', 'CSV separator (default: sniffed from the header among , ; tab |)')
  .option('--interval-secs <n>', 'seconds between rows when there is no timestamp column', Number, 1)
  .option('--no-progress', 'no progress bar')
  .action(
    async (o: {
      config: string;
      input: string;
      out: string;
      timestampCol?: string;
      keyCols?: string[];
      valueCols?: string[];
      sep?: string;
      intervalSecs: number;
      progress: boolean;
    }) => {
      const config = await loadConfigFile(o.config, (await import('../runtime/registry.ts')).componentSchemas());
      const sep = o.sep === '\\t' || o.sep === 'tab' ? '\t' : o.sep;
      const summary = await (
        await import('./score.ts')
      ).runScore({
        config,
        input: o.input,
        out: o.out,
        progress: o.progress,
        intervalSecs: o.intervalSecs,
        warn: (m) => process.stderr.write(`${m}\n`),
        ...(sep !== undefined ? { sep } : {}),
        ...given({ timestampCol: o.timestampCol, keyCols: o.keyCols, valueCols: o.valueCols }),
      });
      process.stdout.write(
        `${o.out}: ${summary.rows} rows, ${summary.scored} scored, ${summary.flagged} flagged, ${summary.rejected} rejected` +
          `${summary.rejected > 0 ? ` (see ${summary.deadLetterFile})` : ''}, ${summary.incidents} incident(s)\n` +
          `columns: time=${summary.columns.timestamp ?? '(row order)'} keys=[${summary.columns.keys.join(', ')}] values=[${summary.columns.values.join(', ')}]\n`,
      );
    },
  );

const evalCmd = program.command('eval').description('Measure detection quality on labelled benchmarks.');
evalCmd
  .command('nab')
  .description(
    "Run a pipeline's detectors over the Numenta Anomaly Benchmark corpus strictly as a stream, write NAB-format results and print the standard, low-FP and low-FN scores (thresholds optimised by an exact sweep).",
  )
  .requiredOption('--data <dir>', 'the NAB corpus folder (with data/, labels/, config/)')
  .option('-c, --config <file>', 'pipeline config whose detectors to run', join(repoRoot, 'examples/nab.yaml'))
  .option('-o, --out <dir>', 'write NAB-format result CSVs here')
  .option('--files <names>', 'comma-separated subset of corpus files (e.g. realKnownCause/nyc_taxi.csv)', list)
  .option('--per-file', 'also print per-file scores', false)
  .addOption(new Option('--json <file>', 'write the full result as JSON'))
  .action(
    async (o: { data: string; config: string; out?: string; files?: string[]; perFile: boolean; json?: string }) => {
      const config = await loadConfigFile(o.config, (await import('../runtime/registry.ts')).componentSchemas());
      await (
        await import('./eval.ts')
      ).runEvalNab({
        config,
        dataDir: o.data,
        perFile: o.perFile,
        ...given({ outDir: o.out, files: o.files, jsonFile: o.json }),
      });
    },
  );

evalCmd
  .command('scenarios')
  .description(
    "Run the simulator's labelled fault and attack scenarios through a pipeline config offline and print precision, recall, F1 and detection delay of the correlated incidents and of each modality alone.",
  )
  .option('-c, --config <file>', 'pipeline config', DEFAULT_CONFIG)
  .option('--seed <n>', 'simulator seed (use one the config was not tuned on)', int('--seed'), 7)
  .option('--duration-secs <n>', 'simulated seconds', int('--duration-secs'), 3600)
  .option('--json <file>', 'write the full result as JSON')
  .action(async (o: { config: string; seed: number; durationSecs: number; json?: string }) => {
    const config = await loadConfigFile(o.config, (await import('../runtime/registry.ts')).componentSchemas());
    const { formatScenarioReport, runScenarioEval } = await import('../eval/scenarios-runner.ts');
    const r = await runScenarioEval({ config, seed: o.seed, durationSecs: o.durationSecs });
    process.stdout.write(`${formatScenarioReport(r)}\n`);
    if (o.json !== undefined) await writeFile(o.json, `${JSON.stringify(r, null, 2)}\n`);
  });

program
  .command('worker')
  .description(
    "Join a Kafka consumer group and run the config's detectors and correlator on the partitions it is assigned; keyed state is checkpointed with the consumed offsets and restored when partitions move. The config needs one source of type kafka (brokers, topics, group_id, state_dir) and typically a kafka sink. Prints assignments and checkpoints as JSON lines.",
  )
  .requiredOption('-c, --config <file>', 'pipeline config (YAML) with a kafka source')
  .option(
    '--state-dir <dir>',
    "directory shared by the group's workers for partition state (overrides the source's state_dir)",
  )
  .option('--group <id>', "consumer group (overrides the source's group_id)")
  .action(async (o: { config: string; stateDir?: string; group?: string }) => {
    await (
      await import('../worker/command.ts')
    ).runWorkerCommand({
      config: o.config,
      ...given({ stateDir: o.stateDir, groupId: o.group }),
    });
  });

program
  .command('api')
  .description(
    "The operator console and HTTP API of the Kafka stack: reads incidents, anomalies, dead letters and the modality topics with its own consumer group into its own embedded store and serves the same dashboard, API and operator actions as `run`. The config's kafka source (or sink) names brokers and topic_prefix; its api section the address. See docs/kafka.md.",
  )
  .requiredOption('-c, --config <file>', "pipeline config (YAML) with a kafka source or sink, e.g. the workers' file")
  .option('-p, --port <port>', 'dashboard/API port (overrides the config)', int('--port'))
  .option('--host <address>', 'address to listen on (overrides the config)')
  .option('--data-dir <dir>', "where the api's store, users and log live (overrides the config's data_dir)")
  .option('--blobs-dir <dir>', 'media blob store shared with ingest/simulator (default <data_dir>/blobs)')
  .option('--group <id>', 'consumer group of this api instance (each instance needs its own)', 'retimuad-api')
  .option('--topics <roles>', `topics to read (${DEFAULT_API_TOPICS.join(',')})`, list)
  .action(
    async (o: {
      config: string;
      port?: number;
      host?: string;
      dataDir?: string;
      blobsDir?: string;
      group: string;
      topics?: string[];
    }) => {
      await (
        await import('../api/stack.ts')
      ).runStackApiCommand({
        config: o.config,
        groupId: o.group,
        ...given({ port: o.port, host: o.host, dataDir: o.dataDir, blobsDir: o.blobsDir }),
        ...(o.topics !== undefined ? { topics: o.topics as TopicRole[] } : {}),
      });
    },
  );

const logsCmd = program.command('logs').description('Log files: parsing and template mining.');
logsCmd
  .command('parse')
  .description(
    'Parse a log file (syslog RFC 3164/5424, JSON lines or plain lines) and mine its templates online: one CSV row per input line with its template id, template text and ECS fields.',
  )
  .requiredOption('-i, --input <file>', 'log file to read')
  .requiredOption('-o, --out <file>', 'CSV file to write')
  .addOption(
    new Option('--format <format>', 'line format (auto picks per line)')
      .choices(['auto', 'rfc3164', 'rfc5424', 'json', 'plain'])
      .default('auto'),
  )
  .option('--sim-threshold <x>', 'share of equal tokens (0..1) to join a template', (v: string) => {
    const x = Number(v);
    if (!(x >= 0 && x <= 1)) throw new InvalidArgumentError(`--sim-threshold must be a number in [0,1], got "${v}"`);
    return x;
  })
  .option('--depth <n>', 'parse tree depth (as in drain3: routes on the first depth-3 tokens)', int('--depth'))
  .option('--year <n>', 'year for RFC 3164 timestamps, which carry none (default: this year)', int('--year'))
  .action(
    async (o: {
      input: string;
      out: string;
      format: 'auto' | 'rfc3164' | 'rfc5424' | 'json' | 'plain';
      simThreshold?: number;
      depth?: number;
      year?: number;
    }) => {
      const s = await (
        await import('./logs.ts')
      ).runLogsParse({
        input: o.input,
        out: o.out,
        format: o.format,
        miner: {
          ...(o.simThreshold !== undefined ? { sim_threshold: o.simThreshold } : {}),
          ...(o.depth !== undefined ? { depth: Math.max(3, o.depth) } : {}),
        },
        ...(o.year !== undefined ? { year: o.year } : {}),
        warn: (m) => process.stderr.write(`${m}\n`),
      });
      process.stdout.write(
        `${o.out}: ${s.lines} line(s), ${s.templates} template(s), ${s.errors} unreadable, ${s.seconds.toFixed(2)} s\n`,
      );
    },
  );

program
  .command('analyze')
  .description(
    'Batch analyses over the embedded store (--data-dir) or the Parquet archive (--archive): per asset and metric summary statistics, histograms with outlier bins, rolling-window trends, drift between the two halves of the range, and K-Means over per-window features (k by silhouette). Findings are written back as batch anomalies; the report is HTML (inline SVG plots) or JSON.',
  )
  .option('--data-dir <dir>', 'data directory holding retimuad.duckdb (findings are written there)')
  .option('--archive <dir>', 'Parquet archive (readings/date=…/asset=…/*.parquet) to read instead of the store')
  .option('--from <time>', 'start (ISO-8601 or epoch ms; default: first reading)')
  .option('--to <time>', 'end (ISO-8601 or epoch ms; default: last reading)')
  .option('--asset <names>', 'comma-separated assets (default: all)', list)
  .addOption(new Option('--report <format>', 'report format').choices(['html', 'json']).default('html'))
  .option('-o, --out <file>', 'report file (default: <dir>/analysis.html|json)')
  .option('--bins <n>', 'histogram bins', int('--bins'))
  .addOption(
    new Option('--engine <engine>', 'duckdb (embedded) or spark (spark-submit, reads --archive)')
      .choices(['duckdb', 'spark'])
      .default('duckdb'),
  )
  .option('--spark-master <url>', 'Spark master for --engine spark (default local[2])')
  .option('--no-write', 'do not write findings to the store')
  .action(
    async (o: {
      dataDir?: string;
      archive?: string;
      from?: string;
      to?: string;
      asset?: string[];
      report: 'html' | 'json';
      out?: string;
      bins?: number;
      engine: 'duckdb' | 'spark';
      sparkMaster?: string;
      write: boolean;
    }) => {
      const { asset, ...rest } = o;
      const s = await (
        await import('../analytics/command.ts')
      ).runAnalyze({ ...rest, ...(asset !== undefined ? { assets: asset } : {}) });
      const t = Object.values(s.result.timingsMs).reduce((a, b) => a + b, 0);
      process.stdout.write(
        `${s.out}: ${s.result.stats.length} series, ${s.result.clusterings.length} asset clusterings, ${s.findings.length} finding(s), ${s.written} written as batch anomalies (${s.result.engine}, ${t.toFixed(0)} ms)\n`,
      );
    },
  );

program
  .command('spark-stream')
  .description(
    'Spark Structured Streaming over the Kafka readings topic(s): per asset and metric, event-time windows (with a watermark) of count, mean, standard deviation, min and max; the threshold, count (silence included) and rule checks of the config; anomalies to the Kafka anomalies topic, window aggregates to InfluxDB. Runs spark/jobs/stream.py with spark-submit and the Kafka jars of scripts/services/spark-kafka.sh; prints one JSON line per micro-batch.',
  )
  .requiredOption('-c, --config <file>', 'spark-stream config (YAML; see examples/spark-stream.yaml)')
  .option('--available-now', 'process what the topics hold now, then stop (overrides trigger.mode)', false)
  .option('--max-batches <n>', 'stop after this many micro-batches', int('--max-batches'))
  .action(async (o: { config: string; availableNow: boolean; maxBatches?: number }) => {
    const r = await (
      await import('../spark/stream.ts')
    ).runSparkStreamCommand({
      config: o.config,
      availableNow: o.availableNow,
      ...(o.maxBatches !== undefined ? { maxBatches: o.maxBatches } : {}),
    });
    const anomalies = r.batches.reduce((n, b) => n + b.anomalies, 0);
    process.stderr.write(`spark-stream: ${r.batches.length} micro-batch(es), ${anomalies} anomaly(ies)\n`);
  });

program
  .command('ingest')
  .description(
    'Receive events over HTTP (POST /ingest: JSON, a JSON array or NDJSON) and/or MQTT, validate them and produce them to the Kafka topics; rejected records go to the dead-letter topic and, over HTTP, come back with their reasons. See docs/kafka.md for the config.',
  )
  .requiredOption('-c, --config <file>', 'ingest config (YAML: site, kafka, http, mqtt)')
  .action(async (o: { config: string }) => {
    await (await import('../ingest/command.ts')).runIngestCommand(o.config);
  });

program
  .command('schema')
  .description("Print (or write) the JSON Schema of pipeline configs, with every component type's options.")
  .option('-o, --out <file>', 'write to this file instead of stdout')
  .action(async (o: { out?: string }) => {
    const text = (await import('../config/docs.ts')).renderJsonSchema();
    if (o.out !== undefined) await writeFile(o.out, text);
    else process.stdout.write(text);
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`Invalid config:\n${err.message}\n`);
    process.exit(2);
  }
  const e = err as Error & { code?: string };
  process.stderr.write(`retimuad: ${e.code !== undefined ? `[${e.code}] ` : ''}${e.message}\n`);
  if (process.env['RETIMUAD_DEBUG'] !== undefined) process.stderr.write(`${e.stack ?? ''}\n`);
  process.exit(1);
}
