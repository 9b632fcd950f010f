/**
 * The plant model: a six-stage water-treatment plant after the public SWaT testbed, stepped at a
 * fixed rate and producing physically coupled readings, PLC/SCADA/authentication logs, pump audio
 * and camera frames, with scripted faults and attacks and their ground-truth labels.
 *
 * Pure and deterministic: time comes from `startTime` and the tick counter, randomness from seeded
 * streams. Output does not depend on how `advance` calls are chunked.
 *
 * Flow path: MV-101 → T-101 → P-101 (VFD, dosing P-201) → T-301 → P-301 → UF-301 → UV-401 → RO-501 → T-601 → P-601.
 * Control (PLC): MV-101 opens below 500 mm and closes above 800 mm of T-101; P-101's speed follows
 * T-301's level; P-301 starts below 650 mm and stops above 850 mm of T-601; P-601 serves demand.
 *
 * @example
 * const plant = createPlant({ seed: 1, startTime: Date.UTC(2024, 0, 1), site: 'plant-a' });
 * for (const out of plant.advance(Date.UTC(2024, 0, 1) + 60_000)) if (out.type === 'label') console.log(out.label);
 */
import type { AudioClip, ImageFrame, Label, LogLevel, LogRecord, Modality, Reading, Scalar } from '../schema/events.ts';
import { synthPumpAudio } from './audio.ts';
import { renderFrame } from './camera.ts';
import { encodePngGray } from './png.ts';
import { createRng, type Rng } from './prng.ts';
import {
  SCENARIOS,
  defaultProgrammeEntry,
  resolveSchedule,
  type ScenarioName,
  type ScheduledScenario,
} from './scenarios.ts';
import { encodeWav } from './wav.ts';

export type ReadingDraft = Omit<Reading, 'ingestTime'>;
export type LogDraft = Omit<LogRecord, 'ingestTime'>;
export type AudioDraft = Omit<AudioClip, 'ingestTime' | 'media'>;
export type ImageDraft = Omit<ImageFrame, 'ingestTime' | 'media'>;

/** What the plant produces: events (missing only ingestTime), media drafts with their bytes, and labels. */
export type SimOutput =
  | { type: 'event'; time: number; event: ReadingDraft | LogDraft }
  | { type: 'media'; time: number; event: AudioDraft | ImageDraft; bytes: Uint8Array; contentType: 'audio/wav' | 'image/png' }
  | { type: 'label'; time: number; label: Label };

export interface PlantOptions {
  seed: number;
  /** Epoch ms of the first tick. */
  startTime: number;
  site?: string;
  /** Value of the events' `source` field. */
  source?: string;
  /** Sensor sampling rate (default 1 Hz). */
  rateHz?: number;
  /** 'default' (endless programme), 'none', or an explicit list. */
  schedule?: 'default' | 'none' | ReadonlyArray<{ scenario: string; at_secs: number; duration_secs?: number }>;
  /** Restricts the default programme to these scenarios, in this order. */
  programme?: readonly ScenarioName[];
  audioEverySecs?: number;
  audioSampleRateHz?: number;
  audioDurationMs?: number;
  imageEverySecs?: number;
  imageWidth?: number;
  imageHeight?: number;
}

export interface Plant {
  /** Time of the next tick to be simulated, epoch ms. */
  readonly now: number;
  /** Simulates up to and including `untilMs`; returns outputs with time <= untilMs, in time order. */
  advance(untilMs: number): SimOutput[];
}

export class SimulatorError extends Error {
  readonly code = 'E_SIM_OPTIONS';
}

// ---- plant geometry and nominal figures -------------------------------------------------------
const AREA_M2 = { T101: 0.4, T301: 0.3, T601: 0.15 } as const;
const TANK_HEIGHT_MM = 1200;
const MV101_FLOW = 3.6; // m3/h when open
const P101_FLOW = 2.4; // m3/h at full speed
const P301_FLOW = 2.4; // UF feed, m3/h
const RO_RECOVERY = 0.8;
const DRAIN_FLOW = 6; // MV-602, m3/h
const SHAFT_HZ = { 'P-101': 24.5, 'P-301': 29.2, 'P-601': 24.7 } as const;
const PUMPS = ['P-101', 'P-301', 'P-601'] as const;
type Pump = (typeof PUMPS)[number];
const CAMERAS = ['cam-intake', 'cam-ro-hall'] as const;

/** Which PLC drives which actuator. */
const PLC_OF: Readonly<Record<string, string>> = { 'MV-101': 'PLC-1', 'P-101': 'PLC-1', 'P-301': 'PLC-3', 'MV-602': 'PLC-6', 'P-601': 'PLC-6' };

const SCADA_IP = '10.0.1.10';
const HMI_IP = '10.0.1.21';
const ENGINEER_IP = '10.0.2.15';

/** mm of level change for a net flow (m3/h) over dt seconds in a tank of `area` m2. */
const dLevel = (netM3h: number, area: number, dtS: number): number => ((netM3h / 3600) * dtS * 1000) / area;

interface Channel {
  asset: string;
  stage: string;
  metric: string;
  unit: string;
  decimals: number;
}

const ch = (asset: string, stage: string, metric: string, unit: string, decimals: number): Channel => ({ asset, stage, metric, unit, decimals });

/** Every sensor channel, in emission order. */
export const CHANNELS: readonly Channel[] = [
  ch('T-101', 'intake', 'level_mm', 'mm', 1),
  ch('MV-101', 'intake', 'state', '', 0),
  ch('MV-101', 'intake', 'flow_m3h', 'm3/h', 3),
  ch('P-101', 'intake', 'state', '', 0),
  ch('P-101', 'intake', 'speed_pct', '%', 1),
  ch('P-101', 'intake', 'flow_m3h', 'm3/h', 3),
  ch('P-101', 'intake', 'pressure_kpa', 'kPa', 1),
  ch('P-101', 'intake', 'vibration_mm_s', 'mm/s', 2),
  ch('P-101', 'intake', 'current_a', 'A', 2),
  ch('AIT-201', 'dosing', 'conductivity_us_cm', 'uS/cm', 1),
  ch('AIT-202', 'dosing', 'ph', 'pH', 3),
  ch('AIT-203', 'dosing', 'orp_mv', 'mV', 1),
  ch('P-201', 'dosing', 'state', '', 0),
  ch('T-301', 'filtration', 'level_mm', 'mm', 1),
  ch('P-301', 'filtration', 'state', '', 0),
  ch('P-301', 'filtration', 'flow_m3h', 'm3/h', 3),
  ch('P-301', 'filtration', 'vibration_mm_s', 'mm/s', 2),
  ch('P-301', 'filtration', 'current_a', 'A', 2),
  ch('UF-301', 'filtration', 'dp_kpa', 'kPa', 2),
  ch('UF-301', 'filtration', 'flow_m3h', 'm3/h', 3),
  ch('UV-401', 'uv', 'state', '', 0),
  ch('UV-401', 'uv', 'intensity_mw_cm2', 'mW/cm2', 2),
  ch('AIT-402', 'uv', 'orp_mv', 'mV', 1),
  ch('RO-501', 'ro', 'pressure_kpa', 'kPa', 1),
  ch('RO-501', 'ro', 'flow_m3h', 'm3/h', 3),
  ch('RO-501', 'ro', 'conductivity_us_cm', 'uS/cm', 2),
  ch('T-601', 'storage', 'level_mm', 'mm', 1),
  ch('MV-602', 'storage', 'state', '', 0),
  ch('P-601', 'storage', 'state', '', 0),
  ch('P-601', 'storage', 'flow_m3h', 'm3/h', 3),
  ch('P-601', 'storage', 'pressure_kpa', 'kPa', 1),
  ch('P-601', 'storage', 'vibration_mm_s', 'mm/s', 2),
  ch('P-601', 'storage', 'current_a', 'A', 2),
];

/** Stage of each asset (equipment, control systems, cameras). */
export const ASSET_STAGES: Readonly<Record<string, string>> = {
  ...Object.fromEntries(CHANNELS.map((c) => [c.asset, c.stage])),
  'PLC-1': 'control',
  'PLC-3': 'control',
  'PLC-6': 'control',
  scada: 'control',
  'hmi-1': 'control',
  'cam-intake': 'intake',
  'cam-ro-hall': 'ro',
};

interface ActiveScenario {
  entry: ScheduledScenario;
  start: number;
  activeEnd: number;
  end: number;
  /** Scenario-specific state. */
  s: Record<string, number | string | boolean>;
}

interface PendingLog {
  time: number;
  order: number;
  asset: string;
  level: LogLevel;
  message: string;
  fields: Record<string, Scalar>;
}

export function createPlant(opts: PlantOptions): Plant {
  const rateHz = opts.rateHz ?? 1;
  if (!(rateHz > 0 && rateHz <= 100)) throw new SimulatorError(`rateHz must be in (0, 100], got ${rateHz}`);
  if (!Number.isFinite(opts.startTime)) throw new SimulatorError(`startTime must be epoch ms, got ${opts.startTime}`);
  const site = opts.site ?? 'plant-a';
  const source = opts.source ?? 'simulator';
  const dtMs = 1000 / rateHz;
  const dtS = 1 / rateHz;
  const audioEveryMs = (opts.audioEverySecs ?? 10) * 1000;
  const audioRate = opts.audioSampleRateHz ?? 16000;
  const audioMs = opts.audioDurationMs ?? 1000;
  const imageEveryMs = (opts.imageEverySecs ?? 5) * 1000;
  const imgW = opts.imageWidth ?? 96;
  const imgH = opts.imageHeight ?? 64;
  const start = opts.startTime;

  const rSensor = createRng(opts.seed, 'sensors');
  const rProc = createRng(opts.seed, 'process');
  const rLog = createRng(opts.seed, 'logs');
  const rScen = createRng(opts.seed, 'scenarios');
  const rAudio = createRng(opts.seed, 'audio');
  const rImage = createRng(opts.seed, 'image');

  // Schedule: explicit entries, or the endless programme generated as time goes.
  const sched = opts.schedule ?? 'default';
  const explicit: ScheduledScenario[] = Array.isArray(sched) ? resolveSchedule(sched) : [];
  let programmeIndex = 0;
  const nextScheduled = (): ScheduledScenario | undefined => {
    if (sched === 'none') return undefined;
    if (Array.isArray(sched)) return explicit[programmeIndex];
    return defaultProgrammeEntry(programmeIndex, opts.programme);
  };

  // ---- true process state ----
  const st = {
    L101: 620 + rProc.range(-60, 60),
    L301: 650 + rProc.range(-40, 40),
    L601: 720 + rProc.range(-50, 50),
    mv101: 0,
    p101: 1,
    p101Speed: 0.6,
    p301: 1,
    p601: 1,
    mv602: 0,
    ph: 7.55,
    phSetpoint: 7.6,
    orp: 400,
    orp402: 230,
    condRaw: 245,
    permCond: 10,
    fouling: 2,
    demandNoise: 0,
    // scenario effects
    cavitation: 0,
    bearing: 0,
    spoofT101: false,
    spoofBase: 470,
    forceMv101: false,
    forceP101Off: false,
    p601Tripped: false,
    lsh601Stuck: false,
    stalled: '' as '' | 'freeze' | 'silent',
    stalledValue: 0,
    intruder: undefined as { x: number; y: number } | undefined,
  };
  const alarms = new Set<string>();
  const active: ActiveScenario[] = [];
  const pendingLogs: PendingLog[] = [];
  const ready: SimOutput[] = [];
  let logOrder = 0;
  let seq = 0;
  let tick = 0;
  let nextAuthAt = start + expo(rLog, 600) * 1000;
  let nextOperatorAt = start + expo(rLog, 900) * 1000;

  const timeOf = (k: number): number => Math.round(start + k * dtMs);
  const nextId = (): string => `sim-${++seq}`;

  function log(time: number, asset: string, level: LogLevel, message: string, fields: Record<string, Scalar>): void {
    pendingLogs.push({ time, order: logOrder++, asset, level, message, fields });
  }
  const plcHost = (asset: string): string => PLC_OF[asset] ?? 'PLC-1';

  function command(time: number, asset: string, value: number, why: string, mode: 'auto' | 'manual' = 'auto', ip?: string): void {
    const plc = plcHost(asset);
    const verb = asset.startsWith('MV') ? (value ? 'OPEN' : 'CLOSE') : value ? 'START' : 'STOP';
    const fields: Record<string, Scalar> = {
      'event.action': mode === 'auto' ? 'actuator.command' : 'modbus.write',
      'event.outcome': 'success',
      'host.name': plc,
      'process.name': 'plc-runtime',
      'plc.tag': asset.replace('-', ''),
      'plc.value': value,
      'plc.mode': mode,
    };
    if (ip !== undefined) fields['source.ip'] = ip;
    const msg = mode === 'auto' ? `${asset} ${verb} (auto: ${why})` : `write ${asset.replace('-', '')} := ${value} (${verb}) from ${ip ?? 'unknown'}, mode MANUAL`;
    log(time, plc, 'info', msg, fields);
  }

  function scada(time: number, level: LogLevel, message: string, fields: Record<string, Scalar>): void {
    log(time, 'scada', level, message, { 'host.name': 'scada', 'process.name': 'scada-server', ...fields });
  }

  function auth(time: number, host: 'hmi-1' | 'scada', user: string, ip: string, ok: boolean): void {
    const action = host === 'hmi-1' ? 'hmi_login' : 'ssh_login';
    const port = 40000 + rLog.int(20000);
    const message =
      host === 'scada'
        ? ok
          ? `Accepted password for ${user} from ${ip} port ${port} ssh2`
          : `Failed password for ${user} from ${ip} port ${port} ssh2`
        : ok
          ? `HMI login for ${user} succeeded`
          : `HMI login for ${user} failed: bad password`;
    log(time, host, ok ? 'info' : 'warn', message, {
      'event.category': 'authentication',
      'event.action': action,
      'event.outcome': ok ? 'success' : 'failure',
      'user.name': user,
      'source.ip': ip,
      'host.name': host,
      'process.name': host === 'scada' ? 'sshd' : 'hmi-auth',
    });
  }

  function alarm(time: number, tag: string, activeNow: boolean, text: string, value: number, limit: number, unit: string): void {
    const on = alarms.has(tag);
    if (activeNow && !on) {
      alarms.add(tag);
      scada(time, 'warn', `ALARM ${tag}: ${value.toFixed(1)} ${unit} ${text} ${limit} ${unit}`, {
        'event.action': 'alarm',
        'alarm.tag': tag,
        'alarm.state': 'active',
      });
    } else if (!activeNow && on) {
      alarms.delete(tag);
      scada(time, 'info', `ALARM CLEARED ${tag}: ${value.toFixed(1)} ${unit}`, { 'event.action': 'alarm', 'alarm.tag': tag, 'alarm.state': 'cleared' });
    }
  }

  // ---- scenarios ----
  function startScenarios(t: number): void {
    for (;;) {
      const e = nextScheduled();
      if (!e || start + e.at_secs * 1000 > t) return;
      programmeIndex++;
      const s = start + e.at_secs * 1000;
      const end = s + e.duration_secs * 1000;
      const a: ActiveScenario = { entry: e, start: s, end, activeEnd: s + e.duration_secs * 1000 * SCENARIOS[e.scenario].activeFraction, s: {} };
      active.push(a);
      onStart(a, t);
    }
  }

  function labelOf(a: ActiveScenario, modalities: readonly Modality[], extra = ''): Label {
    const info = SCENARIOS[a.entry.scenario];
    return {
      scenario: a.entry.scenario,
      kind: info.kind,
      site,
      assets: [...info.assets],
      modalities: [...modalities],
      startTime: a.start,
      endTime: a.end,
      description: info.description + extra,
    };
  }

  function onStart(a: ActiveScenario, t: number): void {
    const info = SCENARIOS[a.entry.scenario];
    let modalities: readonly Modality[] = info.modalities;
    let extra = '';
    switch (a.entry.scenario) {
      case 'pump_cavitation':
      case 'bearing_wear':
      case 'sensor_spoofing':
        break;
      case 'login_bruteforce':
        a.s['ip'] = `203.0.113.${10 + rScen.int(200)}`;
        a.s['next'] = t;
        break;
      case 'intruder':
        a.s['loginAt'] = a.start + (a.end - a.start) * 0.45;
        a.s['y'] = 40 + rScen.int(8);
        break;
      case 'valve_manipulation': {
        const ip = `10.0.9.${20 + rScen.int(200)}`;
        a.s['ip'] = ip;
        st.forceMv101 = true;
        st.forceP101Off = true;
        command(t + 150, 'MV-101', 1, '', 'manual', ip);
        command(t + 900, 'P-101', 0, '', 'manual', ip);
        break;
      }
      case 'stalled_sensor': {
        const variant = rScen.next() < 0.5 ? 'freeze' : 'silent';
        a.s['variant'] = variant;
        st.stalled = variant;
        st.stalledValue = round(st.ph + 0.02 * rSensor.normal(), 3);
        if (variant === 'silent') {
          modalities = ['reading', 'log'];
          a.s['timeoutAt'] = t + 30_000;
        }
        extra = variant === 'freeze' ? ' (variant: frozen value)' : ' (variant: no readings, comms timeout)';
        break;
      }
      case 'tank_overflow':
        st.p601Tripped = true;
        st.lsh601Stuck = true;
        log(t + 300, 'PLC-6', 'error', 'P-601 TRIP: motor overload relay opened', {
          'event.action': 'equipment.trip',
          'event.outcome': 'failure',
          'host.name': 'PLC-6',
          'process.name': 'plc-runtime',
          'plc.tag': 'P601',
        });
        break;
      default: {
        const never: never = a.entry.scenario;
        throw new SimulatorError(`unhandled scenario ${String(never)}`);
      }
    }
    ready.push({ type: 'label', time: t, label: labelOf(a, modalities, extra) });
  }

  function updateScenarios(t: number): void {
    for (const a of active) {
      const span = a.end - a.start;
      const progress = Math.min(1, (t - a.start) / span);
      const isActive = t < a.activeEnd;
      switch (a.entry.scenario) {
        case 'pump_cavitation':
          st.cavitation = Math.min(1, progress * 5);
          break;
        case 'bearing_wear':
          st.bearing = 0.15 + 0.85 * progress;
          break;
        case 'sensor_spoofing':
          st.spoofT101 = isActive;
          break;
        case 'login_bruteforce': {
          const ip = String(a.s['ip']);
          while (isActive && Number(a.s['next']) < t + dtMs) {
            const at = Number(a.s['next']);
            auth(at, 'scada', rScen.pick(['admin', 'root', 'operator', 'scada', 'pi', 'user']), ip, false);
            a.s['next'] = at + Math.round(rScen.range(700, 2500));
          }
          if (!isActive && a.s['done'] !== true) {
            a.s['done'] = true;
            auth(t + 200, 'scada', 'admin', ip, true);
            log(t + 400, 'scada', 'info', `pam_unix(sshd:session): session opened for user admin from ${ip}`, {
              'event.category': 'session',
              'event.action': 'session_open',
              'user.name': 'admin',
              'source.ip': ip,
              'host.name': 'scada',
              'process.name': 'sshd',
            });
          }
          break;
        }
        case 'intruder': {
          const x = 8 + 80 * progress;
          st.intruder = { x, y: Number(a.s['y']) + Math.sin(progress * 40) };
          if (a.s['loggedIn'] !== true && t >= Number(a.s['loginAt'])) {
            a.s['loggedIn'] = true;
            auth(t + 300, 'hmi-1', 'maint', HMI_IP, true);
          }
          break;
        }
        case 'valve_manipulation':
          if (!isActive && a.s['restored'] !== true) {
            a.s['restored'] = true;
            st.forceMv101 = false;
            st.forceP101Off = false;
            scada(t + 100, 'notice', 'operator1 set MV-101 and P-101 back to AUTO', { 'event.action': 'operator.mode_change', 'user.name': 'operator1', 'source.ip': HMI_IP });
          }
          break;
        case 'stalled_sensor':
          if (a.s['variant'] === 'silent' && a.s['warned'] !== true && t >= Number(a.s['timeoutAt'])) {
            a.s['warned'] = true;
            scada(t + 50, 'warn', 'AIT-202 communication timeout: no data for 30 s', { 'event.action': 'comms.timeout', 'alarm.tag': 'AIT-202' });
          }
          break;
        case 'tank_overflow':
          if (!isActive && a.s['recovering'] !== true) {
            a.s['recovering'] = true;
            st.p601Tripped = false;
            st.lsh601Stuck = false;
            st.mv602 = 1;
            scada(t + 100, 'notice', 'operator1 reset P-601 trip and opened drain MV-602', { 'event.action': 'operator.command', 'user.name': 'operator1', 'source.ip': HMI_IP });
            command(t + 200, 'MV-602', 1, '', 'manual', SCADA_IP);
          }
          if (a.s['recovering'] === true && st.mv602 === 1 && st.L601 < 800) {
            st.mv602 = 0;
            command(t + 100, 'MV-602', 0, '', 'manual', SCADA_IP);
          }
          break;
        default: {
          const never: never = a.entry.scenario;
          throw new SimulatorError(`unhandled scenario ${String(never)}`);
        }
      }
    }
    // End scenarios whose window closed at or before this tick.
    for (let i = active.length - 1; i >= 0; i--) {
      const a = active[i] as ActiveScenario;
      if (t < a.end) continue;
      active.splice(i, 1);
      switch (a.entry.scenario) {
        case 'pump_cavitation':
          st.cavitation = 0;
          scada(t + 100, 'notice', 'maintenance: P-101 suction strainer cleaned', { 'event.action': 'maintenance', 'user.name': 'tech1' });
          break;
        case 'bearing_wear':
          st.bearing = 0;
          scada(t + 100, 'notice', 'maintenance: P-601 bearing replaced', { 'event.action': 'maintenance', 'user.name': 'tech1' });
          break;
        case 'intruder':
          st.intruder = undefined;
          break;
        case 'stalled_sensor':
          st.stalled = '';
          break;
        case 'tank_overflow':
          if (st.mv602 === 1) {
            st.mv602 = 0;
            command(t + 100, 'MV-602', 0, '', 'manual', SCADA_IP);
          }
          break;
        case 'sensor_spoofing':
          st.spoofT101 = false;
          break;
        case 'login_bruteforce':
        case 'valve_manipulation':
          break;
        default: {
          const never: never = a.entry.scenario;
          throw new SimulatorError(`unhandled scenario ${String(never)}`);
        }
      }
    }
  }

  // ---- one tick ----
  function step(k: number): void {
    const t = timeOf(k);
    startScenarios(t);
    updateScenarios(t);

    // Flows from actuator states (set by the previous tick's control).
    const qIn = st.mv101 ? MV101_FLOW * (1 + 0.01 * rProc.normal()) : 0;
    const p101Run = st.p101 === 1;
    const cav = p101Run ? st.cavitation : 0;
    const q101 = p101Run ? P101_FLOW * st.p101Speed * (1 - 0.35 * cav) * (1 + 0.08 * cav * rProc.normal()) : 0;
    const q301 = st.p301 ? P301_FLOW * (1 + 0.005 * rProc.normal()) : 0;
    const qPerm = q301 * RO_RECOVERY;
    // AR(1) demand wander with a ~50 s memory and a stationary sd of 0.1, whatever the tick rate.
    const ar = 0.98 ** dtS;
    st.demandNoise = ar * st.demandNoise + 0.1 * Math.sqrt(1 - ar * ar) * rProc.normal();
    const tMin = (t - start) / 60000;
    const demand = 1.3 + 0.25 * Math.sin((2 * Math.PI * tMin) / 20) + 0.3 * st.demandNoise;
    const q601 = st.p601 ? Math.max(0.4, demand) : 0;
    const qDrain = st.mv602 ? DRAIN_FLOW : 0;

    // Mass balance (levels clamp at the tank rims: overflow spills).
    st.L101 = clamp(st.L101 + dLevel(qIn - q101, AREA_M2.T101, dtS), 0, TANK_HEIGHT_MM);
    st.L301 = clamp(st.L301 + dLevel(q101 - q301, AREA_M2.T301, dtS), 0, TANK_HEIGHT_MM);
    st.L601 = clamp(st.L601 + dLevel(qPerm - q601 - qDrain, AREA_M2.T601, dtS), 0, TANK_HEIGHT_MM);

    // Chemistry: first-order lags towards targets that depend on dosing.
    const dosing = p101Run;
    const lag = (x: number, target: number, tauS: number): number => x + (target - x) * (1 - Math.exp(-dtS / tauS));
    st.condRaw = 245 + 15 * Math.sin((2 * Math.PI * tMin) / 60);
    st.ph = lag(st.ph, dosing ? st.phSetpoint : 7.2, 60);
    st.orp = lag(st.orp, dosing ? 420 : 300, 45);
    st.orp402 = lag(st.orp402, st.p301 ? 230 : 260, 30);
    if (st.p301) st.permCond = lag(st.permCond, 0.04 * (st.condRaw + 20), 20);
    if (st.p301) st.fouling += 0.004 * dtS;

    // Pump mechanics.
    const p601Load = q601 / 1.6;
    const vib101 = p101Run ? 1.3 + 0.9 * st.p101Speed + cav * (3.5 + 1.5 * Math.abs(rProc.normal())) : 0.05;
    const vib301 = st.p301 ? 2.1 : 0.05;
    const vib601 = st.p601 ? 1.5 + 0.8 * p601Load + 6 * st.bearing : 0.05;
    const cur101 = p101Run ? (3 + 5 * st.p101Speed ** 3) * (1 - 0.25 * cav) * (1 + 0.05 * cav * rProc.normal()) : 0;
    const cur301 = st.p301 ? 6.2 : 0;
    const cur601 = st.p601 ? (2.5 + 2 * p601Load) * (1 + 0.1 * st.bearing) : 0;

    // Sensors.
    const n = (sd: number): number => sd * rSensor.normal();
    let lvl101 = st.L101 + n(2);
    if (st.spoofT101) lvl101 = st.spoofBase + 3 * Math.sin((2 * Math.PI * (t - start)) / 90000) + n(1.5);
    const phMeasured = st.ph + n(0.02);
    const values: number[] = [
      lvl101,
      st.mv101,
      qIn + (st.mv101 ? n(0.03) : 0),
      st.p101,
      p101Run ? st.p101Speed * 100 : 0,
      q101 + (p101Run ? n(0.03) : 0),
      (p101Run ? 180 * st.p101Speed ** 2 * (1 - 0.3 * cav) + 20 : 20) + n(2),
      Math.max(0, vib101 + n(0.08)),
      Math.max(0, cur101 + (p101Run ? n(0.05) : 0)),
      st.condRaw + (dosing ? 20 : 0) + n(2),
      phMeasured,
      st.orp + n(3),
      dosing ? 1 : 0,
      st.L301 + n(2),
      st.p301,
      q301 + (st.p301 ? n(0.03) : 0),
      Math.max(0, vib301 + n(0.08)),
      Math.max(0, cur301 + (st.p301 ? n(0.05) : 0)),
      (st.p301 ? 18 + st.fouling : 1) + n(0.3),
      q301 * 0.99 + (st.p301 ? n(0.03) : 0),
      st.p301,
      (st.p301 ? 38 : 0) + (st.p301 ? n(0.3) : 0),
      st.orp402 + n(3),
      (st.p301 ? 1050 + 4 * st.fouling : 110) + n(5),
      qPerm + (st.p301 ? n(0.02) : 0),
      Math.max(0, st.permCond + n(0.2)),
      st.L601 + n(2),
      st.mv602,
      st.p601,
      q601 + (st.p601 ? n(0.03) : 0),
      (st.p601 ? 320 - 20 * p601Load : 15) + n(3),
      Math.max(0, vib601 + n(0.08)),
      Math.max(0, cur601 + (st.p601 ? n(0.05) : 0)),
    ];
    for (let i = 0; i < CHANNELS.length; i++) {
      const c = CHANNELS[i] as Channel;
      let v = round(values[i] ?? 0, c.decimals);
      if (c.asset === 'AIT-202' && st.stalled !== '') {
        if (st.stalled === 'silent') continue;
        v = st.stalledValue;
      }
      ready.push({
        type: 'event',
        time: t,
        event: { kind: 'reading', id: nextId(), time: t, site, asset: c.asset, stage: c.stage, source, metric: c.metric, value: v, unit: c.unit, quality: 'good' },
      });
    }

    // PLC logic acts on what the sensors report (so spoofed values fool it).
    const m101 = lvl101;
    const m301 = values[13] ?? st.L301;
    const m601 = values[26] ?? st.L601;
    const tc = t + 50;
    if (!st.forceMv101) {
      if (st.mv101 === 0 && m101 < 500) {
        st.mv101 = 1;
        command(tc, 'MV-101', 1, `T-101 level ${m101.toFixed(1)} mm < 500 mm`);
      } else if (st.mv101 === 1 && m101 > 800) {
        st.mv101 = 0;
        command(tc, 'MV-101', 0, `T-101 level ${m101.toFixed(1)} mm > 800 mm`);
      }
    } else st.mv101 = 1;
    if (st.forceP101Off) st.p101 = 0;
    else if (st.p101 === 1 && m101 < 150) {
      st.p101 = 0;
      command(tc, 'P-101', 0, `T-101 level ${m101.toFixed(1)} mm < 150 mm (low-low)`);
    } else if (st.p101 === 0 && m101 > 250) {
      st.p101 = 1;
      command(tc, 'P-101', 1, `T-101 level ${m101.toFixed(1)} mm > 250 mm`);
    }
    st.p101Speed = clamp(0.55 + 0.004 * (700 - m301), 0.4, 1);
    if (st.p301 === 1 && ((m601 > 850 && !st.lsh601Stuck) || m301 < 200)) {
      st.p301 = 0;
      command(tc, 'P-301', 0, m301 < 200 ? `T-301 level ${m301.toFixed(1)} mm < 200 mm` : `T-601 level ${m601.toFixed(1)} mm > 850 mm`);
    } else if (st.p301 === 0 && (m601 < 650 || st.lsh601Stuck) && m301 > 250 && st.mv602 === 0) {
      st.p301 = 1;
      command(tc, 'P-301', 1, st.lsh601Stuck ? 'LSL-601 low-level switch active' : `T-601 level ${m601.toFixed(1)} mm < 650 mm`);
    }
    if (st.p301 === 1 && st.fouling > 12) {
      st.fouling = 1 + rProc.next();
      log(tc + 10, 'PLC-3', 'info', 'UF-301 backwash completed (dp limit reached)', { 'event.action': 'backwash', 'host.name': 'PLC-3', 'process.name': 'plc-runtime' });
    }
    if (st.p601Tripped) {
      if (st.p601 === 1) st.p601 = 0;
    } else if (st.p601 === 1 && m601 < 150) {
      st.p601 = 0;
      command(tc, 'P-601', 0, `T-601 level ${m601.toFixed(1)} mm < 150 mm (dry-run protection)`);
    } else if (st.p601 === 0 && m601 > 250) {
      st.p601 = 1;
      command(tc, 'P-601', 1, `T-601 level ${m601.toFixed(1)} mm > 250 mm`);
    }

    // SCADA alarms (with hysteresis so they do not chatter).
    const ta = t + 80;
    alarm(ta, 'T-101 HIGH', alarms.has('T-101 HIGH') ? m101 > 880 : m101 > 900, '>', m101, 900, 'mm');
    alarm(ta, 'T-601 HIGH-HIGH', alarms.has('T-601 HIGH-HIGH') ? m601 > 980 : m601 > 1000, '>', m601, 1000, 'mm');
    alarm(ta, 'T-301 LOW', alarms.has('T-301 LOW') ? m301 < 270 : m301 < 250, '<', m301, 250, 'mm');
    const vibs: Record<Pump, number> = { 'P-101': values[7] ?? 0, 'P-301': values[16] ?? 0, 'P-601': values[31] ?? 0 };
    for (const p of PUMPS) {
      const tag = `${p} VIBRATION HIGH`;
      alarm(ta, tag, alarms.has(tag) ? vibs[p] > 4 : vibs[p] > 4.5, '>', vibs[p], 4.5, 'mm/s');
    }

    background(t);

    // Media.
    const el = t - start;
    const prevEl = k === 0 ? -1 : timeOf(k - 1) - start;
    if (audioEveryMs > 0 && (k === 0 || Math.floor(el / audioEveryMs) !== Math.floor(prevEl / audioEveryMs))) {
      const sound: Record<Pump, { running: boolean; shaftHz: number; load: number; cavitation: number; bearingWear: number }> = {
        'P-101': { running: p101Run, shaftHz: SHAFT_HZ['P-101'] * st.p101Speed, load: st.p101Speed, cavitation: cav, bearingWear: 0 },
        'P-301': { running: st.p301 === 1, shaftHz: SHAFT_HZ['P-301'], load: 1, cavitation: 0, bearingWear: 0 },
        'P-601': { running: st.p601 === 1, shaftHz: SHAFT_HZ['P-601'], load: clamp(p601Load, 0, 1), cavitation: 0, bearingWear: st.p601 ? st.bearing : 0 },
      };
      for (const p of PUMPS) {
        const bytes = encodeWav(synthPumpAudio(rAudio, sound[p], audioRate, audioMs), audioRate);
        ready.push({
          type: 'media',
          time: t,
          contentType: 'audio/wav',
          bytes,
          event: { kind: 'audio', id: nextId(), time: t, site, asset: p, stage: ASSET_STAGES[p] ?? 'control', source, sampleRateHz: audioRate, channels: 1, durationMs: audioMs },
        });
      }
    }
    if (imageEveryMs > 0 && (k === 0 || Math.floor(el / imageEveryMs) !== Math.floor(prevEl / imageEveryMs))) {
      for (const cam of CAMERAS) {
        const intruder = cam === 'cam-intake' ? st.intruder : undefined;
        const px = renderFrame(rImage, { camera: cam, width: imgW, height: imgH, timeMs: t, ...(intruder ? { intruder } : {}) });
        ready.push({
          type: 'media',
          time: t,
          contentType: 'image/png',
          bytes: encodePngGray(imgW, imgH, px),
          event: { kind: 'image', id: nextId(), time: t, site, asset: cam, stage: ASSET_STAGES[cam] ?? 'control', source, width: imgW, height: imgH },
        });
      }
    }
  }

  /** Normal activity at realistic low rates: operator logins, setpoint changes, alarm acks. */
  function background(t: number): void {
    while (nextAuthAt < t + dtMs) {
      const at = Math.round(nextAuthAt);
      const hmi = rLog.next() < 0.65;
      const user = hmi ? rLog.pick(['operator1', 'operator2']) : 'engineer';
      const ip = hmi ? HMI_IP : ENGINEER_IP;
      if (rLog.next() < 0.1) {
        auth(at, hmi ? 'hmi-1' : 'scada', user, ip, false);
        auth(at + 4000 + rLog.int(4000), hmi ? 'hmi-1' : 'scada', user, ip, true);
      } else auth(at, hmi ? 'hmi-1' : 'scada', user, ip, true);
      nextAuthAt += expo(rLog, 900) * 1000;
    }
    while (nextOperatorAt < t + dtMs) {
      const at = Math.round(nextOperatorAt);
      const user = rLog.pick(['operator1', 'operator2']);
      if (rLog.next() < 0.5) {
        const old = st.phSetpoint;
        st.phSetpoint = round(clamp(old + rLog.pick([-0.1, 0.1]), 7.4, 7.8), 1);
        scada(at, 'notice', `${user} changed AIT-202 pH setpoint ${old.toFixed(1)} -> ${st.phSetpoint.toFixed(1)}`, {
          'event.action': 'setpoint.change',
          'user.name': user,
          'source.ip': HMI_IP,
        });
      } else {
        scada(at, 'info', `${user} acknowledged ${alarms.size} active alarm(s)`, { 'event.action': 'alarm.ack', 'user.name': user, 'source.ip': HMI_IP });
      }
      nextOperatorAt += expo(rLog, 1200) * 1000;
    }
  }

  /** Moves logs due before `bound` into the ready list, in time order. */
  function flushLogs(bound: number): void {
    if (pendingLogs.length === 0) return;
    pendingLogs.sort((a, b) => a.time - b.time || a.order - b.order);
    let i = 0;
    while (i < pendingLogs.length && (pendingLogs[i] as PendingLog).time < bound) {
      const l = pendingLogs[i] as PendingLog;
      ready.push({
        type: 'event',
        time: l.time,
        event: { kind: 'log', id: nextId(), time: l.time, site, asset: l.asset, stage: ASSET_STAGES[l.asset] ?? 'control', source, level: l.level, message: l.message, fields: l.fields },
      });
      i++;
    }
    pendingLogs.splice(0, i);
  }

  const out: Plant = {
    get now() {
      return timeOf(tick);
    },
    advance(untilMs: number): SimOutput[] {
      while (timeOf(tick) <= untilMs) {
        step(tick);
        tick++;
        // Logs of this tick fall before the next tick; flushing them here keeps ids chunk-independent.
        flushLogs(timeOf(tick));
      }
      // Release, in time order, what is due; the rest waits for a later call.
      ready.sort((a, b) => a.time - b.time);
      let n = 0;
      while (n < ready.length && (ready[n] as SimOutput).time <= untilMs) n++;
      return ready.splice(0, n);
    },
  };
  return out;
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}
function expo(rng: Rng, meanS: number): number {
  return -Math.log(1 - rng.next()) * meanS;
}
