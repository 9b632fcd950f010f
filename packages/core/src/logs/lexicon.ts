/**
 * Token interning for the template miner: masked tokens become small integers, so templates are
 * Int32Arrays and similarity is integer compares. `scan` tokenises and masks a message without
 * cutting substrings on the hot path, and runs the masking rules once per distinct raw token:
 * words that masking leaves as they are walk an ASCII trie (each character checked once, exactly);
 * plain numbers are recognised while scanning; other values (IPs, hex, units, key=value) go
 * through a bounded open-addressing cache keyed by the token's hash and compared exactly. The
 * result is exactly `maskTokens(message)` interned token by token (a property test checks it).
 *
 * Ids: `(index << 1) | lt` where `lt` is 1 when the token starts with `<` (masks and `<*>`, which
 * the miner counts as parameters when equal). `<*>` is always id 1.
 *
 * @example
 * const lex = new Lexicon();
 * const n = lex.scan('port 40122 from 10.0.0.7'); // 4
 * lex.text(lex.buf[1]!); // '<NUM>'
 */
import { maskToken } from './mask.ts';

/** Id of the wildcard `<*>`. */
export const WILD_ID = 1;

/** Raw-token cache slots (a power of two); cleared when 5/8 full, which bounds its memory. */
const CACHE_SLOTS = 1 << 15;
const CACHE_LIMIT = (CACHE_SLOTS * 5) >> 3;
const CACHE_MASK = CACHE_SLOTS - 1;

/** Trie nodes: start small, grow by doubling up to this many, then start over (bounds memory). */
const TRIE_START = 1 << 8;
const TRIE_MAX = 1 << 15;
const ROOT = 1;

export class Lexicon {
  /** Token ids of the last `scan` (the first `n` entries are valid). */
  buf: Int32Array = new Int32Array(64);
  private readonly strs: string[] = [];
  private readonly dict = new Map<string, number>();
  // Word trie over ASCII for tokens that masking leaves as they are (no digit, `/` or `\`): the
  // vocabulary of the templates. `next[node << 7 | char]` is the child (0: none), `term[node]` the
  // token id ending there (0: none). Walking it checks each character once, exactly.
  private next = new Int32Array(TRIE_START << 7);
  private term = new Int32Array(TRIE_START);
  private nodes = ROOT + 1;
  // Cache for the other tokens (values that are not plain numbers, identifiers with digits, paths):
  // raw token → masked id, open addressing on the token's FNV-1a hash, the key compared exactly.
  private readonly hashes = new Int32Array(CACHE_SLOTS);
  /** 0 = empty slot (no id is 0: `<*>` is 1, other ids start at 2). */
  private readonly vals = new Int32Array(CACHE_SLOTS);
  private readonly keys: string[] = new Array<string>(CACHE_SLOTS).fill('');
  private cached = 0;
  readonly numId: number;
  readonly ipId: number;

  constructor() {
    this.intern('<*>');
    this.numId = this.intern('<NUM>');
    this.ipId = this.intern('<IP>');
  }

  /** Distinct tokens interned so far (the owner rebuilds the lexicon when it grows too large). */
  get size(): number {
    return this.strs.length;
  }

  /** The id of a (masked) token, interning it on first sight. */
  intern(s: string): number {
    let id = this.dict.get(s);
    if (id === undefined) {
      id = (this.strs.length << 1) | (s.charCodeAt(0) === 60 ? 1 : 0);
      this.strs.push(s);
      this.dict.set(s, id);
    }
    return id;
  }

  /** The token text of an id. */
  text(id: number): string {
    return this.strs[id >> 1]!;
  }

  /** Tokenises and masks `message` into `buf` (as `maskTokens` would, interned); returns the token count. */
  scan(message: string): number {
    const n = message.length;
    let buf = this.buf;
    let next = this.next;
    let term = this.term;
    let len = 0;
    let i = 0;
    for (;;) {
      let c = 0;
      while (i < n) {
        c = message.charCodeAt(i);
        if (c > 32 || (c !== 32 && (c < 9 || c > 13))) break;
        i++;
      }
      if (i >= n) break;
      const start = i;
      // Walk the trie while the token's characters lead somewhere.
      let s = ROOT;
      for (;;) {
        s = c < 128 ? next[(s << 7) | c]! : 0;
        if (++i >= n || s === 0) break;
        c = message.charCodeAt(i);
        if (c <= 32 && (c === 32 || (c >= 9 && c <= 13))) break;
      }
      let id = 0;
      if (s === 0) {
        // Not a known word: find the token's end; plain numbers, the most frequent values, need no cache.
        let digits = true;
        for (let j = start; j < i; j++) {
          const d = message.charCodeAt(j);
          if (d < 48 || d > 57) digits = false;
        }
        while (i < n) {
          c = message.charCodeAt(i);
          if (c <= 32 && (c === 32 || (c >= 9 && c <= 13))) break;
          if (c < 48 || c > 57) digits = false;
          i++;
        }
        if (digits) id = this.numId;
      } else id = term[s]!;
      if (id === 0) {
        id = this.slow(message, start, i);
        next = this.next;
        term = this.term;
      }
      if (len === buf.length) buf = this.grow();
      buf[len++] = id;
    }
    return len;
  }

  private grow(): Int32Array {
    const b = new Int32Array(this.buf.length * 2);
    b.set(this.buf);
    this.buf = b;
    return b;
  }

  /** Masked id of message[start, end) when the trie does not hold it. */
  private slow(msg: string, start: number, end: number): number {
    let h = -2128831035; // FNV-1a offset basis
    // Character classes seen: 1 digit, 2 dot, 4 slash or backslash, 8 other ASCII, 16 non-ASCII.
    let seen = 0;
    for (let i = start; i < end; i++) {
      const c = msg.charCodeAt(i);
      h = Math.imul(h ^ c, 16777619);
      seen |= c <= 57 && c >= 48 ? 1 : c === 46 ? 2 : c === 47 || c === 92 ? 4 : c < 128 ? 8 : 16;
    }
    if (seen === 1) return this.numId;
    if (seen === 3) {
      // Digits and dots only. With a digit at both ends nothing is peeled off, and maskToken gives
      // <IP> for four groups of 1-3 digits, else <NUM>; other shapes take the general path.
      if (msg.charCodeAt(start) !== 46 && msg.charCodeAt(end - 1) !== 46)
        return this.ipv4(msg, start, end) ? this.ipId : this.numId;
    }
    if ((seen & 21) === 0) {
      // Left as it is by masking, plain ASCII: a word for the trie.
      const id = this.intern(msg.slice(start, end));
      this.insert(msg, start, end, id);
      return id;
    }
    let slot = (h ^ (h >>> 15)) & CACHE_MASK;
    const len = end - start;
    for (;;) {
      const v = this.vals[slot]!;
      if (v === 0) break;
      if (this.hashes[slot] === h) {
        const k = this.keys[slot]!;
        if (k.length === len) {
          let j = 0;
          while (j < len && k.charCodeAt(j) === msg.charCodeAt(start + j)) j++;
          if (j === len) return v;
        }
      }
      slot = (slot + 1) & CACHE_MASK;
    }
    const raw = msg.slice(start, end);
    const masked = maskToken(raw);
    const id = this.intern(masked);
    if (masked === raw && seen < 16) {
      // Identifiers with digits that masking keeps (P-101, ssh2, m3/h) go to the trie too; values
      // that masking replaces (10.0.0.7:22, 0x1f) to this bounded cache, so that they do not fill the trie.
      this.insert(msg, start, end, id);
      return id;
    }
    if (this.cached >= CACHE_LIMIT) {
      this.vals.fill(0);
      this.keys.fill('');
      this.cached = 0;
      slot = (h ^ (h >>> 15)) & CACHE_MASK;
    }
    this.hashes[slot] = h;
    this.vals[slot] = id;
    this.keys[slot] = raw;
    this.cached++;
    return id;
  }

  /** Adds an ASCII word to the trie (starting it over when full). */
  private insert(msg: string, start: number, end: number, id: number): void {
    if (this.nodes + (end - start) > TRIE_MAX) {
      this.next.fill(0);
      this.term.fill(0);
      this.nodes = ROOT + 1;
    }
    let s = ROOT;
    for (let i = start; i < end; i++) {
      const at = (s << 7) | msg.charCodeAt(i);
      let t = this.next[at]!;
      if (t === 0) {
        t = this.nodes++;
        if (t >= this.term.length) {
          const next = new Int32Array(this.next.length * 2);
          next.set(this.next);
          this.next = next;
          const term = new Int32Array(this.term.length * 2);
          term.set(this.term);
          this.term = term;
        }
        this.next[(s << 7) | msg.charCodeAt(i)] = t;
      }
      s = t;
    }
    this.term[s] = id;
  }

  /** Four groups of 1-3 digits separated by single dots (the token holds only digits and dots). */
  private ipv4(msg: string, start: number, end: number): boolean {
    let dots = 0;
    let run = 0;
    for (let i = start; i < end; i++) {
      if (msg.charCodeAt(i) === 46) {
        if (run === 0 || ++dots > 3) return false;
        run = 0;
      } else if (++run > 3) return false;
    }
    return dots === 3 && run > 0;
  }
}
