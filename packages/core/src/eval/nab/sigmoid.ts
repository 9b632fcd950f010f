/**
 * NAB's scaled sigmoid: how much a detection is worth given its position relative to a window.
 * Position -1 is a window's left edge (worth ~0.987), 0 its right edge (worth 0), positive
 * positions lie after a window (negative worth, tending to -1).
 *
 * @example
 * scaledSigmoid(-1); // 0.98661...
 * scaledSigmoid(0.5); // -0.848...
 */

/** `2 / (1 + e^(5p)) - 1`, pinned to -1 beyond p = 3 as NAB does. */
export function scaledSigmoid(position: number): number {
  if (position > 3) return -1;
  return 2 / (1 + Math.exp(5 * position)) - 1;
}

/** Worth of a detection at a window's very left edge; TP scores are normalised by it so the best TP is worth 1. */
export const MAX_TP_SIGMOID = scaledSigmoid(-1);
