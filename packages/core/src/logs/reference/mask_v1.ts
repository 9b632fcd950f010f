/**
 * Tokenising and masking as they were before the interned-token rewrite (git e19dfd1, frozen copy)
 * for the reference miner `miner_v1.ts`. Do not optimise this file.
 *
 * @example
 * maskTokens('from 10.0.0.7 port 22'); // ['from', '<IP>', 'port', '<NUM>']
 */
/** Splits on runs of whitespace (space, tab, CR, LF, FF, VT). Empty input gives no tokens. */
export function tokenize(message: string): string[] {
  const out: string[] = [];
  const n = message.length;
  let start = -1;
  for (let i = 0; i < n; i++) {
    const c = message.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13);
    if (space) {
      if (start >= 0) {
        out.push(message.slice(start, i));
        start = -1;
      }
    } else if (start < 0) start = i;
  }
  if (start >= 0) out.push(message.slice(start));
  return out;
}

/** Tokenises and masks a message (one pass: tokens without digits or slashes are not looked at twice). */
export function maskTokens(message: string): string[] {
  const out: string[] = [];
  const n = message.length;
  let start = -1;
  let interesting = false;
  for (let i = 0; i < n; i++) {
    const c = message.charCodeAt(i);
    if (c === 32 || (c >= 9 && c <= 13)) {
      if (start >= 0) {
        const tok = message.slice(start, i);
        out.push(interesting ? maskToken(tok) : tok);
        start = -1;
      }
    } else {
      if (start < 0) {
        start = i;
        interesting = false;
      }
      if ((c >= 47 && c <= 57) || c === 92) interesting = true;
    }
  }
  if (start >= 0) {
    const tok = message.slice(start);
    out.push(interesting ? maskToken(tok) : tok);
  }
  return out;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isHexLetter = (c: number): boolean => (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
const isAlpha = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90);

/** Leading characters peeled off before classifying: brackets and quotes. */
const isOpen = (c: number): boolean => c === 40 || c === 91 || c === 123 || c === 34 || c === 39 || c === 60;
/** Trailing punctuation peeled off: `,;:.)]}"'>!?`. */
const isClose = (c: number): boolean =>
  c === 44 ||
  c === 59 ||
  c === 58 ||
  c === 46 ||
  c === 41 ||
  c === 93 ||
  c === 125 ||
  c === 34 ||
  c === 39 ||
  c === 62 ||
  c === 33 ||
  c === 63;

/**
 * Masks one token. Tokens without a digit, `/` or `\` are returned unchanged (the common case,
 * checked first). Identifiers that mix letters and digits (`P-101`, `ssh2`, `eth0`) are kept:
 * they usually name a thing and belong to the template; the miner still generalises them when
 * they vary.
 */
export function maskToken(tok: string): string {
  const n = tok.length;
  let interesting = false;
  for (let i = 0; i < n; i++) {
    const c = tok.charCodeAt(i);
    if (isDigit(c) || c === 47 || c === 92) {
      interesting = true;
      break;
    }
  }
  if (!interesting) return tok;
  // key=value: keep the key, mask the value.
  const eq = tok.indexOf('=');
  if (eq > 0 && eq < n - 1) {
    const v = tok.slice(eq + 1);
    const m = maskToken(v);
    return m === v ? tok : tok.slice(0, eq + 1) + m;
  }
  let a = 0;
  let b = n;
  while (a < b && isOpen(tok.charCodeAt(a))) a++;
  while (b > a && isClose(tok.charCodeAt(b - 1))) b--;
  if (a >= b) return tok;
  const core = a === 0 && b === n ? tok : tok.slice(a, b);
  const kind = classify(core);
  if (kind === null) return tok;
  return a === 0 && b === n ? kind : tok.slice(0, a) + kind + tok.slice(b);
}

/** The mask for a bare token, or null when it is not a value. */
function classify(s: string): string | null {
  const n = s.length;
  const c0 = s.charCodeAt(0);
  if (c0 === 47 || (c0 === 126 && s.charCodeAt(1) === 47)) return n > 1 ? '<PATH>' : null;
  if (n > 2 && isAlpha(c0) && s.charCodeAt(1) === 58 && s.charCodeAt(2) === 92) return '<PATH>';
  if (s.includes('://')) return '<URL>';
  let digits = 0;
  let dots = 0;
  let colons = 0;
  let hexLetters = 0;
  let dashes = 0;
  let letters = 0;
  let other = 0;
  let firstLetterAt = -1;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) digits++;
    else if (c === 46) dots++;
    else if (c === 58) colons++;
    else if (c === 45) dashes++;
    else if (isHexLetter(c)) {
      hexLetters++;
      letters++;
      if (firstLetterAt < 0) firstLetterAt = i;
    } else if (isAlpha(c)) {
      letters++;
      if (firstLetterAt < 0) firstLetterAt = i;
    } else other++;
  }
  if (digits === 0) return null;
  if (letters === 0 && other === 0) {
    // Only digits and . : - (and a leading sign): numbers, IPs, times, dates, versions.
    if (dots === 3 && colons <= 1 && dashes === 0 && isIpv4(s)) return '<IP>';
    return '<NUM>';
  }
  // ISO 8601 date-times: 2024-01-31T10:00:00Z, 2024-01-31T10:00:00.123+01:00.
  if (n >= 16 && s.charCodeAt(4) === 45 && s.charCodeAt(10) === 84 && isDigit(c0)) return '<TS>';
  // 0x1f3a
  if (c0 === 48 && n > 2 && (s.charCodeAt(1) === 120 || s.charCodeAt(1) === 88)) {
    for (let i = 2; i < n; i++) {
      const c = s.charCodeAt(i);
      if (!isDigit(c) && !isHexLetter(c)) return null;
    }
    return '<HEX>';
  }
  // Only hex digits and dashes: hashes, UUIDs, MAC-less ids (at least 8 hex characters, so words like "add1" stay).
  if (letters === hexLetters && other === 0 && dots === 0 && colons === 0 && digits + hexLetters >= 8) {
    return dashes === 4 && n === 36 ? '<UUID>' : '<HEX>';
  }
  // MAC or IPv6: hex groups separated by colons.
  if (letters === hexLetters && other === 0 && dots === 0 && colons >= 2 && dashes === 0) return '<IP>';
  // A number with a short unit: 30s, 12ms, 4.5kB, 80%.
  if (firstLetterAt > 0 && other <= 1 && n - firstLetterAt <= 3) {
    let ok = true;
    for (let i = 0; i < firstLetterAt; i++) {
      const c = s.charCodeAt(i);
      if (!isDigit(c) && c !== 46 && !(i === 0 && c === 45)) ok = false;
    }
    for (let i = firstLetterAt; i < n; i++) if (!isAlpha(s.charCodeAt(i)) && s.charCodeAt(i) !== 37) ok = false;
    if (ok && isDigit(s.charCodeAt(firstLetterAt - 1))) return `<NUM>${s.slice(firstLetterAt)}`;
  }
  if (other === 1 && s.charCodeAt(n - 1) === 37 && letters === 0) return '<NUM>%';
  return null;
}

function isIpv4(s: string): boolean {
  let parts = 0;
  let len = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) {
      if (++len > 3) return false;
    } else if (c === 46 || c === 58) {
      if (len === 0) return false;
      parts++;
      len = 0;
      if (c === 58) return parts === 4 && i < n - 1;
    } else return false;
  }
  return parts === 3 && len > 0;
}
