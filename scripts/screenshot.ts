// Takes screenshots of the running dashboard with Debian's Chromium (no browser download).
// Usage: node bin/run-ts.mjs scripts/screenshot.ts URL OUT_PREFIX
import { chromium } from 'playwright-core';

const [url = 'http://127.0.0.1:8080/', out = 'docs/img/dashboard'] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
const errors: string[] = [];
page.on('pageerror', (e) => errors.push(e.message));
page.on('console', (m) => {
  if (m.type() === 'error') errors.push(m.text());
});
await page.goto(url, { waitUntil: 'load' });
await page.waitForTimeout(3000);
await page.screenshot({ path: `${out}.png`, fullPage: false });
process.stdout.write(`${out}.png\n${errors.length > 0 ? `page errors:\n${errors.join('\n')}\n` : 'no page errors\n'}`);
await browser.close();
