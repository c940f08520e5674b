import type { Datapoint } from './domain/metrics';
import type { HostSnapshot, SnapshotUpdate } from './domain/system-metrics';

/** Where datapoints and host snapshots live. */
export interface MetricsStore {
  /**
   * Indexes the series of these points that are new, at most MAX_SERIES_PER_METRIC per metric name.
   * Returns the indexes of the points whose new series would exceed that limit (report them as
   * `CARDINALITY_LIMIT`); known series cost nothing (cached per container).
   */
  registerSeries(points: readonly Datapoint[]): Promise<{ rejected: ReadonlySet<number> }>;
  /**
   * Stores the points durably (one segment item per request and arrival minute); the compactor
   * turns them into blocks and rollups. Points of series refused by `registerSeries` are skipped.
   */
  putPoints(points: readonly Datapoint[]): Promise<void>;
  /**
   * Merges an update into the host's snapshot and returns the merged snapshot, or `undefined` when
   * the stored snapshot is already newer (an out-of-order batch never moves a snapshot backwards).
   */
  mergeSnapshot(update: SnapshotUpdate): Promise<HostSnapshot | undefined>;
  /** The named host's snapshot, or the most recently updated host's when no host is named. */
  getSnapshot(host?: string): Promise<HostSnapshot | undefined>;
}

/** One subscription found by index key: the connection and the full channel text it subscribed to. */
export interface Subscription {
  readonly connectionId: string;
  /** The canonical channel text, matchers included, e.g. `metrics:cpu_usage{host="web-1"}`. */
  readonly channel: string;
}

/**
 * Which WebSocket connections exist and which channels each one listens to. Channel texts follow
 * the grammar of `domain/channels.ts`; the registry stores each in its canonical form, so equivalent
 * spellings are one subscription, and an invalid text is refused with `InvalidChannelError`.
 */
export interface ConnectionRegistry {
  register(connectionId: string, connectedAt: number, channels: readonly string[]): Promise<void>;
  subscribe(connectionId: string, channels: readonly string[]): Promise<void>;
  unsubscribe(connectionId: string, channels: readonly string[]): Promise<void>;
  /** Forgets the connection and all its subscriptions. */
  forget(connectionId: string): Promise<void>;
  /** The canonical channel texts one connection is subscribed to, read from its own partition. */
  subscriptionsOf(connectionId: string): Promise<readonly string[]>;
  /**
   * Every subscription whose channel has this index key (`system_metrics`, `metrics:cpu_usage`),
   * looked up by key, never by scan. One connection may appear once per matching subscription.
   */
  subscribers(indexKey: string): AsyncIterable<Subscription>;
}

/** The outcome of sending to one connection: `gone` means it no longer exists (HTTP 410). */
export type SendOutcome = 'sent' | 'gone';

/** Pushes data to one WebSocket connection. */
export interface ConnectionMessenger {
  send(connectionId: string, data: string): Promise<SendOutcome>;
}

/** The current time in epoch milliseconds; injected so windowed logic is tested with a frozen clock. */
export type Clock = () => number;
