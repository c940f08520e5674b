import { describe, expect, it } from 'vitest';
import type { ConnectionStatus } from '../../../web/src/connection';
import type { SystemMetrics } from '../../../web/src/messages';
import {
  addSample,
  DEFAULT_INTERVAL_MS,
  deriveStatus,
  emptyState,
  type Freshness,
  freshness,
  type MetricsState,
  sampleIntervalMs,
} from '../../../web/src/state';

const T0 = Date.parse('2026-11-24T06:00:00.000Z');
const T0_SEC = T0 / 1000;

function sample(offsetSec: number, cpu = offsetSec, host = 'web-1'): SystemMetrics {
  return {
    timestamp: new Date(T0 + offsetSec * 1000).toISOString(),
    host,
    cpu_usage: cpu,
    memory_usage: cpu + 100,
    load_avg_1m: 0.5,
  };
}

/** Feeds samples at the given offsets (seconds), each seen when it was taken. */
function feed(
  offsets: number[],
  state: MetricsState = emptyState(),
  window = { windowSec: 600, maxPoints: 600 },
) {
  return offsets.reduce((s, offset) => addSample(s, sample(offset), T0 + offset * 1000, window), state);
}

describe('addSample', () => {
  it('builds uPlot columns of Unix seconds, CPU and memory', () => {
    const state = feed([0, 5]);

    expect(state.columns).toEqual([
      [T0_SEC, T0_SEC + 5],
      [0, 5],
      [100, 105],
    ]);
    expect(state.host).toBe('web-1');
    expect(state.latest).toEqual(sample(5));
  });

  it('inserts a late sample in timestamp order and keeps the newest as latest', () => {
    const state = feed([0, 10, 5]);

    expect(state.columns[0]).toEqual([T0_SEC, T0_SEC + 5, T0_SEC + 10]);
    expect(state.columns[1]).toEqual([0, 5, 10]);
    expect(state.latest).toEqual(sample(10));
  });

  it('replaces a repeated timestamp instead of plotting it twice', () => {
    const state = addSample(feed([0, 5]), sample(5, 42), T0 + 6_000);

    expect(state.columns).toEqual([
      [T0_SEC, T0_SEC + 5],
      [0, 42],
      [100, 142],
    ]);
  });

  it('trims points that fall out of the time window', () => {
    const state = feed([0, 30, 60, 90], emptyState(), { windowSec: 60, maxPoints: 100 });

    expect(state.columns[0]).toEqual([T0_SEC + 30, T0_SEC + 60, T0_SEC + 90]);
  });

  it('keeps at most maxPoints, dropping the oldest', () => {
    const state = feed([0, 1, 2, 3, 4], emptyState(), { windowSec: 600, maxPoints: 3 });

    expect(state.columns.map((column) => column.length)).toEqual([3, 3, 3]);
    expect(state.columns[0]).toEqual([T0_SEC + 2, T0_SEC + 3, T0_SEC + 4]);
  });

  it('does not plot a sample older than the window but still counts it as a sign of life', () => {
    const before = feed([700]);

    const after = addSample(before, sample(0), T0 + 705_000);

    expect(after.columns).toEqual(before.columns);
    expect(after.lastSeenAt).toBe(T0 + 705_000);
  });

  it('charts only the first host and lists the others', () => {
    const state = [sample(5, 1, 'web-2'), sample(5, 1, 'web-3'), sample(10, 1, 'web-2')].reduce(
      (s, other) => addSample(s, other, T0),
      feed([0]),
    );

    expect(state.host).toBe('web-1');
    expect(state.columns[0]).toEqual([T0_SEC]);
    expect(state.otherHosts).toEqual(['web-2', 'web-3']);
  });

  it('leaves the input state untouched', () => {
    const before = feed([0]);
    const snapshot = structuredClone(before);

    addSample(before, sample(5), T0 + 5_000);

    expect(before).toEqual(snapshot);
  });
});

describe('sampleIntervalMs', () => {
  it('assumes the default interval until two samples exist', () => {
    expect(sampleIntervalMs(feed([0]))).toBe(DEFAULT_INTERVAL_MS);
  });

  it('uses the median gap so one outage does not skew it', () => {
    expect(sampleIntervalMs(feed([0, 2, 4, 6, 60, 62]))).toBe(2_000);
  });
});

describe('freshness', () => {
  const frozen = feed([0, 5, 10]); // interval 5 s, last seen at T0 + 10 s

  it('is empty before any data', () => {
    expect(freshness(emptyState(), T0)).toBe('empty');
  });

  it('is live up to three intervals of silence', () => {
    expect(freshness(frozen, T0 + 10_000 + 15_000)).toBe('live');
  });

  it('turns stale after more than three intervals of silence', () => {
    expect(freshness(frozen, T0 + 10_000 + 15_001)).toBe('stale');
  });

  it('becomes live again when a new sample arrives', () => {
    const now = T0 + 60_000;

    const revived = addSample(frozen, sample(60), now);

    expect(freshness(revived, now)).toBe('live');
  });
});

describe('deriveStatus', () => {
  const open: ConnectionStatus = { state: 'open', failures: 0, retryInMs: null };

  it.each<[string, ConnectionStatus, Freshness, string]>([
    ['open with fresh data', open, 'live', 'Live'],
    ['open with no data yet', open, 'empty', 'No data yet'],
    ['open with stale data', open, 'stale', 'Stale'],
    ['first connect', { state: 'connecting', failures: 0, retryInMs: null }, 'empty', 'Connecting…'],
    ['waiting to retry', { state: 'closed', failures: 1, retryInMs: 300 }, 'live', 'Reconnecting…'],
    ['retrying', { state: 'connecting', failures: 2, retryInMs: null }, 'stale', 'Reconnecting…'],
    ['failing repeatedly', { state: 'closed', failures: 4, retryInMs: 5_000 }, 'stale', 'Disconnected'],
    ['closed for good', { state: 'closed', failures: 0, retryInMs: null }, 'live', 'Disconnected'],
  ])('shows %s as %s', (_name, connection, fresh, label) => {
    expect(deriveStatus(connection, fresh).label).toBe(label);
  });
});
