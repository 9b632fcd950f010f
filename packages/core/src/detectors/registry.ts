/**
 * The one explicit registry of detector types: config `type:` → definition.
 * No registration by import side effects; adding a detector means adding a line here.
 */
import type { DetectorDef } from './contract.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous params/state, checked per entry
export type AnyDetectorDef = DetectorDef<any, any, any>;

export const detectorRegistry: Readonly<Record<string, AnyDetectorDef>> = {};
