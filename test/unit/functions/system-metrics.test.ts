import { describe, expect, it } from 'vitest';
import { snapshotUpdates } from '../../../functions/shared/domain/system-metrics';
import { NotFoundError, ValidationError } from '../../../functions/shared/errors';
import { latestSnapshot } from '../../../functions/system-metrics/system-metrics';
import { InMemoryMetricsStore } from './fakes';

const point = (
  name: string,
  value: number,
  timestamp: number,
  labels: Record<string, string> = { host: 'web-1' },
) => ({
  name,
  value,
  timestamp,
  labels,
});

describe('snapshotUpdates', () => {
  it('keeps the newest value of each system metric per host', () => {
    const updates = snapshotUpdates([
      point('cpu_usage', 10, 1000),
      point('cpu_usage', 30, 3000),
      point('cpu_usage', 20, 2000),
      point('memory_usage', 50, 1500),
      point('cpu_usage', 99, 1000, { host: 'web-2' }),
    ]);

    expect(updates).toEqual([
      { host: 'web-1', timestamp: 3000, values: { cpu_usage: 30, memory_usage: 50 } },
      { host: 'web-2', timestamp: 1000, values: { cpu_usage: 99 } },
    ]);
  });

  it('ignores points without a host label and metrics that are not system metrics', () => {
    expect(snapshotUpdates([point('cpu_usage', 1, 1, {}), point('http_requests_total', 5, 1)])).toEqual([]);
  });
});

describe('latestSnapshot', () => {
  it('answers the most recently updated host when none is named', async () => {
    const store = new InMemoryMetricsStore();
    await store.mergeSnapshot({ host: 'old', timestamp: 1000, values: { cpu_usage: 1 } });
    await store.mergeSnapshot({ host: 'new', timestamp: 2000, values: { cpu_usage: 2 } });

    const snapshot = await latestSnapshot(store, undefined);

    expect(snapshot).toMatchObject({ host: 'new', cpu_usage: 2, timestamp: new Date(2000).toISOString() });
  });

  it('is a not-found error before anything was ingested, and a validation error for a hostile host', async () => {
    const store = new InMemoryMetricsStore();

    await expect(latestSnapshot(store, undefined)).rejects.toBeInstanceOf(NotFoundError);
    await expect(latestSnapshot(store, 'web-1')).rejects.toBeInstanceOf(NotFoundError);
    await expect(latestSnapshot(store, '../../etc/passwd')).rejects.toBeInstanceOf(ValidationError);
  });
});
