import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAccessControl, loadUsersFile, roleAtLeast, setupAccess } from './access.ts';
import { hashPassword, isPasswordHash, verifyPassword } from './passwords.ts';

describe('passwords', () => {
  it('hashes with scrypt and a random salt, and verifies', async () => {
    const a = await hashPassword('s3cret pass');
    const b = await hashPassword('s3cret pass');
    expect(a).not.toBe(b);
    expect(isPasswordHash(a)).toBe(true);
    expect(a).not.toContain('s3cret');
    expect(await verifyPassword('s3cret pass', a)).toBe(true);
    expect(await verifyPassword('s3cret Pass', a)).toBe(false);
    expect(await verifyPassword('x', 'plain-text')).toBe(false);
    await expect(hashPassword('')).rejects.toMatchObject({ code: 'E_AUTH_PASSWORD' });
  });
});

describe('access control', () => {
  it('orders roles', () => {
    expect(roleAtLeast('admin', 'operator')).toBe(true);
    expect(roleAtLeast('viewer', 'operator')).toBe(false);
  });

  it('signs in, keeps sessions alive while used, expires idle ones, and throttles guessing', async () => {
    let t = 0;
    const ac = createAccessControl({
      users: [{ username: 'olga', role: 'operator', password: await hashPassword('pw-olga') }],
      sessionTtlMs: 1000,
      now: () => t,
    });
    expect(await ac.login('olga', 'wrong')).toBeUndefined();
    expect(await ac.login('nobody', 'pw-olga')).toBeUndefined();
    const s = await ac.login('olga', 'pw-olga');
    expect(s?.principal).toEqual({ name: 'olga', role: 'operator', via: 'session' });
    t = 900;
    expect(ac.fromSession(s!.token)?.name).toBe('olga');
    t = 1800; // 900 ms after the last use: still alive (sliding)
    expect(ac.fromSession(s!.token)?.name).toBe('olga');
    t = 3000;
    expect(ac.fromSession(s!.token)).toBeUndefined();
    const s2 = await ac.login('olga', 'pw-olga');
    ac.logout(s2!.token);
    expect(ac.fromSession(s2!.token)).toBeUndefined();
    for (let i = 0; i < 5; i++) await ac.login('olga', 'guess');
    expect(await ac.login('olga', 'pw-olga')).toBeUndefined(); // throttled
    t += 61_000;
    expect(await ac.login('olga', 'pw-olga')).toBeDefined();
  });

  it('creates API keys that only work as given', async () => {
    const ac = createAccessControl({ users: [] });
    const { key } = await ac.createApiKey('ci', 'viewer');
    expect(ac.fromApiKey(key)).toEqual({ name: 'key:ci', role: 'viewer', via: 'api_key' });
    expect(ac.fromApiKey(`${key}x`)).toBeUndefined();
  });
});

describe('setupAccess', () => {
  it('with nobody configured, generates an admin password once and keeps only its hash', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'retimuad-auth-'));
    const lines: string[] = [];
    const ac = await setupAccess({ dataDir: dir, env: {}, print: (l) => lines.push(l) });
    const pw = /one-time password (\S+)/.exec(lines[0] ?? '')?.[1];
    expect(pw).toBeDefined();
    expect(await ac.login('admin', pw!)).toBeDefined();
    const text = await readFile(join(dir, 'users.json'), 'utf8');
    expect(text).not.toContain(pw!);
    expect((await stat(join(dir, 'users.json'))).mode & 0o777).toBe(0o600);
    // Second start: the file exists, nothing is printed, the same password works.
    const again: string[] = [];
    const ac2 = await setupAccess({ dataDir: dir, env: {}, print: (l) => again.push(l) });
    expect(again).toEqual([]);
    expect(await ac2.login('admin', pw!)).toBeDefined();
    // A new API key is saved hashed.
    const { key } = await ac2.createApiKey('scraper', 'viewer');
    const saved = await loadUsersFile(join(dir, 'users.json'));
    expect(saved?.apiKeys?.map((k) => k.name)).toEqual(['scraper']);
    expect(JSON.stringify(saved)).not.toContain(key);
  });

  it('uses RETIMUAD_ADMIN_PASSWORD without writing it, and seeds test users', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'retimuad-auth-'));
    const lines: string[] = [];
    const ac = await setupAccess({
      dataDir: dir,
      env: { RETIMUAD_ADMIN_PASSWORD: 'chosen-pw' },
      print: (l) => lines.push(l),
      seed: {
        users: [{ username: 'vic', role: 'viewer', password: 'v-pw' }],
        apiKeys: [{ name: 't', role: 'operator', key: 'k-123' }],
      },
    });
    expect(lines).toEqual([]);
    expect(await ac.login('admin', 'chosen-pw')).toBeDefined();
    expect((await ac.login('vic', 'v-pw'))?.principal.role).toBe('viewer');
    expect(ac.fromApiKey('k-123')?.role).toBe('operator');
    await expect(stat(join(dir, 'users.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('rejects a users file with a plain password, naming the file and path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'retimuad-auth-'));
    const f = join(dir, 'users.json');
    await writeFile(f, JSON.stringify({ users: [{ username: 'x', role: 'admin', password: 'hunter2' }] }));
    await expect(loadUsersFile(f)).rejects.toThrow(`users file ${f} /users/0/password: expected a scrypt hash`);
    await writeFile(f, JSON.stringify({ users: [{ username: 'x', role: 'root', password: 'hunter2' }] }));
    await expect(loadUsersFile(f)).rejects.toMatchObject({ code: 'E_AUTH_USERS_FILE' });
  });
});
