/**
 * The simulator source: runs the pure plant model (packages/core/src/simulator) in real time,
 * at a speed multiple, or as fast as the pipeline takes it; stores audio clips and camera frames
 * in the blob store and emits AudioClip/ImageFrame events that reference them; emits the
 * scenarios' ground-truth labels through `out.label`.
 *
 * @example
 * sources:
 *   - id: plant
 *     type: simulator
 *     seed: 42
 *     speed: realtime        # or max, or a multiplier such as 10
 *     scenarios: [pump_cavitation, intruder]
 */
import { setTimeout as sleepTimer } from 'node:timers/promises';
import { Type, type Static } from '@sinclair/typebox';
import type { Event } from '../../../../core/src/schema/events.ts';
import { createPlant, type Plant, type PlantOptions, type SimOutput } from '../../../../core/src/simulator/plant.ts';
import { SCENARIO_NAMES, isScenarioName } from '../../../../core/src/simulator/scenarios.ts';
import type { BlobStore, ComponentContext, Source, SourceOutput } from '../../runtime/types.ts';

const ScenarioNameSchema = Type.Union(
  SCENARIO_NAMES.map((n) => Type.Literal(n)),
  { description: 'A scripted scenario.' },
);

export const SimulatorSourceParams = Type.Object(
  {
    seed: Type.Integer({ default: 42, description: 'PRNG seed: same seed and start_time give byte-identical data.' }),
    speed: Type.Union([Type.Literal('realtime'), Type.Literal('max'), Type.Number({ exclusiveMinimum: 0 })], {
      default: 'realtime',
      description: 'realtime; max (as fast as the pipeline takes it); or a multiple of real time, e.g. 10.',
    }),
    duration_secs: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Simulated seconds to run; unbounded when absent.' })),
    start_time: Type.Optional(
      Type.Union([Type.Number(), Type.String({ format: 'date-time' })], {
        description:
          'Simulated start, epoch ms or ISO-8601; default: the clock at start in real time, and for faster speeds early enough that no event is stamped in the future.',
      }),
    ),
    site: Type.String({ default: 'plant-a', pattern: '^[A-Za-z0-9_.:/\\-]+$', description: 'Site name put on every event.' }),
    rate_hz: Type.Number({ default: 1, exclusiveMinimum: 0, maximum: 100, description: 'Sensor sampling rate.' }),
    scenarios: Type.Optional(
      Type.Array(ScenarioNameSchema, {
        description: 'Restricts the default repeating programme to these scenarios, in order; [] for none.',
      }),
    ),
    schedule: Type.Optional(
      Type.Array(
        Type.Object(
          {
            scenario: ScenarioNameSchema,
            at_secs: Type.Number({ minimum: 0 }),
            duration_secs: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          },
          { additionalProperties: false },
        ),
        { description: 'An explicit scenario list (replaces the default programme).' },
      ),
    ),
    audio_every_secs: Type.Number({ default: 10, minimum: 0, description: 'Pump audio clip period per pump; 0 disables audio.' }),
    image_every_secs: Type.Number({ default: 5, minimum: 0, description: 'Camera frame period per camera; 0 disables images.' }),
  },
  { additionalProperties: false },
);
export type SimulatorSourceParams = Static<typeof SimulatorSourceParams>;

export class SimulatorSourceError extends Error {
  override readonly name = 'SimulatorSourceError';
  constructor(
    readonly code: 'E_SIM_PARAMS',
    message: string,
  ) {
    super(message);
  }
}

/** Injected for tests: how to wait (default: an abortable timer). */
export interface SimulatorSourceDeps {
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Simulated milliseconds advanced per step when running at max speed. */
const MAX_CHUNK_MS = 10_000;

export function resolveStartTime(start: number | string | undefined, now: number): number {
  if (start === undefined) return now;
  const ms = typeof start === 'number' ? start : Date.parse(start);
  if (!Number.isFinite(ms)) throw new SimulatorSourceError('E_SIM_PARAMS', `start_time: expected epoch ms or ISO-8601, got ${JSON.stringify(start)}`);
  return ms;
}

/** Plant options from source params (start time resolved by the caller). */
export function plantOptionsFrom(p: SimulatorSourceParams & { source?: string }, startTime: number): PlantOptions {
  const programme = p.scenarios?.filter(isScenarioName);
  return {
    seed: p.seed,
    startTime,
    site: p.site,
    rateHz: p.rate_hz,
    audioEverySecs: p.audio_every_secs,
    imageEverySecs: p.image_every_secs,
    ...(p.source !== undefined ? { source: p.source } : {}),
    ...(p.schedule !== undefined
      ? { schedule: p.schedule }
      : programme !== undefined
        ? programme.length === 0
          ? { schedule: 'none' as const }
          : { programme }
        : {}),
  };
}

/** An event as the simulator makes it: complete but for the ingest time the pipeline stamps. */
export type EventDraft = Event extends infer E ? (E extends Event ? Omit<E, 'ingestTime'> : never) : never;

/** Turns a plant output into an event draft: media bytes go to the blob store and the event gets their reference. */
export async function materialise(o: Exclude<SimOutput, { type: 'label' }>, blobs: BlobStore): Promise<EventDraft> {
  if (o.type === 'event') return o.event;
  const media = await blobs.put(o.bytes, o.contentType);
  return { ...o.event, media };
}

/**
 * Faster than real time, a simulation that started now would stamp events in the future, which
 * the pipeline refuses (runtime.max_future_secs). By default such a run is placed so that it
 * ends, in simulated time, no later than it ends on the wall clock.
 */
export function defaultStart(now: number, speed: SimulatorSourceParams['speed'], durationSecs: number | undefined): number {
  if (speed === 'realtime') return now;
  const d = (durationSecs ?? 3600) * 1000;
  const k = speed === 'max' ? Infinity : speed;
  return k <= 1 ? now : Math.round(now - d * (1 - 1 / k));
}

export function createSimulatorSource(params: SimulatorSourceParams & { id: string }, deps: SimulatorSourceDeps = {}): Source {
  const speed = params.speed;
  if (typeof speed === 'number' && !(speed > 0 && Number.isFinite(speed))) {
    throw new SimulatorSourceError('E_SIM_PARAMS', `source ${params.id}: speed must be realtime, max or a number > 0, got ${speed}`);
  }
  const sleep =
    deps.sleep ??
    ((ms: number, signal: AbortSignal) => sleepTimer(ms, undefined, { signal }).then(
      () => undefined,
      () => undefined, // aborted: the loop sees ctx.signal and stops
    ));

  return {
    id: params.id,
    async run(out: SourceOutput, ctx: ComponentContext): Promise<void> {
      const start = resolveStartTime(params.start_time, defaultStart(ctx.clock.now(), speed, params.duration_secs));
      const plant: Plant = createPlant(plantOptionsFrom({ ...params, source: params.id }, start));
      const end = params.duration_secs === undefined ? Infinity : start + params.duration_secs * 1000;
      ctx.logger.info({ seed: params.seed, speed, start, end: Number.isFinite(end) ? end : null }, 'simulator started');

      const deliver = async (outs: SimOutput[]): Promise<void> => {
        for (const o of outs) {
          if (ctx.signal.aborted) return;
          if (o.type === 'label') {
            await out.label(o.label);
            ctx.metrics.emitted(1, 'label');
            continue;
          }
          const event: Event = { ...(await materialise(o, ctx.blobs)), ingestTime: ctx.clock.now() };
          await out.emit(event);
          ctx.metrics.emitted(1, event.kind);
        }
      };

      if (speed === 'max') {
        let t = start;
        while (!ctx.signal.aborted && t < end) {
          t = Math.min(t + MAX_CHUNK_MS, end);
          // The end is exclusive: duration_secs of N at 1 Hz gives N ticks.
          await deliver(plant.advance(t === end ? end - 1 : t));
          // Let timers and I/O run between chunks even if the pipeline never pushes back.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      } else {
        const multiplier = speed === 'realtime' ? 1 : speed;
        const wall0 = ctx.clock.now();
        const tickWallMs = Math.max(10, Math.min(1000, 1000 / params.rate_hz / multiplier));
        for (;;) {
          if (ctx.signal.aborted) break;
          const simNow = start + (ctx.clock.now() - wall0) * multiplier;
          const target = Math.min(simNow, end - 1);
          await deliver(plant.advance(target));
          if (target >= end - 1) break;
          await sleep(tickWallMs, ctx.signal);
        }
      }
      ctx.logger.info({ simulatedUntil: plant.now }, 'simulator stopped');
    },
  };
}
