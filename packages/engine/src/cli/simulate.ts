/**
 * `retimuad simulate`: runs the plant simulator as fast as possible and writes its data set:
 * readings.jsonl, logs.jsonl, audio.jsonl, image.jsonl (media bytes under <outDir>/media, in the
 * content-addressed blob layout), and labels.json; or, with `stdout`, one JSON event per line.
 * Events are written without `ingestTime` so the same seed and start time give identical files;
 * the pipeline stamps ingestTime when it reads them back.
 *
 * @example
 * const summary = await runSimulate({ seed: 7, durationSecs: 600, outDir: 'data/sim', startTime: Date.UTC(2024, 0, 1) });
 * // summary.counts → { reading: 19800, log: 34, audio: 180, image: 240, label: 3 }
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Label } from '../../../core/src/schema/events.ts';
import { createPlant } from '../../../core/src/simulator/plant.ts';
import { SCENARIO_NAMES, isScenarioName, type ScenarioName } from '../../../core/src/simulator/scenarios.ts';
import { materialise } from '../sources/simulator/index.ts';
import { createFsBlobStore } from '../storage/blobs.ts';

export interface SimulateOptions {
  seed: number;
  durationSecs: number;
  /** Output directory (default data/sim); media go under <outDir>/media even with stdout. */
  outDir?: string;
  /** Write events to standard output, one JSON object per line, instead of the .jsonl files. */
  stdout?: boolean;
  /** Simulated start, epoch ms (default: 2024-01-01T00:00:00Z, so runs are reproducible). */
  startTime?: number;
  /** Restricts the default programme to these scenarios; [] for none. */
  scenarios?: string[];
  site?: string;
  /** Where stdout-mode lines go (tests pass their own stream). */
  stream?: NodeJS.WritableStream;
}

export interface SimulateSummary {
  outDir: string;
  counts: Record<string, number>;
  labels: Label[];
}

export class SimulateError extends Error {
  override readonly name = 'SimulateError';
  constructor(
    readonly code: 'E_SIMULATE_OPTIONS',
    message: string,
  ) {
    super(message);
  }
}

export const DEFAULT_SIM_START = Date.UTC(2024, 0, 1);
const CHUNK_MS = 60_000;

async function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

export async function runSimulate(opts: SimulateOptions): Promise<SimulateSummary> {
  if (!Number.isInteger(opts.seed)) throw new SimulateError('E_SIMULATE_OPTIONS', `seed must be an integer, got ${opts.seed}`);
  if (!(opts.durationSecs > 0)) throw new SimulateError('E_SIMULATE_OPTIONS', `duration must be > 0 seconds, got ${opts.durationSecs}`);
  const unknown = (opts.scenarios ?? []).filter((s) => !isScenarioName(s));
  if (unknown.length > 0) {
    throw new SimulateError('E_SIMULATE_OPTIONS', `unknown scenario(s) ${unknown.join(', ')}; expected some of ${SCENARIO_NAMES.join(', ')}`);
  }
  const outDir = opts.outDir ?? 'data/sim';
  const start = opts.startTime ?? DEFAULT_SIM_START;
  const end = start + opts.durationSecs * 1000;
  await mkdir(outDir, { recursive: true });
  const blobs = createFsBlobStore(join(outDir, 'media'));
  const programme = opts.scenarios as ScenarioName[] | undefined;
  const plant = createPlant({
    seed: opts.seed,
    startTime: start,
    site: opts.site ?? 'plant-a',
    ...(programme === undefined ? {} : programme.length === 0 ? { schedule: 'none' as const } : { programme }),
  });

  const files: Record<string, WriteStream> = {};
  const streamFor = (kind: string): NodeJS.WritableStream => {
    if (opts.stdout) return opts.stream ?? process.stdout;
    const name = kind === 'reading' ? 'readings' : kind === 'log' ? 'logs' : kind;
    return (files[kind] ??= createWriteStream(join(outDir, `${name}.jsonl`)));
  };
  if (!opts.stdout) for (const k of ['reading', 'log', 'audio', 'image']) streamFor(k); // every file exists, even if empty

  const counts: Record<string, number> = { reading: 0, log: 0, audio: 0, image: 0, label: 0 };
  const labels: Label[] = [];
  try {
    for (let t = start; t < end; ) {
      t = Math.min(t + CHUNK_MS, end);
      const outs = plant.advance(t === end ? end - 1 : t);
      // Batch lines per stream so a long run is not a write() per event.
      const batches = new Map<NodeJS.WritableStream, string[]>();
      for (const o of outs) {
        if (o.type === 'label') {
          labels.push(o.label);
          counts['label'] = (counts['label'] ?? 0) + 1;
          continue;
        }
        const ev = await materialise(o, blobs);
        const s = streamFor(ev.kind);
        let b = batches.get(s);
        if (!b) batches.set(s, (b = []));
        b.push(JSON.stringify(ev));
        counts[ev.kind] = (counts[ev.kind] ?? 0) + 1;
      }
      for (const [s, lines] of batches) await write(s, lines.join('\n') + '\n');
    }
  } finally {
    await Promise.all(
      Object.values(files).map(
        (f) =>
          new Promise<void>((resolve, reject) => {
            f.end((err?: Error | null) => (err ? reject(err) : resolve()));
          }),
      ),
    );
  }
  await writeFile(join(outDir, 'labels.json'), JSON.stringify(labels, null, 2) + '\n');
  return { outDir, counts, labels };
}
