import { describe, expect, it } from 'vitest';
import { ingestBatch } from '../../../functions/ingest/ingest';
import type { Envelope } from '../../../functions/shared/domain/messages';
import { ValidationError } from '../../../functions/shared/errors';
import { InMemoryMetricsStore } from './fakes';

const NOW = Date.parse('2026-11-24T06:00:00.000Z');

function harness() {
  const store = new InMemoryMetricsStore();
  const published: { channel: string; message: Envelope }[] = [];
  const deps = {
    store,
    clock: () => NOW,
    publish: async (channel: string, message: Envelope) => {
      published.push({ channel, message });
    },
  };
  return { store, published, deps };
}

describe('ingestBatch', () => {
  it('stores every point and broadcasts the merged host snapshot on system_metrics', async () => {
    const { store, published, deps } = harness();

    const result = await ingestBatch(
      {
        metrics: [
          { name: 'cpu_usage', value: 12.5, labels: { host: 'web-1' } },
          { name: 'memory_usage', value: 48.2, labels: { host: 'web-1' } },
          { name: 'queue_depth', value: 7 },
        ],
      },
      deps,
    );

    expect(result).toEqual({ accepted: 3 });
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
  });

  it('stores nothing and broadcasts nothing when the batch is invalid', async () => {
    const { store, published, deps } = harness();

    await expect(
      ingestBatch(
        {
          metrics: [
            { name: 'ok', value: 1 },
            { name: 'bad name', value: 1 },
          ],
        },
        deps,
      ),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(store.points).toHaveLength(0);
    expect(published).toHaveLength(0);
  });

  it('does not broadcast a snapshot that an older batch would move backwards', async () => {
    const { published, deps } = harness();
    await ingestBatch(
      { metrics: [{ name: 'cpu_usage', value: 50, timestamp: NOW, labels: { host: 'h' } }] },
      deps,
    );

    await ingestBatch(
      { metrics: [{ name: 'cpu_usage', value: 10, timestamp: NOW - 60_000, labels: { host: 'h' } }] },
      deps,
    );

    expect(published).toHaveLength(1);
  });

  it('still accepts the batch when broadcasting fails, and reports the failure', async () => {
    const { store, deps } = harness();
    const failures: unknown[] = [];

    const result = await ingestBatch(
      { metrics: [{ name: 'cpu_usage', value: 1, labels: { host: 'h' } }] },
      {
        ...deps,
        publish: async () => {
          throw new Error('socket layer down');
        },
        onPublishError: (error) => failures.push(error),
      },
    );

    expect(result).toEqual({ accepted: 1 });
    expect(store.points).toHaveLength(1);
    expect(failures).toHaveLength(1);
  });
});
