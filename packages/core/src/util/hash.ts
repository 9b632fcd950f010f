/**
 * Small deterministic hashes for ids (incident ids, fingerprints). Not cryptographic.
 *
 * @example
 * fnv1a64Hex('plant-a|intake|sim-42') // '9f3c…' (16 hex digits)
 */

/** 64-bit FNV-1a over UTF-16 code units, as 16 hex digits. Uses two 32-bit halves to stay in int arithmetic. */
export function fnv1a64Hex(text: string): string {
  // FNV-1a 64: offset 0xcbf29ce484222325, prime 0x100000001b3 (= 2^40 + 0x1b3)
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (let i = 0; i < text.length; i++) {
    lo = (lo ^ text.charCodeAt(i)) >>> 0;
    // multiply (hi,lo) by prime: lo*0x1b3, hi*0x1b3 + lo<<8 (the 2^40 part lands in hi as lo * 2^8)
    const loMul = lo * 0x1b3;
    const newLo = loMul >>> 0;
    const carry = Math.floor(loMul / 0x100000000);
    const newHi = (Math.imul(hi, 0x1b3) + Math.imul(lo, 0x100) + carry) >>> 0;
    hi = newHi;
    lo = newLo;
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}
