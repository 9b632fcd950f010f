/**
 * The file source: replays a JSON-lines file of events (as `retimuad simulate` writes them),
 * as fast as possible or paced by the events' own times. Lines that are not JSON are
 * dead-lettered with their line number; the rest are validated by the pipeline.
 *
 * @example
 * sources:
 *   - id: replay
 *     type: file
 *     path: data/sim/readings.jsonl
 *     speed: max
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Type, type Static } from '@sinclair/typebox';
import type { ComponentContext, Source, SourceOutput } from '../../runtime/types.ts';

export const FileSourceParams = Type.Object(
  {
    path: Type.String({ minLength: 1, description: 'A JSON-lines file of events.' }),
    speed: Type.Union([Type.Literal('max'), Type.Literal('realtime')], {
      default: 'max',
      description: 'max: as fast as the pipeline takes them; realtime: paced by the gaps between event times.',
    }),
    max_line_bytes: Type.Integer({ minimum: 64, default: 1_048_576, description: 'Longer lines are rejected before parsing.' }),
  },
  { additionalProperties: false },
);
export type FileSourceParams = Static<typeof FileSourceParams>;

export function createFileSource(id: string, params: FileSourceParams): Source {
  return {
    id,
    async run(out: SourceOutput, ctx: ComponentContext) {
      const rl = createInterface({ input: createReadStream(params.path, { encoding: 'utf8' }), crlfDelay: Infinity });
      let line = 0;
      let prevTime: number | undefined;
      try {
        for await (const text of rl) {
          line++;
          if (ctx.signal.aborted) break;
          if (text.trim() === '') continue;
          const where = `${params.path}:${line}`;
          if (Buffer.byteLength(text) > params.max_line_bytes) {
            await out.reject(text.slice(0, 1024), where, `line longer than max_line_bytes (${params.max_line_bytes})`);
            continue;
          }
          let raw: unknown;
          try {
            raw = JSON.parse(text);
          } catch (err) {
            await out.reject(text, where, `not valid JSON: ${(err as Error).message}`);
            continue;
          }
          if (params.speed === 'realtime') {
            const t = (raw as { time?: unknown }).time;
            const time = typeof t === 'number' ? t : typeof t === 'string' ? Date.parse(t) : NaN;
            if (Number.isFinite(time)) {
              if (prevTime !== undefined && time > prevTime) {
                await sleep(Math.min(time - prevTime, 60_000), undefined, { signal: ctx.signal }).catch(() => undefined);
              }
              prevTime = time;
            }
          }
          await out.emitRaw(raw, where);
        }
      } finally {
        rl.close();
      }
    },
  };
}
