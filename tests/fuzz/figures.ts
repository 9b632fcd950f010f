/**
 * Tallies of fuzzed inputs, merged into data/reliability/fuzz.json by every fuzz file (they run
 * in parallel, so the merge holds a lock directory). docs/RELIABILITY.md quotes the figures.
 *
 * @example
 * const tally = fuzzTally('ingest'); tally.add('http: malformed JSON', 300); await tally.save();
 */
import { mkdir, readFile, rename, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FUZZ_FILE = join(dirname(fileURLToPath(import.meta.url)), '../../data/reliability/fuzz.json');

export function fuzzTally(suite: string): { add(what: string, n: number): void; save(): Promise<void> } {
  const counts = new Map<string, number>();
  return {
    add(what, n) {
      counts.set(what, (counts.get(what) ?? 0) + n);
    },
    async save() {
      await mkdir(dirname(FUZZ_FILE), { recursive: true });
      const lock = `${FUZZ_FILE}.lock`;
      for (let i = 0; ; i++) {
        try {
          await mkdir(lock);
          break;
        } catch (err) {
          // A lock left by a killed run is taken over after a few seconds.
          if (i > 100) break;
          if ((err as { code?: string }).code !== 'EEXIST') throw err;
          await new Promise((r) => setTimeout(r, 30));
        }
      }
      try {
        let doc: { updated?: string; suites: Record<string, Record<string, number>>; total_inputs?: number } = {
          suites: {},
        };
        try {
          doc = JSON.parse(await readFile(FUZZ_FILE, 'utf8')) as typeof doc;
        } catch {
          // first run, or an unreadable file: start again
        }
        doc.suites[suite] = Object.fromEntries(counts);
        doc.total_inputs = Object.values(doc.suites)
          .flatMap((s) => Object.values(s))
          .reduce((a, b) => a + b, 0);
        doc.updated = new Date().toISOString();
        const tmp = `${FUZZ_FILE}.tmp-${process.pid}`;
        await writeFile(tmp, `${JSON.stringify(doc, null, 2)}\n`);
        await rename(tmp, FUZZ_FILE);
      } finally {
        await rmdir(lock).catch(() => undefined);
      }
    },
  };
}
