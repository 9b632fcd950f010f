/**
 * The model stages' one error type, with a stable `code` the pipeline can act on without parsing
 * the message, and a message naming the model, the file and what did not match.
 *
 * @example
 * try { await loadModel(entry) } catch (e) { if (e instanceof ModelError && e.code === 'E_MODEL_MISMATCH') … }
 */
export type ModelErrorCode =
  /** A model entry or its metadata is malformed (unknown field, wrong type, inconsistent options). */
  | 'E_MODEL_CONFIG'
  /** The ONNX file could not be read or parsed by onnxruntime. */
  | 'E_MODEL_LOAD'
  /** The ONNX graph disagrees with the entry: input/output names, dtype or shape. */
  | 'E_MODEL_MISMATCH'
  /** An event could not be turned into the model's input (undecodable media, wrong frame size). */
  | 'E_MODEL_INPUT'
  /** Inference failed, or the model returned something the score mapping cannot read. */
  | 'E_MODEL_RUN'
  /** The stage was closed while the request waited. */
  | 'E_MODEL_CLOSED'
  /** A snapshot to restore is malformed. */
  | 'E_MODEL_STATE';

export class ModelError extends Error {
  override readonly name = 'ModelError';
  constructor(
    readonly code: ModelErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
