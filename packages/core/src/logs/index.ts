/**
 * Logs: line parsers (syslog RFC 3164/5424, JSON lines, plain) mapped to ECS fields, and the
 * online template miner whose plain-JSON state the log detectors keep.
 *
 * @example
 * import { parseLogLine, initMiner, mine, DEFAULT_MINER_PARAMS } from '../logs/index.ts';
 * const rec = parseLogLine(line, { format: 'auto', line: 1, year: 2024 });
 * const { id } = mine(DEFAULT_MINER_PARAMS, initMiner(), rec.message);
 */
export * from './parse.ts';
export * from './mask.ts';
export * from './miner.ts';
