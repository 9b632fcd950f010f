/**
 * `retimuad eval nab`: runs a pipeline's detectors over the NAB corpus, one fresh Processor per
 * file, strictly row by row (each row is a reading of asset "nab", metric "value"; nothing about
 * the file is known in advance). A row's anomaly_score is the highest score any detector gave it
 * (0 while all are warming up). Scores all three profiles with exact-sweep thresholds.
 *
 * @example
 * retimuad eval nab --data ../shared/datasets/nab --config examples/nab.yaml --out results/
 */
import { writeFile } from 'node:fs/promises';
import type { PipelineConfig } from '../config/load.ts';
import { Processor } from '../runtime/processor.ts';
import type { SinkRecord } from '../runtime/types.ts';
import { formatNabReport, runNabEval, type NabDetector, type NabEvalResult } from '../eval/nab-runner.ts';
import type { Reading } from '../../../core/src/schema/events.ts';
import { Progress } from './progress.ts';

export interface EvalNabOptions {
  config: PipelineConfig;
  dataDir: string;
  outDir?: string;
  files?: string[];
  perFile?: boolean;
  jsonFile?: string;
  print?: (s: string) => void;
}

/** Wraps a pipeline's detectors as a NAB streaming detector. */
export function pipelineNabDetector(config: PipelineConfig): NabDetector {
  const processor = new Processor(config.detectors, config.correlator);
  const out: SinkRecord[] = [];
  let i = 0;
  const ev: { -readonly [K in keyof Reading]: Reading[K] } = {
    kind: 'reading',
    id: '',
    time: 0,
    ingestTime: 0,
    site: config.site,
    asset: 'nab',
    source: 'nab',
    metric: 'value',
    value: 0,
    unit: '',
    quality: 'good',
  };
  return {
    next(t, value) {
      ev.id = `r${i++}`;
      ev.time = t;
      ev.ingestTime = t;
      ev.value = value;
      out.length = 0;
      processor.process(ev, out);
      let best = 0;
      for (const r of out) if (r.type === 'score' && r.score.score > best) best = r.score.score;
      return best;
    },
  };
}

export async function runEvalNab(opts: EvalNabOptions): Promise<NabEvalResult> {
  const print = opts.print ?? ((s: string) => process.stdout.write(s));
  let progress: Progress | undefined;
  const result = await runNabEval({
    dataDir: opts.dataDir,
    detect: () => pipelineNabDetector(opts.config),
    detectorName: 'retimuad',
    onProgress: (done, total) => {
      progress ??= new Progress('NAB', total);
      progress.update(done);
      if (done === total) progress.done();
    },
    ...(opts.outDir !== undefined ? { outDir: opts.outDir } : {}),
    ...(opts.files !== undefined ? { files: opts.files } : {}),
  });
  print(`${formatNabReport(result, { perFile: opts.perFile === true })}\n`);
  if (opts.jsonFile !== undefined) await writeFile(opts.jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}
