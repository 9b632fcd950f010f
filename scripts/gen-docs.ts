// Generates docs/detectors.md and docs/pipeline.schema.json from the registries, so the docs
// cannot drift from the code (a test checks they are current). Run: node bin/run-ts.mjs scripts/gen-docs.ts
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderDetectorDocs, renderJsonSchema } from '../packages/engine/src/config/docs.ts';

const root = join(import.meta.dirname, '..');
await writeFile(join(root, 'docs/detectors.md'), renderDetectorDocs());
await writeFile(join(root, 'docs/pipeline.schema.json'), renderJsonSchema());
process.stdout.write('wrote docs/detectors.md and docs/pipeline.schema.json\n');
