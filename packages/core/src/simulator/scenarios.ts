/**
 * The scripted scenario catalogue (faults and attacks) and schedules. Each scenario has an
 * active phase (the fault or attack itself) followed by an aftermath inside the same labelled
 * window (alarms, operator recovery), so consequences are covered by the ground-truth label.
 *
 * @example
 * const entries = resolveSchedule([{ scenario: 'intruder', at_secs: 60, duration_secs: 90 }]);
 * const first = defaultProgrammeEntry(0); // { scenario: 'pump_cavitation', at_secs: 20, duration_secs: 150 }
 */
import type { Modality } from '../schema/events.ts';

export interface ScenarioInfo {
  kind: 'fault' | 'attack';
  /** Assets whose data carry the signature. */
  assets: readonly string[];
  modalities: readonly Modality[];
  defaultDurationSecs: number;
  /** Fraction of the window during which the fault/attack acts; the rest is aftermath. */
  activeFraction: number;
  description: string;
}

export const SCENARIOS = {
  pump_cavitation: {
    kind: 'fault',
    assets: ['P-101'],
    modalities: ['reading', 'audio', 'log'],
    defaultDurationSecs: 150,
    activeFraction: 1,
    description: 'P-101 suction strainer clogs: cavitation (flow drop, vibration rise, crackle in the pump audio)',
  },
  login_bruteforce: {
    kind: 'attack',
    assets: ['scada'],
    modalities: ['log'],
    defaultDurationSecs: 120,
    activeFraction: 0.8,
    description: 'ssh password guessing against the SCADA server from an external address, then a successful login',
  },
  sensor_spoofing: {
    kind: 'attack',
    assets: ['T-101', 'MV-101'],
    modalities: ['reading'],
    defaultDurationSecs: 160,
    activeFraction: 0.75,
    description: 'T-101 level transmitter spoofed to a plausible low value; the PLC keeps MV-101 open while the real level rises',
  },
  bearing_wear: {
    kind: 'fault',
    assets: ['P-601'],
    modalities: ['reading', 'audio', 'log'],
    defaultDurationSecs: 180,
    activeFraction: 1,
    description: 'P-601 bearing degrades: gradual vibration rise and a modulated high-frequency tone; replaced at the end',
  },
  intruder: {
    kind: 'attack',
    assets: ['cam-intake', 'hmi-1'],
    modalities: ['image', 'log'],
    defaultDurationSecs: 90,
    activeFraction: 1,
    description: 'a person crosses the intake yard and logs in at the HMI with a maintenance account',
  },
  valve_manipulation: {
    kind: 'attack',
    assets: ['MV-101', 'P-101', 'T-101', 'PLC-1'],
    modalities: ['log', 'reading'],
    defaultDurationSecs: 150,
    activeFraction: 0.75,
    description: 'unauthorised Modbus writes force MV-101 open and stop P-101; T-101 level rises past its setpoint',
  },
  stalled_sensor: {
    kind: 'fault',
    assets: ['AIT-202'],
    modalities: ['reading'],
    defaultDurationSecs: 120,
    activeFraction: 1,
    description: 'AIT-202 pH analyser stalls: its value freezes or it stops reporting',
  },
  tank_overflow: {
    kind: 'fault',
    assets: ['T-601', 'P-601', 'P-301'],
    modalities: ['reading', 'log'],
    defaultDurationSecs: 220,
    activeFraction: 0.75,
    description: 'P-601 trips and the T-601 high-level switch sticks: P-301 keeps filling until the tank overflows; operator drains it',
  },
} as const satisfies Record<string, ScenarioInfo>;

export type ScenarioName = keyof typeof SCENARIOS;
export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[];

export function isScenarioName(s: string): s is ScenarioName {
  return Object.prototype.hasOwnProperty.call(SCENARIOS, s);
}

export interface ScheduledScenario {
  scenario: ScenarioName;
  /** Seconds after the simulation start. */
  at_secs: number;
  duration_secs: number;
}

/** Default programme: the first scenario at 20 s, then each after the previous window plus a calm gap. */
export const PROGRAMME_FIRST_AT_SECS = 20;
export const PROGRAMME_GAP_SECS = 90;

export class ScheduleError extends Error {
  readonly code = 'E_SIM_SCHEDULE';
}

/** The i-th entry of the endless default programme over `names` (all scenarios by default). */
export function defaultProgrammeEntry(i: number, names: readonly ScenarioName[] = SCENARIO_NAMES): ScheduledScenario {
  if (names.length === 0) throw new ScheduleError('the scenario programme needs at least one scenario');
  let at = PROGRAMME_FIRST_AT_SECS;
  for (let k = 0; k < i; k++) at += SCENARIOS[names[k % names.length] as ScenarioName].defaultDurationSecs + PROGRAMME_GAP_SECS;
  const scenario = names[i % names.length] as ScenarioName;
  return { scenario, at_secs: at, duration_secs: SCENARIOS[scenario].defaultDurationSecs };
}

/** Validates an explicit schedule and sorts it by start. */
export function resolveSchedule(entries: ReadonlyArray<{ scenario: string; at_secs: number; duration_secs?: number }>): ScheduledScenario[] {
  return entries
    .map((e, i) => {
      if (!isScenarioName(e.scenario)) {
        throw new ScheduleError(`schedule[${i}].scenario: unknown scenario "${e.scenario}"; expected one of ${SCENARIO_NAMES.join(', ')}`);
      }
      const duration = e.duration_secs ?? SCENARIOS[e.scenario].defaultDurationSecs;
      if (!Number.isFinite(e.at_secs) || e.at_secs < 0) throw new ScheduleError(`schedule[${i}].at_secs: expected a number >= 0, got ${e.at_secs}`);
      if (!Number.isFinite(duration) || duration <= 0) throw new ScheduleError(`schedule[${i}].duration_secs: expected a number > 0, got ${duration}`);
      return { scenario: e.scenario, at_secs: e.at_secs, duration_secs: duration };
    })
    .sort((a, b) => a.at_secs - b.at_secs);
}
