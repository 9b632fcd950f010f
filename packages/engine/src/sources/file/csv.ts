/**
 * A small CSV line parser (RFC 4180 quoting: "a,""b""",c) with a configurable separator,
 * and separator sniffing. Records spanning several lines are not supported: a quoted field
 * left open at the end of a line is reported as an error naming the line.
 *
 * @example
 * const sep = sniffSeparator('time;flow;level');   // ';'
 * parseCsvLine('a;"b;c";d', ';')                   // ['a', 'b;c', 'd']
 */

export class CsvError extends Error {
  readonly code = 'E_CSV';
}

export function parseCsvLine(line: string, sep: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    if (i < n && line[i] === '"') {
      let field = '';
      i++;
      for (;;) {
        if (i >= n) throw new CsvError('a quoted field is not closed on this line');
        const ch = line[i];
        if (ch === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            i++;
            break;
          }
        } else {
          field += ch;
          i++;
        }
      }
      out.push(field);
      if (i < n && !line.startsWith(sep, i)) throw new CsvError(`unexpected text after a quoted field at column ${i + 1}`);
    } else {
      const next = line.indexOf(sep, i);
      const end = next === -1 ? n : next;
      out.push(line.slice(i, end).trim());
      i = end;
    }
    if (i >= n) break;
    i += sep.length;
    if (i >= n) {
      out.push('');
      break;
    }
  }
  return out;
}

const CANDIDATES = [',', ';', '\t', '|'];

/** Picks the separator that splits the header into the most fields (ties: comma first). */
export function sniffSeparator(header: string): string {
  let best = ',';
  let bestCount = 1;
  for (const c of CANDIDATES) {
    const count = header.split(c).length;
    if (count > bestCount) {
      best = c;
      bestCount = count;
    }
  }
  return best;
}

/** Parses a timestamp cell: ISO-8601 text, or epoch seconds / milliseconds as a number. */
export function parseTimestamp(cell: string): number | undefined {
  const t = cell.trim();
  if (t === '') return undefined;
  if (/^-?\d+(\.\d+)?$/.test(t)) {
    const x = Number(t);
    // Below 1e11 it can only be seconds (1e11 ms is 1973); above, milliseconds.
    return x < 1e11 ? Math.round(x * 1000) : Math.round(x);
  }
  // "2014-02-14 14:30:00" is not strict ISO; treat a space separator as UTC 'T'.
  const iso = /^\d{4}-\d{2}-\d{2} \d/.test(t) ? t.replace(' ', 'T') : t;
  const withZone = /T[\d:.]+$/.test(iso) ? `${iso}Z` : iso;
  const ms = Date.parse(withZone);
  return Number.isNaN(ms) ? undefined : ms;
}
