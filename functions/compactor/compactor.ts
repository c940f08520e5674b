import {
  ARRIVAL_GRACE_MS,
  arrivesOnTime,
  BLOCK_KINDS,
  BLOCK_SPAN_MS,
  type BlockKind,
  blockStart,
  closedBefore,
  finalizedAt,
  MINUTE_MS,
  ON_TIME_AFTER_MS,
  ON_TIME_BEFORE_MS,
  type SeriesPoint,
} from '../shared/domain/blocks';
import { mergeStats, type Stats, statsOf } from '../shared/domain/rollup';

/** One stored block of one series: raw points, or rollup slots (minute of hour, or 0 for hourly). */
export interface StoredBlock {
  readonly kind: BlockKind;
  readonly seriesId: string;
  readonly start: number;
  /** The latest arrival minute merged in: replaying a minute ≤ src is a no-op (idempotent retries). */
  readonly src: number;
  readonly points?: readonly (readonly [number, number])[];
  readonly slots?: ReadonlyMap<number, Stats>;
}

/** What the compactor needs from the table. */
export interface CompactionStore {
  readWatermark(): Promise<number | undefined>;
  writeWatermark(watermark: number): Promise<void>;
  /** Every point written in one arrival minute (all shards). */
  readSegmentMinute(arrivalMinute: number): Promise<SeriesPoint[]>;
  getBlocks(keys: readonly BlockRef[]): Promise<StoredBlock[]>;
  /** Writes blocks whose retention has not passed yet. */
  putBlocks(blocks: readonly StoredBlock[]): Promise<void>;
}

export interface BlockRef {
  readonly kind: BlockKind;
  readonly seriesId: string;
  readonly start: number;
}

export interface CompactorOptions {
  /** On the very first run, how far back to look for segments. Default 70 min (an hour block + lag). */
  readonly initialLookbackMs?: number;
  /** At most this much arrival time per run, so a backlog drains over several runs. Default 3 h. */
  readonly maxSpanMs?: number;
}

export interface CompactionResult {
  readonly from: number;
  readonly to: number;
  readonly minutesRead: number;
  readonly pointsRead: number;
  readonly blocksWritten: Record<BlockKind, number>;
}

interface Contribution {
  readonly ref: BlockRef;
  readonly items: { m: number; t: number; v: number }[];
}

const refId = (r: BlockRef) => `${r.kind}|${r.seriesId}|${r.start}`;

/**
 * Moves every arrival minute that closed since the last run from segments into blocks.
 *
 * A point from arrival minute m with a block [B, B+span) is written exactly once:
 * - on time (m ∈ [B − 2 min, B + span + 60 s)): with the rest of its block, when the watermark
 *   reaches B + span + 60 s, so a block is normally written once;
 * - early or late otherwise: when minute m closes, by read-modify-write of its block.
 * Each block remembers the latest arrival minute merged in (`src`), so a run that failed halfway
 * is simply run again. Reserved concurrency 1 keeps the read-modify-write safe.
 */
export async function compact(
  now: number,
  store: CompactionStore,
  options: CompactorOptions = {},
): Promise<CompactionResult> {
  const closed = closedBefore(now);
  const previous = (await store.readWatermark()) ?? closed - (options.initialLookbackMs ?? 70 * MINUTE_MS);
  const watermark = Math.min(closed, previous + (options.maxSpanMs ?? 3 * 60 * MINUTE_MS));
  const empty = { raw: 0, m1: 0, h1: 0 };
  if (watermark <= previous) {
    return { from: previous, to: previous, minutesRead: 0, pointsRead: 0, blocksWritten: empty };
  }

  // Arrival minutes to read: the newly closed ones, plus the on-time range of every block that
  // is finalized by this run.
  let readFrom = previous;
  for (const kind of BLOCK_KINDS) {
    const span = BLOCK_SPAN_MS[kind];
    const first = blockStart(kind, previous - span - ON_TIME_AFTER_MS);
    for (let start = first; finalizedAt(kind, start) <= watermark; start += span) {
      if (finalizedAt(kind, start) > previous) {
        readFrom = Math.min(readFrom, start - ON_TIME_BEFORE_MS);
        break;
      }
    }
  }

  const contributions = new Map<string, Contribution>();
  let pointsRead = 0;
  let minutesRead = 0;
  for (let m = readFrom; m < watermark; m += MINUTE_MS) {
    const points = await store.readSegmentMinute(m);
    minutesRead++;
    pointsRead += points.length;
    for (const p of points) {
      for (const kind of BLOCK_KINDS) {
        const start = blockStart(kind, p.t);
        const fin = finalizedAt(kind, start);
        const due = arrivesOnTime(kind, start, m)
          ? fin > previous && fin <= watermark
          : m >= previous && m < watermark;
        if (!due) continue;
        const ref = { kind, seriesId: p.id, start };
        const key = refId(ref);
        let c = contributions.get(key);
        if (!c) {
          c = { ref, items: [] };
          contributions.set(key, c);
        }
        c.items.push({ m, t: p.t, v: p.v });
      }
    }
  }

  const existing = new Map(
    (await store.getBlocks([...contributions.values()].map((c) => c.ref))).map((b) => [refId(b), b]),
  );
  const blocks: StoredBlock[] = [];
  for (const [key, c] of contributions) {
    const before = existing.get(key);
    const fresh = c.items.filter((item) => !before || item.m > before.src);
    if (fresh.length === 0) continue;
    blocks.push(mergeInto(c.ref, before, fresh));
  }
  await store.putBlocks(blocks);
  await store.writeWatermark(watermark);

  const blocksWritten = { ...empty };
  for (const b of blocks) blocksWritten[b.kind]++;
  return { from: previous, to: watermark, minutesRead, pointsRead, blocksWritten };
}

/** The block with new points merged in; the same series and instant keeps the latest arrival. */
export function mergeInto(
  ref: BlockRef,
  before: StoredBlock | undefined,
  items: readonly { m: number; t: number; v: number }[],
): StoredBlock {
  const byTime = new Map<number, number>();
  for (const item of [...items].sort((a, b) => a.m - b.m)) byTime.set(item.t, item.v);
  const points = [...byTime].sort((a, b) => a[0] - b[0]);
  const src = Math.max(before?.src ?? Number.NEGATIVE_INFINITY, ...items.map((i) => i.m));
  if (ref.kind === 'raw') {
    const merged = new Map<number, number>(before?.points?.map(([t, v]) => [t, v]));
    for (const [t, v] of points) merged.set(t, v);
    return { ...ref, src, points: [...merged].sort((a, b) => a[0] - b[0]) };
  }
  const slotSpan = ref.kind === 'm1' ? MINUTE_MS : BLOCK_SPAN_MS.h1;
  const grouped = new Map<number, number[]>();
  for (const [t, v] of points) {
    const slot = Math.floor((t - ref.start) / slotSpan);
    const values = grouped.get(slot) ?? [];
    values.push(v);
    grouped.set(slot, values);
  }
  const slots = new Map(before?.slots ?? []);
  for (const [slot, values] of grouped) {
    const added = statsOf(values);
    const old = slots.get(slot);
    slots.set(slot, old ? mergeStats(old, added) : added);
  }
  return { ...ref, src, slots };
}

/** Exposed for docs and tests: how long after a minute ends it is considered closed. */
export const CLOSE_DELAY_MS = MINUTE_MS + ARRIVAL_GRACE_MS;
