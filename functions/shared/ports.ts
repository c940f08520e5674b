import type { Datapoint } from './domain/metrics';
import type { HostSnapshot, SnapshotUpdate } from './domain/system-metrics';

/** Where datapoints and host snapshots live. */
export interface MetricsStore {
  putPoints(points: readonly Datapoint[]): Promise<void>;
  /**
   * Merges an update into the host's snapshot and returns the merged snapshot, or `undefined` when
   * the stored snapshot is already newer (an out-of-order batch never moves a snapshot backwards).
   */
  mergeSnapshot(update: SnapshotUpdate): Promise<HostSnapshot | undefined>;
  /** The named host's snapshot, or the most recently updated host's when no host is named. */
  getSnapshot(host?: string): Promise<HostSnapshot | undefined>;
}

/** Which WebSocket connections exist and which channels each one listens to. */
export interface ConnectionRegistry {
  register(connectionId: string, connectedAt: number, channels: readonly string[]): Promise<void>;
  subscribe(connectionId: string, channels: readonly string[]): Promise<void>;
  unsubscribe(connectionId: string, channels: readonly string[]): Promise<void>;
  /** Forgets the connection and all its subscriptions. */
  forget(connectionId: string): Promise<void>;
  /** The ids of the connections subscribed to a channel, looked up by key, never by scan. */
  subscribers(channel: string): AsyncIterable<string>;
}

/** The outcome of sending to one connection: `gone` means it no longer exists (HTTP 410). */
export type SendOutcome = 'sent' | 'gone';

/** Pushes data to one WebSocket connection. */
export interface ConnectionMessenger {
  send(connectionId: string, data: string): Promise<SendOutcome>;
}

/** The current time in epoch milliseconds; injected so windowed logic is tested with a frozen clock. */
export type Clock = () => number;
