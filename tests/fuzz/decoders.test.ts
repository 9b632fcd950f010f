// Fuzzing of every decoder at the edge: random bytes, random JSON, mutated valid inputs. A decoder
// may only accept, or reject with its own stable error code — never crash, hang or throw anything else.
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import sharp from 'sharp';
import { fuzzTally } from './figures.ts';
import { decodeEvent } from '../../packages/core/src/schema/validate.ts';
import { decodeWav } from '../../packages/core/src/features/wav.ts';
import { decodePng } from '../../packages/core/src/features/png.ts';
import { MediaDecodeError } from '../../packages/core/src/features/errors.ts';
import { encodeWav } from '../../packages/core/src/simulator/wav.ts';
import { encodePngGray } from '../../packages/core/src/simulator/png.ts';
import { CsvError, parseCsvLine, parseTimestamp, sniffSeparator } from '../../packages/engine/src/sources/file/csv.ts';
import { LogParseError, parseLogLine } from '../../packages/core/src/logs/parse.ts';

const RUNS = 300;
const tally = fuzzTally('decoders');
afterAll(() => tally.save());
/** Counts the inputs a property really ran on (fc.pre-filtered ones included). */
const counted =
  <A extends unknown[]>(what: string, f: (...a: A) => void) =>
  (...a: A): void => {
    tally.add(what, 1);
    f(...a);
  };
const NOW = Date.UTC(2026, 0, 1);

/** Mutates a valid byte string: flips, truncations, insertions, so fuzzing reaches deep parser states. */
function mutated(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc
    .array(
      fc.record({
        at: fc.nat({ max: valid.length - 1 }),
        op: fc.constantFrom('flip', 'cut', 'dup', 'zero'),
        v: fc.integer({ min: 0, max: 255 }),
      }),
      { minLength: 1, maxLength: 4 },
    )
    .map((ops) => {
      let b = Uint8Array.from(valid);
      for (const { at, op, v } of ops) {
        const i = Math.min(at, b.length - 1);
        if (b.length === 0) break;
        if (op === 'flip') b[i] = v;
        else if (op === 'zero') b[i] = 0;
        else if (op === 'cut') b = b.slice(0, i);
        else b = Uint8Array.from([...b.slice(0, i), v, ...b.slice(i)]);
      }
      return b;
    });
}

function onlyMediaErrors(f: () => unknown): void {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(MediaDecodeError);
    expect((err as MediaDecodeError).code).toBe('E_MEDIA_DECODE');
    expect((err as Error).message.length).toBeGreaterThan(5);
  }
}

describe('fuzz: event validation', () => {
  it('never throws on arbitrary JSON; a rejection names a field', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        counted('events: arbitrary JSON', (raw: unknown) => {
          const r = decodeEvent(raw, { now: NOW });
          if (!r.ok) {
            expect(r.errors.length).toBeGreaterThan(0);
            for (const e of r.errors) expect(e.path.startsWith('/')).toBe(true);
          }
        }),
      ),
      { numRuns: RUNS },
    );
  });

  it('rejects readings with wrong types, NaN and infinities, far past and future times — naming the field', () => {
    const good = {
      kind: 'reading',
      id: 'x',
      time: NOW,
      site: 's',
      asset: 'a',
      source: 'f',
      metric: 'm',
      value: 1,
      unit: '',
      quality: 'good',
    };
    const bad = fc.oneof(
      fc.record({
        field: fc.constant('value'),
        v: fc.constantFrom(Number.NaN, Infinity, -Infinity, '1', null, {}, []),
      }),
      fc.record({
        field: fc.constant('time'),
        v: fc.constantFrom(0, -1, 1e16, 'yesterday', Number.NaN, '1970-01-01T00:00:00Z'),
      }),
      fc.record({
        field: fc.constantFrom('asset', 'site', 'metric'),
        v: fc.constantFrom('', 'a b', 'x'.repeat(500), 5, '\u0000'),
      }),
      fc.record({ field: fc.constant('quality'), v: fc.string() }),
    );
    fc.assert(
      fc.property(
        bad,
        counted('events: wrong types, NaN/Infinity, far past/future', ({ field, v }: { field: string; v: unknown }) => {
          fc.pre(!(field === 'quality' && ['good', 'bad', 'uncertain'].includes(v as string)));
          const r = decodeEvent({ ...good, [field]: v }, { now: NOW });
          expect(r.ok).toBe(false);
          if (!r.ok) expect(r.reason).toContain(`/${field}`);
        }),
      ),
      { numRuns: RUNS },
    );
  });
});

describe('fuzz: media decoders', () => {
  const wav = encodeWav(
    Float32Array.from({ length: 800 }, (_, i) => Math.sin(i / 5)),
    16000,
  );
  const png = encodePngGray(
    16,
    8,
    Uint8Array.from({ length: 128 }, (_, i) => i * 2),
  );

  it('WAV: random bytes and mutated files are decoded or rejected with E_MEDIA_DECODE', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 512 }),
        counted('WAV: random bytes', (b: Uint8Array) => onlyMediaErrors(() => decodeWav(b))),
      ),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(
        mutated(wav),
        counted('WAV: corrupted files', (b: Uint8Array) => onlyMediaErrors(() => decodeWav(b))),
      ),
      { numRuns: RUNS },
    );
  });

  it('PNG: random bytes and mutated files are decoded or rejected with E_MEDIA_DECODE', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 512 }),
        counted('PNG: random bytes', (b: Uint8Array) => onlyMediaErrors(() => decodePng(b))),
      ),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(
        mutated(png),
        counted('PNG: corrupted files', (b: Uint8Array) => onlyMediaErrors(() => decodePng(b))),
      ),
      { numRuns: RUNS },
    );
  });
});

describe('fuzz: text decoders', () => {
  it('CSV lines parse or fail with E_CSV; separators and timestamps never throw', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.constantFrom(',', ';', '\t', '|'),
        counted('CSV lines', (line: string, sep: string) => {
          try {
            const cells = parseCsvLine(line, sep);
            expect(Array.isArray(cells)).toBe(true);
          } catch (err) {
            expect(err).toBeInstanceOf(CsvError);
          }
          expect(typeof sniffSeparator(line)).toBe('string');
          const t = parseTimestamp(line);
          if (t !== undefined) expect(Number.isFinite(t)).toBe(true);
        }),
      ),
      { numRuns: RUNS },
    );
  });

  it('log lines in auto mode always parse; an explicit format rejects with E_LOG_PARSE only', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.constantFrom('rfc3164', 'rfc5424', 'json', 'plain'),
        counted('log lines', (line: string, format: 'rfc3164' | 'rfc5424' | 'json' | 'plain') => {
          expect(parseLogLine(line, { format: 'auto', line: 1, year: 2026 }).message).toBeTypeOf('string');
          try {
            parseLogLine(line, { format, line: 1, year: 2026 });
          } catch (err) {
            expect(err).toBeInstanceOf(LogParseError);
          }
        }),
      ),
      { numRuns: RUNS },
    );
  });
});

describe('fuzz: JPEG frames (sharp, the decoder the image model stage uses)', () => {
  it('corrupted JPEGs and random bytes are decoded or rejected with an Error, never crash the process', async () => {
    const jpeg = Uint8Array.from(
      await sharp(Buffer.from(Uint8Array.from({ length: 32 * 16 }, (_, i) => (i * 7) & 255)), {
        raw: { width: 32, height: 16, channels: 1 },
      })
        .jpeg({ quality: 80 })
        .toBuffer(),
    );
    const decode = async (b: Uint8Array): Promise<void> => {
      try {
        const { info } = await sharp(b).greyscale().raw().toBuffer({ resolveWithObject: true });
        expect(info.width).toBeGreaterThan(0);
      } catch (err) {
        expect(err).toBeInstanceOf(Error);
      }
    };
    await fc.assert(
      fc.asyncProperty(mutated(jpeg), async (b) => {
        tally.add('JPEG: corrupted files', 1);
        await decode(b);
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), async (b) => {
        tally.add('JPEG: random bytes', 1);
        await decode(Uint8Array.from([0xff, 0xd8, 0xff, ...b]));
      }),
      { numRuns: 150 },
    );
  });
});
