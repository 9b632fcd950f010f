#!/usr/bin/env node
// Writes the Grafana dashboards (deploy/grafana/dashboards/*.json) and the Kibana saved objects
// (deploy/kibana/saved-objects.ndjson) from their TypeScript definitions, which are built from the
// sinks' schema constants:
//   packages/engine/src/sinks/influxdb/grafana.ts, packages/engine/src/sinks/elasticsearch/kibana.ts
// Run: node deploy/grafana/generate.mjs   (a test fails when the committed files are stale)
import { register } from 'tsx/esm/api';
import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

register();
const root = fileURLToPath(new URL('../../', import.meta.url));
const { renderDeployFiles } = await import(`${root}packages/engine/src/sinks/influxdb/deploy-files.ts`);
// Formatted as the repository's prettier config wants, so `prettier --check .` stays clean.
const prettier = await import('prettier');
for (const [path, text] of Object.entries(renderDeployFiles())) {
  const file = `${root}${path}`;
  mkdirSync(file.replace(/\/[^/]*$/, ''), { recursive: true });
  const formatted = path.endsWith('.json')
    ? await prettier.format(text, { ...(await prettier.resolveConfig(file)), filepath: file })
    : text;
  writeFileSync(file, formatted);
  process.stdout.write(`wrote ${path}\n`);
}
