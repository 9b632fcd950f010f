/**
 * A seeded generator of labelled log lines for benchmarks and accuracy tests: 48 true templates
 * in the style of the plant's PLC, SCADA, authentication and system logs, each line tagged with
 * the template that produced it. Variables are numbers, IPs, ports, user and asset names, paths,
 * hex ids and durations, so both masking and the similarity search are exercised. Template
 * frequencies are skewed (a few templates dominate, as in real logs).
 *
 * Also grouping accuracy (Zhu et al., "Tools and Benchmarks for Automated Log Parsing", 2019):
 * a line counts as correct when the set of lines sharing its predicted group is exactly the set
 * sharing its true template.
 *
 * @example
 * const lines = labelledLog({ seed: 1, lines: 10_000 });
 * lines[0]; // { template: 7, message: 'P-101 started (auto: level high)' }
 * groupingAccuracy(lines.map((l) => l.template), predicted);
 */

export interface LabelledLine {
  /** True template index (0-based). */
  template: number;
  message: string;
}

/** mulberry32: small, fast, seeded. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Gen = (r: Rand) => string;

class Rand {
  constructor(readonly u: () => number) {}
  int(n: number): number {
    return Math.floor(this.u() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  ip(): string {
    return `10.${this.int(4)}.${this.int(256)}.${1 + this.int(254)}`;
  }
  num(lo: number, hi: number, digits = 1): string {
    return (lo + this.u() * (hi - lo)).toFixed(digits);
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(16)];
    return s;
  }
}

const USERS = ['operator1', 'operator2', 'tech1', 'admin', 'maint', 'root', 'scada', 'eng-lee', 'eng-kaur'];
const PUMPS = ['P-101', 'P-102', 'P-201', 'P-401', 'P-601'];
const VALVES = ['MV-101', 'MV-201', 'MV-302', 'MV-602'];
const TAGS = ['LIT-101', 'FIT-201', 'AIT-202', 'PIT-301', 'DPIT-301', 'LIT-401'];
const PLCS = ['PLC-1', 'PLC-2', 'PLC-3', 'PLC-4', 'PLC-6'];
const REASONS = ['level high', 'level low', 'schedule', 'interlock', 'operator request'];
const SERVICES = ['historian', 'opcua-gw', 'modbus-bridge', 'alarm-server'];
const FILES = [
  '/var/log/scada/events.log',
  '/opt/scada/config/tags.yaml',
  '/var/lib/historian/db.dat',
  '/etc/plc/map.csv',
];

/** The true templates: [relative frequency weight, generator]. */
const TEMPLATES: ReadonlyArray<readonly [number, Gen]> = [
  [40, (r) => `${r.pick(PUMPS)} started (auto: ${r.pick(REASONS)})`],
  [40, (r) => `${r.pick(PUMPS)} stopped (auto: ${r.pick(REASONS)})`],
  [30, (r) => `Accepted password for ${r.pick(USERS)} from ${r.ip()} port ${40000 + r.int(20000)} ssh2`],
  [12, (r) => `Failed password for ${r.pick(USERS)} from ${r.ip()} port ${40000 + r.int(20000)} ssh2`],
  [
    10,
    (r) =>
      `Failed password for invalid user ${r.pick(['pi', 'test', 'oracle', 'guest'])} from ${r.ip()} port ${40000 + r.int(20000)} ssh2`,
  ],
  [20, (r) => `pam_unix(sshd:session): session opened for user ${r.pick(USERS)} by (uid=0)`],
  [20, (r) => `pam_unix(sshd:session): session closed for user ${r.pick(USERS)}`],
  [15, (r) => `HMI login for ${r.pick(USERS)} succeeded`],
  [6, (r) => `HMI login for ${r.pick(USERS)} failed: bad password`],
  [25, (r) => `ALARM ${r.pick(TAGS)}: ${r.num(0, 100)} m3/h above high limit ${r.num(50, 90)} m3/h`],
  [25, (r) => `ALARM CLEARED ${r.pick(TAGS)}: ${r.num(0, 100)} m3/h`],
  [8, (r) => `${r.pick(USERS)} changed AIT-202 pH setpoint ${r.num(6, 8)} -> ${r.num(6, 8)}`],
  [10, (r) => `${r.pick(USERS)} acknowledged ${1 + r.int(9)} active alarm(s)`],
  [
    6,
    (r) =>
      `write ${r.pick(['P101', 'P201', 'MV101'])} := ${r.int(2)} (${r.pick(['start', 'stop', 'open', 'close'])}) from ${r.ip()}, mode MANUAL`,
  ],
  [5, (r) => `${r.pick(TAGS)} communication timeout: no data for ${10 + r.int(50)} s`],
  [3, (r) => `${r.pick(PUMPS)} TRIP: motor overload relay opened`],
  [4, (r) => `UF-301 backwash completed (dp limit reached) after ${r.int(600)} s`],
  [
    4,
    (r) =>
      `maintenance: ${r.pick(PUMPS)} ${r.pick(['suction strainer cleaned', 'bearing replaced', 'seal inspected'])}`,
  ],
  [20, (r) => `${r.pick(PLCS)} scan cycle ${r.int(50)} ms, ${r.int(3)} overruns`],
  [15, (r) => `modbus read ${r.pick(PLCS)} unit ${1 + r.int(5)} register ${40001 + r.int(200)} ok in ${r.int(30)} ms`],
  [
    5,
    (r) =>
      `modbus read ${r.pick(PLCS)} unit ${1 + r.int(5)} register ${40001 + r.int(200)} failed: exception code ${1 + r.int(4)}`,
  ],
  [
    10,
    (r) => `opcua session ${r.hex(8)}-${r.hex(4)}-${r.hex(4)}-${r.hex(4)}-${r.hex(12)} created for ${r.pick(USERS)}`,
  ],
  [
    10,
    (r) => `opcua session ${r.hex(8)}-${r.hex(4)}-${r.hex(4)}-${r.hex(4)}-${r.hex(12)} closed after ${r.int(3600)} s`,
  ],
  [12, (r) => `historian flushed ${r.int(5000)} points to ${r.pick(FILES)} in ${r.int(900)}ms`],
  [4, (r) => `historian write error on ${r.pick(FILES)}: disk quota exceeded`],
  [8, (r) => `service ${r.pick(SERVICES)} restarted by ${r.pick(USERS)}`],
  [8, (r) => `service ${r.pick(SERVICES)} health check passed (${r.int(100)}% cpu, ${r.int(4096)} MB rss)`],
  [3, (r) => `service ${r.pick(SERVICES)} health check failed: no response within ${r.int(30)} s`],
  [6, (r) => `config reload requested by ${r.pick(USERS)} from ${r.ip()}`],
  [6, (r) => `config reload finished: ${r.int(400)} tags, ${r.int(20)} changed, checksum 0x${r.hex(8)}`],
  [8, (r) => `valve ${r.pick(VALVES)} position ${r.int(101)}% (commanded ${r.int(101)}%)`],
  [3, (r) => `valve ${r.pick(VALVES)} did not reach position within ${r.int(60)} s`],
  [
    8,
    (r) =>
      `tank T-${r.pick(['101', '401', '601'])} level ${r.num(0, 5, 2)} m, inflow ${r.num(0, 60)} m3/h, outflow ${r.num(0, 60)} m3/h`,
  ],
  [6, (r) => `dosing pump ${r.pick(['DP-201', 'DP-202'])} stroke rate set to ${r.int(120)} spm by ${r.pick(USERS)}`],
  [5, (r) => `firmware check ${r.pick(PLCS)}: version ${r.int(4)}.${r.int(10)}.${r.int(30)} up to date`],
  [
    2,
    (r) =>
      `firmware check ${r.pick(PLCS)}: version mismatch, expected ${r.int(4)}.${r.int(10)}.${r.int(30)} got ${r.int(4)}.${r.int(10)}.${r.int(30)}`,
  ],
  [6, (r) => `NTP sync with ${r.ip()} offset ${r.num(-50, 50, 3)} ms`],
  [6, (r) => `connection from ${r.ip()}:${1024 + r.int(60000)} accepted on port 502`],
  [4, (r) => `connection from ${r.ip()}:${1024 + r.int(60000)} refused: not in allow list`],
  [6, (r) => `backup of ${r.pick(FILES)} written to /mnt/backup/${r.hex(12)}.tar.gz (${r.int(900)} MB)`],
  [3, (r) => `certificate for ${r.pick(SERVICES)} expires in ${r.int(90)} days`],
  [5, (r) => `user ${r.pick(USERS)} logged out after ${r.int(480)} min`],
  [4, (r) => `user ${r.pick(USERS)} password changed by ${r.pick(USERS)}`],
  [
    5,
    (r) =>
      `sudo: ${r.pick(USERS)} : TTY=pts/${r.int(5)} ; PWD=/home/${r.pick(USERS)} ; USER=root ; COMMAND=/usr/bin/systemctl restart ${r.pick(SERVICES)}`,
  ],
  [4, (r) => `kernel: eth${r.int(2)}: link ${r.pick(['up', 'down'])}, ${r.pick(['100', '1000'])} Mbps full duplex`],
  [3, (r) => `watchdog ${r.pick(PLCS)} heartbeat missed ${1 + r.int(5)} time(s)`],
  [2, (r) => `disk /dev/sda${1 + r.int(3)} usage ${60 + r.int(40)}% on ${r.pick(['scada', 'historian', 'hmi-1'])}`],
  [2, (r) => `alarm flood: ${20 + r.int(200)} alarms in ${1 + r.int(10)} min, shelving ${r.pick(TAGS)}`],
];

export const LABELLED_TEMPLATE_COUNT = TEMPLATES.length;

/** Generates `lines` labelled lines; the same seed gives the same lines. */
export function labelledLog(opts: { seed: number; lines: number }): LabelledLine[] {
  const r = new Rand(rng(opts.seed));
  const total = TEMPLATES.reduce((a, [w]) => a + w, 0);
  const out: LabelledLine[] = [];
  for (let i = 0; i < opts.lines; i++) {
    let x = r.u() * total;
    let k = 0;
    while (k < TEMPLATES.length - 1 && x >= TEMPLATES[k]![0]) x -= TEMPLATES[k++]![0];
    out.push({ template: k, message: TEMPLATES[k]![1](r) });
  }
  return out;
}

/**
 * Grouping accuracy: the share of lines whose predicted group holds exactly the lines of their
 * true group. Labels of any type compared with `===` semantics (via Map keys).
 */
export function groupingAccuracy(truth: readonly unknown[], predicted: readonly unknown[]): number {
  if (truth.length !== predicted.length)
    throw new Error(`groupingAccuracy: ${truth.length} true labels but ${predicted.length} predicted`);
  if (truth.length === 0) return 1;
  // For each predicted group: its size and the true labels inside it (correct iff one true label whose group size is equal).
  const trueSize = new Map<unknown, number>();
  for (const t of truth) trueSize.set(t, (trueSize.get(t) ?? 0) + 1);
  const predGroups = new Map<unknown, { size: number; label: unknown; mixed: boolean }>();
  truth.forEach((t, i) => {
    const p = predicted[i];
    const g = predGroups.get(p);
    if (g === undefined) predGroups.set(p, { size: 1, label: t, mixed: false });
    else {
      g.size++;
      if (g.label !== t) g.mixed = true;
    }
  });
  let correct = 0;
  for (const g of predGroups.values()) if (!g.mixed && trueSize.get(g.label) === g.size) correct += g.size;
  return correct / truth.length;
}
