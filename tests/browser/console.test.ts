// The operator console in a real browser (Debian's Chromium driven by playwright-core) against
// the real embedded system started in-process: simulator at max speed with a scripted intruder
// → detectors → correlator → DuckDB → API/dashboard. Screenshots of each page go to
// test-results/screenshots/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Incident } from '../../packages/core/src/schema/events.ts';
import { startSystem, type RunningSystem } from '../../packages/engine/src/cli/run.ts';

const CHROMIUM = process.env['RETIMUAD_CHROMIUM'] ?? '/usr/bin/chromium';
const SHOTS = join(import.meta.dirname, '../../test-results/screenshots');
const API_KEY = 'rk_browser-test-key-0123456789abcdef';
const USERS = {
  olga: { role: 'operator' as const, password: 'olga-test-pw' },
  vic: { role: 'viewer' as const, password: 'vic-test-pw' },
};
/** Simulated seconds: the intruder crosses the yard at 150 s, after the detectors warmed up. */
const SIM_SECS = 330;
/**
 * 25× real time (about 13 s) rather than 'max': at max speed the simulation can end before the
 * browser has signed in, and then there is nothing left to watch arrive live.
 */
const SPEED = 25;

let dir: string;
let sys: RunningSystem;
let browser: Browser;
let simDone = false;
const contexts: BrowserContext[] = [];

async function config(): Promise<string> {
  const file = join(dir, 'plant.yaml');
  const base = await readFile(join(import.meta.dirname, '../../examples/plant.yaml'), 'utf8');
  // The simulated period ends about now, so "last 5 minutes" views show it.
  const start = new Date(Date.now() - SIM_SECS * 1000).toISOString();
  const text = base
    .replace('data_dir: ../data', `data_dir: ${dir}/data`)
    .replace(
      'speed: realtime',
      `speed: ${SPEED}\n    duration_secs: ${SIM_SECS}\n    start_time: ${start}\n    schedule: [{ scenario: intruder, at_secs: 150, duration_secs: 90 }]`,
    )
    .replace('  - id: console\n    type: console\n', '')
    .replace('port: 8080', 'port: 0')
    .replaceAll('../models/', `${join(import.meta.dirname, '../../models')}/`);
  await writeFile(file, text);
  return file;
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${sys.url}${path}`, { headers: { authorization: `Bearer ${API_KEY}` } });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function signedInPage(user: keyof typeof USERS): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  contexts.push(ctx);
  const page = await ctx.newPage();
  page.on('pageerror', (err) => {
    throw err;
  });
  await page.goto(`${sys.url}/`);
  await page.fill('#login-user', user);
  await page.fill('#login-password', USERS[user].password);
  await page.click('#login-submit');
  await page.waitForSelector('#user-name');
  return page;
}

/** The viewport grows to the page's height first, so the sticky header stays at the top of the picture. */
async function shot(page: Page, name: string): Promise<void> {
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: 1400, height: Math.min(4000, Math.max(900, height)) });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'retimuad-browser-'));
  await mkdir(SHOTS, { recursive: true });
  sys = await startSystem({
    config: await config(),
    print: () => undefined,
    auth: {
      users: Object.entries(USERS).map(([username, u]) => ({ username, ...u })),
      apiKeys: [{ name: 'test', role: 'viewer', key: API_KEY }],
    },
  });
  void sys.pipeline.done.then(() => (simDone = true));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await sys?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 30_000);

describe('operator console in Chromium', () => {
  let incident: Incident;

  it('asks for sign-in, then shows the plant overview updating live', async () => {
    const ctx = await browser.newContext();
    contexts.push(ctx);
    const anon = await ctx.newPage();
    await anon.goto(`${sys.url}/`);
    await anon.waitForSelector('#login-user');
    await anon.fill('#login-user', 'olga');
    await anon.fill('#login-password', 'wrong');
    await anon.click('#login-submit');
    await expect.poll(() => anon.textContent('form.login .error')).toMatch(/wrong username or password/);
    await shot(anon, 'sign-in');

    const page = await signedInPage('olga');
    await page.waitForFunction(() => document.querySelectorAll('.asset').length >= 10, null, { timeout: 20_000 });
    // Live: values on the asset cards change (over the event stream, no reload) while the simulator runs.
    const values = (): Promise<string[]> => page.locator('.asset .v').allTextContents();
    const first = await values();
    expect(simDone, 'the simulation is still running while the page watches').toBe(false);
    await expect
      .poll(async () => (await values()).filter((v, i) => v !== first[i]).length, { timeout: 20_000 })
      .toBeGreaterThan(3);
    expect(await page.textContent('#live-text')).toBe('live');
    // Control-room assets (PLCs, SCADA, HMI) only log, so their stage appears with the periodic reload.
    await expect
      .poll(() => page.locator('.stages section h3').allTextContents(), { timeout: 20_000 })
      .toEqual(expect.arrayContaining(['intake', 'control']));
    await sys.pipeline.done;
  }, 90_000);

  it('the scripted intruder appears as an incident, listed in the console', async () => {
    const all = await api<Incident[]>('/api/incidents?limit=200');
    const found = all.find((i) => i.assets.includes('cam-intake') && i.modalities.includes('image'));
    expect(found, JSON.stringify(all.map((i) => [i.assets, i.modalities]))).toBeDefined();
    incident = found!;
    const page = await signedInPage('olga');
    await page.goto(`${sys.url}/#/overview`);
    await page.waitForSelector('.asset.incident');
    await shot(page, 'overview');
    await page.goto(`${sys.url}/#/incidents`);
    await page.waitForSelector('tbody tr.clickable');
    expect(await page.locator('tbody').textContent()).toContain('cam-intake');
    await shot(page, 'incidents');
  }, 60_000);

  it("its page shows all four modalities side by side, and an operator's acknowledgement is recorded with who and when", async () => {
    const page = await signedInPage('olga');
    await page.goto(`${sys.url}/#/incidents/${encodeURIComponent(incident.id)}`);
    for (const id of ['ev-signal', 'ev-logs', 'ev-audio', 'ev-image'])
      await page.waitForSelector(`#${id}[data-ready]`, { timeout: 20_000 });
    // Signals: a uPlot chart per channel.
    expect(await page.locator('#ev-signal .uplot canvas').count()).toBeGreaterThan(0);
    // Logs: the HMI login of the intruder, as text.
    expect(await page.locator('#ev-logs .log-line').count()).toBeGreaterThan(0);
    // Audio: playable clip and a spectrogram computed in the page.
    expect(await page.locator('#ev-audio audio').getAttribute('src')).toMatch(/^\/api\/blobs\/[0-9a-f]{64}$/);
    expect(Number(await page.locator('#ev-audio canvas.spectrogram').getAttribute('data-frames'))).toBeGreaterThan(10);
    // Camera: the frame and a heat map showing that something changed (the person).
    await page.waitForSelector('#ev-image img');
    const changedPct = Number(await page.locator('#ev-image canvas.heatmap').getAttribute('data-changed-pct'));
    expect(changedPct).toBeGreaterThan(0);
    await shot(page, 'incident');

    expect(await page.isDisabled('#act-acknowledge')).toBe(false);
    await page.click('#act-acknowledge');
    await expect.poll(() => page.textContent('#handling')).toBe('acknowledged by olga');
    // A hostile comment stays text.
    await page.fill('#comment', '<img src=x onerror="window.__pwned=1">checked the yard');
    await page.click('#act-comment');
    await expect.poll(() => page.locator('#timeline q').count()).toBe(1);
    expect(await page.locator('#timeline q').textContent()).toBe(
      '<img src=x onerror="window.__pwned=1">checked the yard',
    );
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('#timeline img').count()).toBe(0);
    await shot(page, 'incident-acknowledged');

    const trail = await api<Array<{ action: string; actor: string; time: number }>>(
      `/api/incidents/${encodeURIComponent(incident.id)}/actions`,
    );
    expect(trail.map((a) => [a.action, a.actor])).toEqual([
      ['acknowledge', 'olga'],
      ['comment', 'olga'],
    ]);
    expect(Math.abs(trail[0]!.time - Date.now())).toBeLessThan(60_000);
  }, 60_000);

  it('a viewer sees the incident but cannot acknowledge: the button is disabled and the API answers 403', async () => {
    const page = await signedInPage('vic');
    await page.goto(`${sys.url}/#/incidents/${encodeURIComponent(incident.id)}`);
    await page.waitForSelector('#act-acknowledge');
    expect(await page.isDisabled('#act-acknowledge')).toBe(true);
    expect(await page.isDisabled('#act-resolve')).toBe(true);
    expect(await page.textContent('#handling')).toBe('acknowledged by olga');
    const status = await page.evaluate(async (id) => {
      const r = await fetch(`/api/incidents/${encodeURIComponent(id)}/actions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'acknowledge' }),
      });
      return r.status;
    }, incident.id);
    expect(status).toBe(403);
    await shot(page, 'incident-viewer');
    await page.goto(`${sys.url}/#/incidents`);
    await expect
      .poll(() => page.locator('td.handling-cell').allTextContents())
      .toContainEqual(expect.stringMatching(/^acknowledged by olga · /));
  }, 60_000);

  it('signals, logs and health pages render (screenshots)', async () => {
    const page = await signedInPage('olga');
    await page.goto(`${sys.url}/#/signals/${encodeURIComponent(incident.site)}/cam-intake`);
    await page.waitForSelector('.uplot canvas', { timeout: 15_000 });
    await shot(page, 'signals');
    // Zoom: dragging across one chart narrows every chart of the asset.
    const over = page.locator('.uplot .u-over').first();
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => page.textContent('.toolbar .muted')).toMatch(/^zoomed to /);
    // A chosen time range: the incident's window.
    const local = (ms: number): string =>
      new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await page.fill('#range-from', local(incident.startTime - 120_000));
    await page.fill('#range-to', local((incident.endTime ?? incident.lastTime) + 120_000));
    await page.click('#range-apply');
    await expect.poll(() => page.textContent('.toolbar .muted')).toMatch(/anomalies$/);
    expect(await page.textContent('.toolbar .muted')).not.toMatch(/now/);

    // Logs: search by text, highlighted; rare/new templates listed.
    await page.goto(`${sys.url}/#/logs`);
    await page.waitForSelector('tbody tr td');
    await page.fill('input[type=search]', 'login');
    await expect.poll(() => page.locator('tbody mark').count()).toBeGreaterThan(0);
    expect((await page.locator('tbody mark').first().textContent())?.toLowerCase()).toBe('login');
    expect(await page.locator('#log-templates li code').count()).toBeGreaterThan(0);
    await shot(page, 'logs');
    await page.goto(`${sys.url}/#/health`);
    await page.waitForSelector('.panel');
    // Detector and model status: every configured detector is listed with its keys and updates.
    await page.waitForSelector('td:text-is("signal-z")');
    expect(await page.locator('td:text-is("pump-audio-ae")').count()).toBe(1);
    await shot(page, 'health');
  }, 60_000);

  it('analytics shows histograms with outlier bins, trends with drift and cluster scatters for the range', async () => {
    // The whole simulated period is stored, so every asset has its clustering windows.
    await sys.pipeline.done;
    const page = await signedInPage('olga');
    await page.goto(`${sys.url}/#/analytics`);
    await page.waitForSelector('#analytics-out[data-ready]', { timeout: 30_000 });
    await page.waitForSelector('svg.histogram rect.bin', { state: 'attached' });
    await page.waitForSelector('svg.trend path.rolling', { state: 'attached' });
    await page.waitForSelector('svg.scatter .pt', { state: 'attached' });
    const assets = await page.locator('section.analytics-asset').count();
    expect(assets).toBeGreaterThan(1);
    expect(await page.locator('svg.histogram').count()).toBeGreaterThan(assets);
    expect(await page.locator('svg.trend').count()).toBeGreaterThan(assets);
    expect(await page.locator('svg.scatter').count()).toBeGreaterThan(0);
    expect(await page.locator('table.stats tbody tr').count()).toBeGreaterThan(assets);
    // The findings panel lists what the charts mark (or says there is nothing).
    expect(await page.textContent('#analytics-findings h3')).toMatch(/^Batch findings \(\d+\)$/);
    await shot(page, 'analytics');
    // One asset only: the table and charts narrow to it.
    const one = (await page.locator('section.analytics-asset').last().getAttribute('data-asset'))!;
    await page.selectOption('#an-asset', one);
    await expect.poll(() => page.locator('section.analytics-asset').count(), { timeout: 20_000 }).toBe(1);
    expect(await page.getAttribute('section.analytics-asset', 'data-asset')).toBe(one);
    // The README's picture is refreshed only on request, so a test run never dirties the work tree.
    if (process.env['RETIMUAD_UPDATE_DOC_IMAGES'] === '1') {
      await mkdir(join(import.meta.dirname, '../../docs/img'), { recursive: true });
      await copyFile(join(SHOTS, 'analytics.png'), join(import.meta.dirname, '../../docs/img/console-analytics.png'));
    }
  }, 90_000);
});
