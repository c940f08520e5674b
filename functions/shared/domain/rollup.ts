import { Sketch } from './sketch';

/**
 * The summary of one series over one window (a minute or an hour): exact count, sum, min and max;
 * the first and last values and the counter increase inside the window (for `rate`, with counter
 * resets handled); and a DDSketch for approximate percentiles.
 */
export interface Stats {
  count: number;
  sum: number;
  min: number;
  max: number;
  first: number;
  last: number;
  /** Counter increase between consecutive points inside the window; a drop counts as a reset. */
  inc: number;
  sketch: Sketch;
}

/** The increase from one counter reading to the next: a drop means the counter restarted at 0. */
export function counterIncrease(previous: number, next: number): number {
  return next >= previous ? next - previous : next;
}

/** Summarises time-ordered values. */
export function statsOf(values: readonly number[]): Stats {
  const first = values[0] ?? Number.NaN;
  const stats: Stats = {
    count: 0,
    sum: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    first,
    last: first,
    inc: 0,
    sketch: new Sketch(),
  };
  values.forEach((value, i) => {
    stats.count++;
    stats.sum += value;
    if (value < stats.min) stats.min = value;
    if (value > stats.max) stats.max = value;
    if (i > 0) stats.inc += counterIncrease(stats.last, value);
    stats.last = value;
    stats.sketch.add(value);
  });
  return stats;
}

/**
 * Merges two summaries where `earlier` covers time before `later` (associative: merging minutes
 * into an hour in any grouping gives the same hour). Neither argument is changed.
 */
export function mergeStats(earlier: Stats, later: Stats): Stats {
  if (earlier.count === 0) return cloneStats(later);
  if (later.count === 0) return cloneStats(earlier);
  return {
    count: earlier.count + later.count,
    sum: earlier.sum + later.sum,
    min: Math.min(earlier.min, later.min),
    max: Math.max(earlier.max, later.max),
    first: earlier.first,
    last: later.last,
    inc: earlier.inc + later.inc + counterIncrease(earlier.last, later.first),
    sketch: earlier.sketch.clone().merge(later.sketch),
  };
}

export function cloneStats(stats: Stats): Stats {
  return { ...stats, sketch: stats.sketch.clone() };
}

/** Merges time-ordered summaries into one. */
export function mergeAll(ordered: readonly Stats[]): Stats | undefined {
  let merged: Stats | undefined;
  for (const stats of ordered) merged = merged ? mergeStats(merged, stats) : cloneStats(stats);
  return merged;
}
