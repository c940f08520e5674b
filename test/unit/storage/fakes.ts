import type { BlockRef, CompactionStore, StoredBlock } from '../../../functions/compactor/compactor';
import {
  BLOCK_SPAN_MS,
  blockStart,
  decodeRawBlock,
  decodeRollup,
  encodeRawBlock,
  encodeRollup,
  MINUTE_MS,
  minuteOf,
  type SeriesPoint,
} from '../../../functions/shared/domain/blocks';
import type { MetricsReader, SeriesInfo } from '../../../functions/shared/domain/query';
import type { Stats } from '../../../functions/shared/domain/rollup';

const ref = (b: BlockRef) => `${b.kind}|${b.seriesId}|${b.start}`;

/**
 * An in-memory metrics table for the compactor and query cores. Blocks go through the real
 * binary codecs, so a round trip is exercised on every read.
 */
export class InMemoryStorage implements CompactionStore, MetricsReader {
  readonly segments = new Map<number, SeriesPoint[]>();
  readonly blocks = new Map<string, { ref: BlockRef; src: number; bytes: Uint8Array }>();
  readonly series: (SeriesInfo & { name: string })[] = [];
  watermark: number | undefined;
  puts = 0;

  /** Ingest: points arriving at `arrival` (epoch ms). */
  write(arrival: number, points: readonly SeriesPoint[]): void {
    const m = minuteOf(arrival);
    this.segments.set(m, [...(this.segments.get(m) ?? []), ...points]);
  }

  async readWatermark() {
    return this.watermark;
  }
  async writeWatermark(w: number) {
    this.watermark = w;
  }
  async readSegmentMinute(m: number) {
    return this.segments.get(m) ?? [];
  }
  async getBlocks(refs: readonly BlockRef[]): Promise<StoredBlock[]> {
    return refs.flatMap((r) => {
      const stored = this.blocks.get(ref(r));
      if (!stored) return [];
      return [
        r.kind === 'raw'
          ? { ...r, src: stored.src, points: decodeRawBlock(r.start, stored.bytes) }
          : { ...r, src: stored.src, slots: decodeRollup(stored.bytes) },
      ];
    });
  }
  async putBlocks(blocks: readonly StoredBlock[]) {
    for (const b of blocks) {
      this.puts++;
      const bytes =
        b.kind === 'raw' ? encodeRawBlock(b.start, b.points ?? []) : encodeRollup(b.slots ?? new Map());
      this.blocks.set(ref(b), {
        ref: { kind: b.kind, seriesId: b.seriesId, start: b.start },
        src: b.src,
        bytes,
      });
    }
  }

  async listNames() {
    return [...new Set(this.series.map((s) => s.name))];
  }
  async listSeries(name: string) {
    return this.series.filter((s) => s.name === name);
  }
  async readRaw(ids: readonly string[], from: number, to: number) {
    const result = new Map<string, [number, number][]>();
    for (const id of ids) {
      const points: [number, number][] = [];
      for (const { ref: r, bytes } of this.blocks.values()) {
        if (r.kind !== 'raw' || r.seriesId !== id || r.start < blockStart('raw', from) || r.start >= to)
          continue;
        points.push(...decodeRawBlock(r.start, bytes).filter(([t]) => t >= from && t < to));
      }
      result.set(
        id,
        points.sort((a, b) => a[0] - b[0]),
      );
    }
    return result;
  }
  async readRollups(kind: 'm1' | 'h1', ids: readonly string[], from: number, to: number) {
    const slotSpan = kind === 'm1' ? MINUTE_MS : BLOCK_SPAN_MS.h1;
    const result = new Map<string, Map<number, Stats>>();
    for (const id of ids) {
      const slots = new Map<number, Stats>();
      for (const { ref: r, bytes } of this.blocks.values()) {
        if (r.kind !== kind || r.seriesId !== id) continue;
        for (const [slot, stats] of decodeRollup(bytes)) {
          const t = r.start + slot * slotSpan;
          if (t >= from && t < to) slots.set(t, stats);
        }
      }
      result.set(id, slots);
    }
    return result;
  }
}
