/**
 * Errors of the worker command, with stable codes.
 *
 * @example
 * throw new WorkerConfigError(`${file}: /sources: a worker needs exactly one source of type kafka, found 0`);
 */
export class WorkerConfigError extends Error {
  readonly code = 'E_WORKER_CONFIG';
  override readonly name = 'WorkerConfigError';
}
