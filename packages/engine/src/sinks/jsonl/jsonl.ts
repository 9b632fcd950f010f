/**
 * JSON Lines alert sink: appends one line per incident revision (and, if asked, per anomaly) to a
 * file, for tailing, shipping with Filebeat/Logstash, or grepping after the fact. A revision that
 * was already written (a retried or replayed batch) is not written twice.
 *
 * Line shape: `{"type":"incident","incident":{…}}` / `{"type":"anomaly","anomaly":{…}}`.
 *
 * @example
 * const sink = createJsonlSink({ path: 'data/alerts.jsonl', include: ['incident', 'anomaly'] }, { logger });
 * await sink.write([{ type: 'incident', incident }]);
 * await sink.close();
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import type { Sink, SinkRecord, SinkRecordType } from '../../runtime/types.ts';
import { SinkError, resolveSinkParams, type SinkDeps } from '../common.ts';

export const JsonlSinkParams = Type.Object(
  {
    path: Type.String({ minLength: 1, description: 'File to append to; its directory is created if missing.' }),
    include: Type.Array(Type.Union([Type.Literal('incident'), Type.Literal('anomaly')]), {
      minItems: 1,
      uniqueItems: true,
      default: ['incident'],
      description: 'Record types written.',
    }),
  },
  { additionalProperties: false },
);
export type JsonlSinkParams = Static<typeof JsonlSinkParams>;

/** Incident ids remembered for revision de-duplication; the oldest are forgotten beyond this. */
const MAX_TRACKED = 10_000;

export function createJsonlSink(raw: unknown, deps: SinkDeps): Sink {
  const params = resolveSinkParams('jsonl', JsonlSinkParams, raw);
  const id = deps.id ?? 'jsonl';
  const lastRevision = new Map<string, number>();
  let handle: FileHandle | undefined;
  let closed = false;
  // Appends are chained so concurrent write() calls cannot interleave their lines.
  let tail: Promise<unknown> = Promise.resolve();

  async function file(): Promise<FileHandle> {
    if (!handle) {
      await mkdir(dirname(params.path), { recursive: true });
      handle = await open(params.path, 'a');
    }
    return handle;
  }

  /** The batch's lines, and the incident revisions they cover (remembered only once written). */
  function linesOf(batch: readonly SinkRecord[]): { text: string; revisions: Map<string, number> } {
    let text = '';
    const revisions = new Map<string, number>();
    for (const rec of batch) {
      if (rec.type === 'incident' && params.include.includes('incident')) {
        const inc = rec.incident;
        const seen = revisions.get(inc.id) ?? lastRevision.get(inc.id);
        if (seen !== undefined && inc.revision <= seen) continue;
        revisions.set(inc.id, inc.revision);
        text += JSON.stringify({ type: 'incident', incident: inc }) + '\n';
      } else if (rec.type === 'anomaly' && params.include.includes('anomaly')) {
        text += JSON.stringify({ type: 'anomaly', anomaly: rec.anomaly }) + '\n';
      }
    }
    return { text, revisions };
  }

  function remember(revisions: Map<string, number>): void {
    for (const [incId, rev] of revisions) {
      lastRevision.delete(incId); // re-insert so Map order tracks recency
      lastRevision.set(incId, rev);
    }
    for (const oldest of lastRevision.keys()) {
      if (lastRevision.size <= MAX_TRACKED) break;
      lastRevision.delete(oldest);
    }
  }

  return {
    id,
    accepts: new Set<SinkRecordType>(params.include),
    write(batch) {
      if (closed) return Promise.reject(new SinkError('E_SINK_CLOSED', `jsonl sink ${id} (${params.path}) is closed`));
      const run = tail.then(async () => {
        const { text, revisions } = linesOf(batch);
        if (text === '') return;
        try {
          // One write per batch: a whole batch lands together (O_APPEND), never half a line.
          await (await file()).appendFile(text, 'utf8');
        } catch (err) {
          throw new SinkError('E_JSONL_WRITE', `jsonl sink ${id}: cannot append to ${params.path}: ${(err as Error).message}`, { cause: err });
        }
        remember(revisions);
        deps.metrics?.emitted(text.split('\n').length - 1);
      });
      tail = run.catch(() => undefined);
      return run;
    },
    async close() {
      if (closed) return;
      closed = true;
      await tail;
      await handle?.close();
      handle = undefined;
    },
  };
}
