/**
 * Password and API-key hashing. Passwords use scrypt with a random salt, stored as one string
 * `scrypt$N$r$p$salt$hash` (base64url) so the cost can be raised later without breaking old
 * hashes; API keys are long random secrets, so a SHA-256 of them suffices (`sha256$hex`).
 *
 * @example
 * const stored = await hashPassword('correct horse');
 * await verifyPassword('correct horse', stored); // true
 * const { key, hash } = newApiKey();              // give `key` to the machine, keep `hash`
 */
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { AuthError } from './errors.ts';

/** Interactive-login cost: about 50 ms and 16 MiB per hash on a small machine. */
const DEFAULT = { N: 16384, r: 8, p: 1 } as const;
const KEY_LEN = 32;

function scryptAsync(pw: string, salt: Buffer, len: number, o: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(pw.normalize('NFC'), salt, len, { ...o, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(
  password: string,
  cost: { N: number; r: number; p: number } = DEFAULT,
): Promise<string> {
  if (password.length === 0) throw new AuthError('E_AUTH_PASSWORD', 'a password must not be empty');
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, KEY_LEN, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** True when the password matches; false for a wrong password or an unreadable stored hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((x) => Number.isInteger(x) && x > 0)) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const want = Buffer.from(parts[5]!, 'base64url');
  if (want.length < 16) return false;
  const got = await scryptAsync(password, salt, want.length, { N, r, p });
  return timingSafeEqual(got, want);
}

/** Checks the shape of a stored password hash (for loading a users file). */
export function isPasswordHash(s: string): boolean {
  return /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]{16,}\$[A-Za-z0-9_-]{20,}$/.test(s);
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** A new API key (`rk_` + 32 random bytes) and the hash to store for it. */
export function newApiKey(): { key: string; hash: string } {
  const key = `rk_${randomBytes(32).toString('base64url')}`;
  return { key, hash: `sha256$${sha256Hex(key)}` };
}

/** A generated password for the first admin: 18 random bytes, URL-safe. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/** Constant-time comparison of two hex digests of equal length. */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
