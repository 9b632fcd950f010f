import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { detectorRegistry } from '../detectors/registry.ts';
import { resolveParams } from '../detectors/params.ts';

/** Finds the detector entry with `type` in a parsed YAML example (a list, a single entry or nested). */
function entryOf(doc: unknown, type: string): Record<string, unknown> | undefined {
  if (doc === null || typeof doc !== 'object') return undefined;
  if ((doc as { type?: unknown }).type === type) return doc as Record<string, unknown>;
  for (const v of Object.values(doc)) {
    const e = entryOf(v, type);
    if (e) return e;
  }
  return undefined;
}

describe('detector registry', () => {
  const entries = Object.entries(detectorRegistry);

  it('is not empty and maps each type name to the def of that type', () => {
    expect(entries.length).toBeGreaterThan(0);
    for (const [type, def] of entries) expect(def.type, `registry key ${type}`).toBe(type);
  });

  it.each(entries.map(([type]) => type))("%s: the example's params resolve and init succeeds", (type) => {
    const def = detectorRegistry[type]!;
    const entry = entryOf(parseYaml(def.example), type);
    expect(entry, `example of ${type} has an entry with type: ${type}`).toBeDefined();
    const params: unknown = resolveParams(def as Parameters<typeof resolveParams>[0], entry?.params ?? {});
    const init = def.init.bind(def) as (p: unknown) => unknown;
    expect(() => init(params)).not.toThrow();
  });
});
