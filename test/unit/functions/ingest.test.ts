import { describe, expect, it } from 'vitest';
import { ingestItems } from '../../../functions/ingest/ingest';
import type { RawDatapoint } from '../../../functions/shared/domain/ingest';
import type { Envelope } from '../../../functions/shared/domain/messages';
import type { Datapoint } from '../../../functions/shared/domain/metrics';
import { PulseboardError } from '../../../functions/shared/errors';
import { InMemoryMetricsStore } from './fakes';

const NOW = Date.parse('2026-11-24T06:00:00.000Z');

/** A store whose cardinality guard refuses every point of the named metric. */
class CappedStore extends InMemoryMetricsStore {
  constructor(private readonly fullMetric: string) {
    super();
  }
  override async registerSeries(points: readonly Datapoint[]) {
    return { rejected: new Set(points.flatMap((p, i) => (p.name === this.fullMetric ? [i] : []))) };
  }
}

function harness(store = new InMemoryMetricsStore()) {
  const published: { channel: string; message: Envelope }[] = [];
  const pointBatches: (readonly Datapoint[])[] = [];
  const deps = {
    store,
    clock: () => NOW,
    publish: async (channel: string, message: Envelope) => {
      published.push({ channel, message });
    },
    publishPoints: async (points: readonly Datapoint[]) => {
      pointBatches.push(points);
    },
  };
  return { store, published, pointBatches, deps };
}

const item = (name: unknown, value: unknown, labels?: unknown): RawDatapoint => ({ name, value, labels });

describe('ingestItems', () => {
  it('stores every valid point, broadcasts the host snapshot and the points once', async () => {
    const { store, published, pointBatches, deps } = harness();

    const result = await ingestItems(
      [
        item('cpu_usage', 12.5, { host: 'web-1' }),
        item('memory_usage', 48.2, { host: 'web-1' }),
        item('queue_depth', 7),
      ],
      deps,
    );

    expect(result).toEqual({ accepted: 3, rejected: [] });
    expect(store.points).toHaveLength(3);
    expect(published).toEqual([
      {
        channel: 'system_metrics',
        message: {
          type: 'system_metrics',
          payload: {
            host: 'web-1',
            timestamp: new Date(NOW).toISOString(),
            cpu_usage: 12.5,
            memory_usage: 48.2,
          },
        },
      },
    ]);
    expect(pointBatches).toHaveLength(1);
    expect(pointBatches[0]?.map((p) => p.name)).toEqual(['cpu_usage', 'memory_usage', 'queue_depth']);
  });

  it('keeps the valid points of a mixed batch and lists each rejected item by index', async () => {
    const { store, deps } = harness();

    const result = await ingestItems(
      [item('ok_a', 1), item('bad name', 1), item('ok_b', 2), item('ok_c', 'NaN')],
      deps,
    );

    expect(result.accepted).toBe(2);
    expect(result.rejected.map((r) => [r.index, r.code])).toEqual([
      [1, 'INVALID_NAME'],
      [3, 'INVALID_VALUE'],
    ]);
    expect(store.points.map((p) => p.name)).toEqual(['ok_a', 'ok_b']);
    expect(store.points.every((p) => !('index' in p))).toBe(true);
  });

  it('refuses new series over the cardinality limit as per-item rejections', async () => {
    const { store, deps } = harness(new CappedStore('exploding'));

    const result = await ingestItems([item('exploding', 1, { id: 'x' }), item('fine', 1)], deps);

    expect(result.accepted).toBe(1);
    expect(result.rejected).toEqual([
      { index: 0, code: 'CARDINALITY_LIMIT', message: expect.stringContaining('exploding') },
    ]);
    expect(store.points.map((p) => p.name)).toEqual(['fine']);
  });

  it('is a client error listing every rejection when nothing is valid, and stores nothing', async () => {
    const { store, published, deps } = harness();

    const error = await ingestItems([item('', 1), item('x', Number.POSITIVE_INFINITY)], deps).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(PulseboardError);
    expect((error as PulseboardError).code).toBe('VALIDATION_FAILED');
    expect((error as PulseboardError).details?.rejected).toHaveLength(2);
    expect(store.points).toHaveLength(0);
    expect(published).toHaveLength(0);
  });

  it('does not broadcast a snapshot that an older batch would move backwards', async () => {
    const { published, deps } = harness();
    await ingestItems([{ name: 'cpu_usage', value: 50, timestamp: NOW, labels: { host: 'h' } }], deps);

    await ingestItems(
      [{ name: 'cpu_usage', value: 10, timestamp: NOW - 60_000, labels: { host: 'h' } }],
      deps,
    );

    expect(published).toHaveLength(1);
  });

  it('still accepts the batch when broadcasting fails, and reports each failure', async () => {
    const { store, deps } = harness();
    const failures: unknown[] = [];
    const down = async () => {
      throw new Error('socket layer down');
    };

    const result = await ingestItems([item('cpu_usage', 1, { host: 'h' })], {
      ...deps,
      publish: down,
      publishPoints: down,
      onPublishError: (error) => failures.push(error),
    });

    expect(result).toEqual({ accepted: 1, rejected: [] });
    expect(store.points).toHaveLength(1);
    expect(failures).toHaveLength(2);
  });
});
