import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fullConfigSchema, renderDetectorDocs, renderJsonSchema } from './docs.ts';

const root = join(import.meta.dirname, '../../../..');

describe('generated docs', () => {
  it('docs/detectors.md and docs/pipeline.schema.json are current (regenerate: node bin/run-ts.mjs scripts/gen-docs.ts)', async () => {
    expect(await readFile(join(root, 'docs/detectors.md'), 'utf8')).toBe(renderDetectorDocs());
    expect(await readFile(join(root, 'docs/pipeline.schema.json'), 'utf8')).toBe(renderJsonSchema());
  });

  it('the JSON Schema accepts the shipped example configs', async () => {
    const { Value } = await import('@sinclair/typebox/value');
    const { parse } = await import('yaml');
    await import('../../../core/src/schema/formats.ts');
    const schema = fullConfigSchema();
    for (const f of ['examples/plant.yaml', 'examples/score.yaml', 'examples/nab.yaml']) {
      const doc = Value.Default(schema, parse(await readFile(join(root, f), 'utf8')) as unknown);
      expect([...Value.Errors(schema, doc)].map((e) => `${f}${e.path}: ${e.message}`)).toEqual([]);
    }
  });
});
