import { describe, expect, it } from 'vitest';
import { compact } from '../../../functions/compactor/compactor';
import { decodeRawBlock, decodeRollup } from '../../../functions/shared/domain/blocks';
import { InMemoryStorage } from './fakes';

const T0 = Date.UTC(2026, 10, 24, 6, 0, 0);
const MIN = 60_000;

/** Two series reporting every 10 s in real time from T0 for `minutes`. */
function ingestRealTime(store: InMemoryStorage, minutes: number) {
  for (let t = T0; t < T0 + minutes * MIN; t += 10_000) {
    store.write(t + 200, [
      { id: 'a', t, v: (t - T0) / 1000 },
      { id: 'b', t, v: 1 },
    ]);
  }
}

const rawBlocksOf = (store: InMemoryStorage, id: string) =>
  [...store.blocks.values()].filter((b) => b.ref.kind === 'raw' && b.ref.seriesId === id);

describe('compactor', () => {
  it('writes nothing for arrival minutes that are still open', async () => {
    const store = new InMemoryStorage();
    store.watermark = T0;
    ingestRealTime(store, 1);

    const result = await compact(T0 + 89_999, store);

    expect(result.blocksWritten).toEqual({ raw: 0, m1: 0, h1: 0 });
    expect(store.watermark).toBe(T0);
  });

  it('writes each on-time block once, when its window plus a minute has closed', async () => {
    // Prepare: the compactor runs every minute while data arrives in real time.
    const store = new InMemoryStorage();
    store.watermark = T0;
    ingestRealTime(store, 125);

    // Act
    for (let now = T0 + MIN; now <= T0 + 125 * MIN; now += MIN) await compact(now, store);

    // Assess: 12 raw blocks per series (2 h), 2 hours of m1 and h1 per series, each put once.
    expect(rawBlocksOf(store, 'a')).toHaveLength(12);
    expect(store.puts).toBe(2 * (12 + 2 + 2));
    const first = rawBlocksOf(store, 'a').find((b) => b.ref.start === T0);
    expect(decodeRawBlock(T0, first?.bytes as Uint8Array)).toHaveLength(60);
    const hour = [...store.blocks.values()].find((b) => b.ref.kind === 'm1' && b.ref.seriesId === 'b');
    const slots = decodeRollup(hour?.bytes as Uint8Array);
    expect(slots.size).toBe(60);
    expect(slots.get(0)).toMatchObject({ count: 6, sum: 6, min: 1, max: 1 });
  });

  it('merges late points into blocks that were already written (read-modify-write)', async () => {
    const store = new InMemoryStorage();
    store.watermark = T0;
    ingestRealTime(store, 15);
    await compact(T0 + 15 * MIN, store);
    // A point for 06:05 arrives at 06:20.
    store.write(T0 + 20 * MIN, [{ id: 'b', t: T0 + 5 * MIN + 5_000, v: 100 }]);

    await compact(T0 + 22 * MIN, store);

    const block = rawBlocksOf(store, 'b').find((b) => b.ref.start === T0);
    const points = decodeRawBlock(T0, block?.bytes as Uint8Array);
    expect(points).toHaveLength(61);
    expect(points).toContainEqual([T0 + 5 * MIN + 5_000, 100]);
  });

  it('is idempotent: a run repeated after a failed watermark write adds nothing twice', async () => {
    const store = new InMemoryStorage();
    store.watermark = T0;
    ingestRealTime(store, 15);
    await compact(T0 + 15 * MIN, store);
    const snapshot = new Map([...store.blocks].map(([k, v]) => [k, Buffer.from(v.bytes).toString('hex')]));

    store.watermark = T0; // as if the watermark write had failed
    await compact(T0 + 15 * MIN, store);

    expect(new Map([...store.blocks].map(([k, v]) => [k, Buffer.from(v.bytes).toString('hex')]))).toEqual(
      snapshot,
    );
  });

  it('starts from a bounded lookback on its first run and catches up a backlog over several runs', async () => {
    const store = new InMemoryStorage();
    ingestRealTime(store, 5);

    const first = await compact(T0 + 10 * MIN, store, { initialLookbackMs: 20 * MIN, maxSpanMs: 5 * MIN });
    const second = await compact(T0 + 10 * MIN, store, { maxSpanMs: 5 * MIN });

    expect(first.to - first.from).toBe(5 * MIN);
    expect(second.from).toBe(first.to);
    expect(store.watermark).toBe(T0 - MIN);
  });
});
