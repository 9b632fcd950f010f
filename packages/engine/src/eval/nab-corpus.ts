/**
 * Reads the NAB corpus from disk: data files, label windows, profiles and published detector
 * results. Paths always come from the caller (or RETIMUAD_NAB_DIR); nothing is hard-coded.
 *
 * @example
 * const corpus = await loadNabCorpus(defaultNabDir());
 * corpus.files[0].name;      // "artificialNoAnomaly/art_daily_no_noise.csv"
 * const numenta = await readNabDetectorScores(corpus, 'numenta'); // Map name → Float64Array
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  NabError,
  parseNabProfiles,
  planNabFile,
  type NabFilePlan,
  type NabProfiles,
} from '../../../core/src/eval/nab/index.ts';

export interface NabDataFile {
  /** NAB key, "category/file.csv". */
  readonly name: string;
  /** Timestamps as written in the file (kept verbatim for result CSVs). */
  readonly timestampText: readonly string[];
  /** Epoch ms (NAB timestamps carry no zone; read as UTC). */
  readonly timestamps: Float64Array;
  readonly valueText: readonly string[];
  readonly values: Float64Array;
  /** Windows in epoch ms, inclusive. */
  readonly windows: ReadonlyArray<readonly [number, number]>;
  readonly plan: NabFilePlan;
}

export interface NabCorpus {
  readonly dataDir: string;
  readonly profiles: NabProfiles;
  /** Sorted by name, so every run visits files in the same order. */
  readonly files: readonly NabDataFile[];
}

/** RETIMUAD_NAB_DIR, else `<repo>/../shared/datasets/nab` (where CI keeps it beside the clone). */
export function defaultNabDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const fromEnv = env['RETIMUAD_NAB_DIR'];
  if (fromEnv) return resolve(fromEnv);
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
  return resolve(repo, '../shared/datasets/nab');
}

const TS_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;

/** Parses NAB's "YYYY-MM-DD HH:MM:SS[.ffffff]" as UTC epoch ms; throws E_NAB_INPUT otherwise. */
export function parseNabTimestamp(text: string, where = 'timestamp'): number {
  const m = TS_RE.exec(text.trim());
  if (!m) throw new NabError('E_NAB_INPUT', `${where}: "${text}" is not a NAB timestamp (YYYY-MM-DD HH:MM:SS[.ffffff])`);
  const [, y, mo, d, h, mi, s, frac] = m;
  const ms = frac ? Number(frac.padEnd(3, '0').slice(0, 3)) : 0;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    throw new NabError('E_NAB_INPUT', `cannot read ${what} at ${path}`, { cause });
  }
}

async function readJson(path: string, what: string): Promise<unknown> {
  const text = await readText(path, what);
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new NabError('E_NAB_INPUT', `${path}: ${what} is not valid JSON`, { cause });
  }
}

/** A NAB CSV: header row, comma separated, no quoting (NAB files never need it). */
export interface NabCsv {
  readonly header: readonly string[];
  readonly rows: ReadonlyArray<readonly string[]>;
}

export function parseNabCsv(text: string, where: string): NabCsv {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const head = lines.shift();
  if (head === undefined) throw new NabError('E_NAB_INPUT', `${where}: empty file, expected a header row`);
  const header = head.split(',');
  const rows = lines.map((line, k) => {
    const cells = line.split(',');
    if (cells.length !== header.length) {
      throw new NabError('E_NAB_INPUT', `${where}:${k + 2}: ${cells.length} cells, header has ${header.length}`);
    }
    return cells;
  });
  return { header, rows };
}

function column(csv: NabCsv, name: string, where: string): number {
  const k = csv.header.indexOf(name);
  if (k < 0) throw new NabError('E_NAB_INPUT', `${where}: no "${name}" column (header: ${csv.header.join(',')})`);
  return k;
}

function parseWindows(raw: unknown, path: string): Map<string, Array<[number, number]>> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new NabError('E_NAB_WINDOWS', `${path}: expected an object { "category/file.csv": [[start, end], ...] }`);
  }
  const out = new Map<string, Array<[number, number]>>();
  for (const [name, list] of Object.entries(raw as Record<string, unknown>)) {
    if (!Array.isArray(list)) throw new NabError('E_NAB_WINDOWS', `${path}: "${name}" is not a list of windows`);
    out.set(
      name,
      list.map((pair: unknown, k) => {
        if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
          throw new NabError('E_NAB_WINDOWS', `${path}: "${name}" window ${k}: expected ["start", "end"]`);
        }
        const where = `${path}: "${name}" window ${k}`;
        return [parseNabTimestamp(pair[0], where), parseNabTimestamp(pair[1], where)];
      }),
    );
  }
  return out;
}

/** Loads every file named in labels/combined_windows.json, with its plan, and the profiles. */
export async function loadNabCorpus(dataDir: string, options: { files?: readonly string[] } = {}): Promise<NabCorpus> {
  const windowsPath = join(dataDir, 'labels', 'combined_windows.json');
  const profilesPath = join(dataDir, 'config', 'profiles.json');
  const windows = parseWindows(await readJson(windowsPath, 'label windows'), windowsPath);
  const profiles = parseNabProfiles(await readJson(profilesPath, 'profiles'), profilesPath);
  const names = [...(options.files ?? windows.keys())].sort();
  const files = await Promise.all(
    names.map(async (name): Promise<NabDataFile> => {
      const fileWindows = windows.get(name);
      if (!fileWindows) throw new NabError('E_NAB_INPUT', `${windowsPath}: no entry for "${name}"`);
      const path = join(dataDir, 'data', name);
      const csv = parseNabCsv(await readText(path, 'NAB data file'), path);
      const tCol = column(csv, 'timestamp', path);
      const vCol = column(csv, 'value', path);
      const n = csv.rows.length;
      const timestampText: string[] = new Array<string>(n);
      const valueText: string[] = new Array<string>(n);
      const timestamps = new Float64Array(n);
      const values = new Float64Array(n);
      csv.rows.forEach((cells, i) => {
        const t = cells[tCol]!;
        const v = cells[vCol]!;
        timestampText[i] = t;
        valueText[i] = v;
        timestamps[i] = parseNabTimestamp(t, `${path}:${i + 2}`);
        const x = Number(v);
        if (v.trim() === '' || !Number.isFinite(x)) throw new NabError('E_NAB_INPUT', `${path}:${i + 2}: value "${v}" is not a finite number`);
        values[i] = x;
      });
      let plan: NabFilePlan;
      try {
        plan = planNabFile(timestamps, fileWindows);
      } catch (cause) {
        throw new NabError('E_NAB_WINDOWS', `${name}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
      }
      return { name, timestampText, timestamps, valueText, values, windows: fileWindows, plan };
    }),
  );
  return { dataDir, profiles, files };
}

/** Path of a detector's result file, NAB layout: results/<det>/<category>/<det>_<file>.csv. */
export function nabResultPath(root: string, detector: string, name: string): string {
  const slash = name.lastIndexOf('/');
  return join(root, name.slice(0, slash + 1), `${detector}_${name.slice(slash + 1)}`);
}

/**
 * Reads the `anomaly_score` column of a detector's stored NAB results for every corpus file.
 * `resultsDir` defaults to `<dataDir>/results/<detector>`.
 */
export async function readNabDetectorScores(
  corpus: NabCorpus,
  detector: string,
  resultsDir: string = join(corpus.dataDir, 'results', detector),
): Promise<Map<string, Float64Array>> {
  const entries = await Promise.all(
    corpus.files.map(async (f): Promise<[string, Float64Array]> => {
      const path = nabResultPath(resultsDir, detector, f.name);
      const csv = parseNabCsv(await readText(path, `${detector} results`), path);
      const k = column(csv, 'anomaly_score', path);
      if (csv.rows.length !== f.plan.rows) {
        throw new NabError('E_NAB_SCORES', `${path}: ${csv.rows.length} rows, data file has ${f.plan.rows}`);
      }
      const scores = Float64Array.from(csv.rows, (cells) => Number(cells[k]));
      return [f.name, scores];
    }),
  );
  return new Map(entries);
}
