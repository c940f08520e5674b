import type { Datapoint } from '../../../functions/shared/domain/metrics';
import type { HostSnapshot, SnapshotUpdate } from '../../../functions/shared/domain/system-metrics';
import type {
  ConnectionMessenger,
  ConnectionRegistry,
  MetricsStore,
  SendOutcome,
} from '../../../functions/shared/ports';

/** An in-memory MetricsStore with the same merge semantics as the DynamoDB adapter. */
export class InMemoryMetricsStore implements MetricsStore {
  readonly points: Datapoint[] = [];
  readonly snapshots = new Map<string, { timestamp: number; values: Record<string, number> }>();

  async putPoints(points: readonly Datapoint[]): Promise<void> {
    this.points.push(...points);
  }

  async mergeSnapshot(update: SnapshotUpdate): Promise<HostSnapshot | undefined> {
    const current = this.snapshots.get(update.host);
    if (current && current.timestamp > update.timestamp) return undefined;
    const merged = { timestamp: update.timestamp, values: { ...current?.values, ...update.values } };
    this.snapshots.set(update.host, merged);
    return { host: update.host, timestamp: new Date(merged.timestamp).toISOString(), ...merged.values };
  }

  async getSnapshot(host?: string): Promise<HostSnapshot | undefined> {
    const entries = [...this.snapshots].filter(([name]) => host === undefined || name === host);
    const newest = entries.sort((a, b) => b[1].timestamp - a[1].timestamp)[0];
    if (!newest) return undefined;
    return { host: newest[0], timestamp: new Date(newest[1].timestamp).toISOString(), ...newest[1].values };
  }
}

/** An in-memory ConnectionRegistry. */
export class InMemoryRegistry implements ConnectionRegistry {
  readonly channels = new Map<string, Set<string>>();

  async register(connectionId: string, _connectedAt: number, channels: readonly string[]): Promise<void> {
    this.channels.set(connectionId, new Set(channels));
  }
  async subscribe(connectionId: string, channels: readonly string[]): Promise<void> {
    for (const channel of channels) this.channels.get(connectionId)?.add(channel);
  }
  async unsubscribe(connectionId: string, channels: readonly string[]): Promise<void> {
    for (const channel of channels) this.channels.get(connectionId)?.delete(channel);
  }
  async forget(connectionId: string): Promise<void> {
    this.channels.delete(connectionId);
  }
  async *subscribers(channel: string): AsyncIterable<string> {
    for (const [id, channels] of this.channels) if (channels.has(channel)) yield id;
  }
}

/** Records what it sends; answers per connection id from a script of outcomes or errors. */
export class ScriptedMessenger implements ConnectionMessenger {
  readonly sent: { connectionId: string; data: string }[] = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(private readonly script: Record<string, SendOutcome | Error> = {}) {}

  async send(connectionId: string, data: string): Promise<SendOutcome> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    this.inFlight--;
    const scripted = this.script[connectionId];
    if (scripted instanceof Error) throw scripted;
    if (scripted === 'gone') return 'gone';
    this.sent.push({ connectionId, data });
    return 'sent';
  }
}
