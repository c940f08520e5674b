import { describe, expect, it } from 'vitest';
import {
  closedBefore,
  decodeRawBlock,
  decodeRollup,
  decodeSegment,
  encodeRawBlock,
  encodeRollup,
  encodeSegment,
  firstOpenBlock,
  isCompacted,
} from '../../../functions/shared/domain/blocks';
import { mergeStats, statsOf } from '../../../functions/shared/domain/rollup';
import { seededRandom as random } from '../../support/random';

const T0 = Date.UTC(2026, 10, 24, 6, 0, 0);

describe('raw blocks', () => {
  it('round-trip 60 points at 10 s in well under 1 KB, decimals or full doubles', () => {
    const next = random(1);
    const decimals = Array.from(
      { length: 60 },
      (_, i) => [T0 + i * 10_000, Math.round(next() * 10_000) / 100] as [number, number],
    );
    const doubles = decimals.map(([t]) => [t + 37, next() * 1e6] as [number, number]);

    const a = encodeRawBlock(T0, decimals);
    const b = encodeRawBlock(T0, doubles);

    expect(decodeRawBlock(T0, a)).toEqual(decimals);
    expect(decodeRawBlock(T0, b)).toEqual(doubles);
    expect(a.byteLength).toBeLessThan(200);
    expect(b.byteLength).toBeLessThan(560);
  });

  it('keeps irregular timestamps and negative values exactly', () => {
    const points: [number, number][] = [
      [T0 + 3, -1.5],
      [T0 + 9_000, 0],
      [T0 + 9_001, 2 ** 40],
      [T0 + 599_999, -0.000001],
    ];

    expect(decodeRawBlock(T0, encodeRawBlock(T0, points))).toEqual(points);
  });
});

describe('rollups', () => {
  it('round-trip an hour of minute slots with their sketches', () => {
    const next = random(2);
    const slots = new Map(
      Array.from(
        { length: 60 },
        (_, m) => [m, statsOf(Array.from({ length: 6 }, () => Math.round(next() * 10_000) / 100))] as const,
      ),
    );

    const bytes = encodeRollup(slots);

    expect(decodeRollup(bytes)).toEqual(slots);
    // Uniformly random values are the worst case (~42 B per minute): at most 3 write units per hour.
    expect(bytes.byteLength).toBeLessThan(3 * 1024 - 100);
  });

  it('merges associatively, including counter resets across the boundary', () => {
    const [a, b, c] = [
      [1, 2, 5],
      [7, 1, 3],
      [4, 9],
    ].map(statsOf) as [ReturnType<typeof statsOf>, ReturnType<typeof statsOf>, ReturnType<typeof statsOf>];

    const left = mergeStats(mergeStats(a, b), c);
    const right = mergeStats(a, mergeStats(b, c));

    expect(left).toEqual(right);
    expect(left).toMatchObject({ count: 8, sum: 32, min: 1, max: 9, first: 1, last: 9 });
    // 1→2→5 (+4), 5→7 (+2), 7→1 reset (+1), 1→3 (+2), 3→4 (+1), 4→9 (+5)
    expect(left.inc).toBe(15);
    expect(left).toEqual(statsOf([1, 2, 5, 7, 1, 3, 4, 9]));
  });
});

describe('segments', () => {
  it('round-trip with each series id written once, and split into chunks below the limit', () => {
    const points = Array.from({ length: 1000 }, (_, i) => ({
      id: `${i % 100}`.padStart(16, 'a'),
      t: T0 + Math.floor(i / 100) * 10_000,
      v: i / 8,
    }));

    const [one] = encodeSegment(points);
    const chunks = encodeSegment(points, 1024);

    expect(decodeSegment(one as Uint8Array)).toEqual(points);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.every((c) => c.byteLength <= 1024)).toBe(true);
    expect(chunks.flatMap(decodeSegment)).toEqual(points);
  });
});

describe('compaction windows', () => {
  it('closes an arrival minute 90 s after it starts', () => {
    expect(closedBefore(T0 + 89_999)).toBe(T0); // minute T0 still open
    expect(closedBefore(T0 + 90_000)).toBe(T0 + 60_000);
  });

  it('counts an on-time point as compacted once its block is finalized, a late one once its minute closes', () => {
    const t = T0 + 5 * 60_000; // raw block [T0, T0+10m), finalized at T0+11m
    expect(isCompacted('raw', t, T0 + 5 * 60_000, T0 + 10 * 60_000)).toBe(false);
    expect(isCompacted('raw', t, T0 + 5 * 60_000, T0 + 11 * 60_000)).toBe(true);
    expect(isCompacted('raw', t, T0 + 30 * 60_000, T0 + 30 * 60_000)).toBe(false);
    expect(isCompacted('raw', t, T0 + 30 * 60_000, T0 + 31 * 60_000)).toBe(true);
    expect(firstOpenBlock('raw', T0 + 11 * 60_000)).toBe(T0 + 10 * 60_000);
    expect(firstOpenBlock('raw', T0 + 11 * 60_000 - 1)).toBe(T0);
  });
});
