/**
 * DDSketch (Masson, Rim & Lee, VLDB 2019): a mergeable quantile sketch with a relative-error
 * guarantee. Every value x ≠ 0 falls in the log-spaced bucket i = ⌈log_γ |x|⌉ with
 * γ = (1 + α) / (1 − α); a bucket answers with 2γ^i / (γ + 1), which is within α of every value it
 * holds. So the answer for quantile q is within ±α (relative) of the true value at rank
 * ⌊q · (n − 1)⌋. Stores are sparse (`index → count`); merging adds counts, so it is associative
 * and commutative and a sketch of a minute merges into a sketch of an hour with no extra error.
 */

/** The relative accuracy α of every sketch Pulseboard stores. */
export const SKETCH_RELATIVE_ACCURACY = 0.01;

const GAMMA = (1 + SKETCH_RELATIVE_ACCURACY) / (1 - SKETCH_RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
/** Values closer to zero than this count as zero (keeps bucket indexes small and bounded). */
const MIN_INDEXABLE = 1e-9;

/** A DDSketch with positive, negative and zero stores. */
export class Sketch {
  readonly positive = new Map<number, number>();
  readonly negative = new Map<number, number>();
  zeroCount = 0;

  /** Total number of values added. */
  get count(): number {
    let n = this.zeroCount;
    for (const c of this.positive.values()) n += c;
    for (const c of this.negative.values()) n += c;
    return n;
  }

  add(value: number, count = 1): this {
    if (!Number.isFinite(value)) return this;
    const magnitude = Math.abs(value);
    if (magnitude < MIN_INDEXABLE) {
      this.zeroCount += count;
      return this;
    }
    const store = value > 0 ? this.positive : this.negative;
    const index = bucketIndex(magnitude);
    store.set(index, (store.get(index) ?? 0) + count);
    return this;
  }

  /** Adds another sketch's counts into this one. */
  merge(other: Sketch): this {
    this.zeroCount += other.zeroCount;
    for (const [i, c] of other.positive) this.positive.set(i, (this.positive.get(i) ?? 0) + c);
    for (const [i, c] of other.negative) this.negative.set(i, (this.negative.get(i) ?? 0) + c);
    return this;
  }

  clone(): Sketch {
    return new Sketch().merge(this);
  }

  /** The approximate value at quantile q ∈ [0, 1], or NaN for an empty sketch. */
  quantile(q: number): number {
    const total = this.count;
    if (total === 0 || !(q >= 0 && q <= 1)) return Number.NaN;
    const rank = q * (total - 1);
    let seen = 0;
    // Ascending order of value: negatives from the largest magnitude down, zero, positives up.
    for (const index of [...this.negative.keys()].sort((a, b) => b - a)) {
      seen += this.negative.get(index) ?? 0;
      if (seen > rank) return -bucketValue(index);
    }
    seen += this.zeroCount;
    if (seen > rank) return 0;
    for (const index of [...this.positive.keys()].sort((a, b) => a - b)) {
      seen += this.positive.get(index) ?? 0;
      if (seen > rank) return bucketValue(index);
    }
    return bucketValue(Math.max(...this.positive.keys()));
  }
}

/** The bucket of a positive magnitude. */
export function bucketIndex(magnitude: number): number {
  return Math.ceil(Math.log(magnitude) / LOG_GAMMA);
}

/** The value a bucket answers with: within α of anything in (γ^(i−1), γ^i]. */
export function bucketValue(index: number): number {
  return (2 * GAMMA ** index) / (GAMMA + 1);
}
