import type { Datapoint } from './metrics';

/** Metrics that make up a host's snapshot: the seed's system-metrics shape. */
export const SYSTEM_METRIC_NAMES: ReadonlySet<string> = new Set([
  'cpu_usage',
  'memory_usage',
  'load_avg_1m',
  'load_avg_5m',
  'load_avg_15m',
  'disk_usage',
  'uptime_seconds',
]);

/** The label that names the host a system metric describes. */
export const HOST_LABEL = 'host';

/** The latest values of one host's system metrics: `{timestamp, host, cpu_usage, memory_usage, …}`. */
export interface HostSnapshot {
  readonly host: string;
  /** ISO 8601 time of the newest value in the snapshot. */
  readonly timestamp: string;
  readonly [metric: string]: string | number;
}

/** The newest value of each system metric per host in a batch, ready to merge into the snapshots. */
export interface SnapshotUpdate {
  readonly host: string;
  readonly timestamp: number;
  readonly values: Readonly<Record<string, number>>;
}

/**
 * Picks, per host, the newest value of every system metric in the batch. Points without a host
 * label, or not system metrics, do not touch any snapshot.
 */
export function snapshotUpdates(points: readonly Datapoint[]): SnapshotUpdate[] {
  const byHost = new Map<
    string,
    { timestamp: number; values: Record<string, number>; at: Record<string, number> }
  >();
  for (const point of points) {
    const host = point.labels[HOST_LABEL];
    if (!host || !SYSTEM_METRIC_NAMES.has(point.name)) continue;
    const entry = byHost.get(host) ?? { timestamp: 0, values: {}, at: {} };
    const seenAt = entry.at[point.name];
    if (seenAt === undefined || point.timestamp >= seenAt) {
      entry.values[point.name] = point.value;
      entry.at[point.name] = point.timestamp;
    }
    entry.timestamp = Math.max(entry.timestamp, point.timestamp);
    byHost.set(host, entry);
  }
  return [...byHost].map(([host, { timestamp, values }]) => ({ host, timestamp, values }));
}
