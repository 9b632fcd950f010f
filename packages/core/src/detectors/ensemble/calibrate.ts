/**
 * Score calibration and alert suppression for the ensemble detector, pure and JSON-stateful.
 *
 * Rarity: how unusual a raw score in [0,1] is for THIS stream. A histogram of past scores with
 * exponential forgetting (horizon `horizonPoints`) gives the tail probability p of a score at least
 * this high; rarity is -ln(p) / ln(horizon) in [0,1] (1 = never seen in a horizon's worth of
 * points). A detector that fires all the time on a noisy signal thus earns little rarity, the same
 * raw score on a quiet signal a lot: the empirical cousin of HTM's "anomaly likelihood".
 *
 * Suppression: after a score is let through, later scores must beat a bar that starts at that
 * score and falls linearly to 0 over `suppressPoints` points. Whatever threshold a user picks,
 * an anomaly is reported once, not on every row while it lasts (NAB rewards the first detection
 * in a window and charges every false one), unless it grows.
 *
 * @example
 * const c = rarityInit(50);
 * const r = rarityStep(c, 0.7, { bins: 50, horizonPoints: 2000, minPoints: 200 }); // then learns 0.7
 * const sup = suppressInit();
 * const out = suppressStep(sup, 0.8, 300); // 0.8; the next 299 points need more to pass
 */

export interface RarityState {
  /** Decayed counts of past scores per bin over [0,1]. */
  h: number[];
  /** Decayed total count. */
  tot: number;
  /** Scores seen. */
  n: number;
}

export interface RarityOptions {
  bins: number;
  horizonPoints: number;
  minPoints: number;
}

export function rarityInit(bins: number): RarityState {
  return { h: new Array<number>(bins).fill(0), tot: 0, n: 0 };
}

/** Rarity of `score` given the scores before it; then learns it. Scores <= 0 have rarity 0. */
export function rarityStep(c: RarityState, score: number, o: RarityOptions): number {
  const bins = c.h.length;
  const b = Math.min(bins - 1, Math.max(0, Math.floor(score * bins)));
  let atLeast = 0;
  for (let j = b; j < bins; j++) atLeast += c.h[j]!;
  // +1 on both sides: an unseen level has p = 1/(tot+1), never 0.
  const p = (atLeast + 1) / (c.tot + 1);
  c.n++;
  const keep = 1 - 1 / o.horizonPoints;
  for (let j = 0; j < bins; j++) c.h[j] = c.h[j]! * keep;
  c.tot = c.tot * keep + 1;
  c.h[b] = c.h[b]! + 1;
  if (c.n < o.minPoints || !(score > 0)) return 0;
  const r = -Math.log(p) / Math.log(o.horizonPoints);
  return r > 1 ? 1 : r > 0 ? r : 0;
}

export interface SuppressState {
  /** The last score let through. */
  peak: number;
  /** Points left before the bar is back to 0. */
  left: number;
}

export function suppressInit(): SuppressState {
  return { peak: 0, left: 0 };
}

/**
 * Returns `score` when it beats the decaying bar (and raises the bar to it), else 0. The bar
 * starts at `raise` × the score let through (capped at 1): with raise > 1, a score that keeps
 * creeping up while one event unfolds is reported once, not once per step.
 */
export function suppressStep(s: SuppressState, score: number, suppressPoints: number, raise = 1): number {
  if (suppressPoints <= 0) return score;
  if (s.left > 0) s.left--;
  const start = s.peak * raise > 1 ? 1 : s.peak * raise;
  const bar = s.left > 0 ? (start * s.left) / suppressPoints : 0;
  if (score > bar) {
    s.peak = score;
    s.left = suppressPoints;
    return score;
  }
  return 0;
}
