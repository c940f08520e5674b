import { indexKey, parseChannel } from '../../../functions/shared/domain/channels';
import type { Datapoint } from '../../../functions/shared/domain/metrics';
import type { HostSnapshot, SnapshotUpdate } from '../../../functions/shared/domain/system-metrics';
import type {
  ConnectionMessenger,
  ConnectionRegistry,
  MetricsStore,
  SendOutcome,
  Subscription,
} from '../../../functions/shared/ports';

/** An in-memory MetricsStore with the same merge semantics as the DynamoDB adapter. */
export class InMemoryMetricsStore implements MetricsStore {
  readonly points: Datapoint[] = [];
  readonly snapshots = new Map<string, { timestamp: number; values: Record<string, number> }>();

  /** Every series is welcome here; the cardinality guard is tested against the DynamoDB adapter. */
  async registerSeries(_points: readonly Datapoint[]): Promise<{ rejected: ReadonlySet<number> }> {
    return { rejected: new Set() };
  }

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

/**
 * An in-memory ConnectionRegistry with the adapter's semantics: channels are parsed (an invalid one
 * is refused) and kept in canonical form, and subscribers are found by index key.
 */
export class InMemoryRegistry implements ConnectionRegistry {
  /** connection id → its canonical channel texts. */
  readonly channels = new Map<string, Set<string>>();
  /** Every index key `subscribers` was asked for, in order. */
  readonly lookups: string[] = [];

  async register(connectionId: string, _connectedAt: number, channels: readonly string[]): Promise<void> {
    this.channels.set(connectionId, new Set(channels.map(canonicalText)));
  }
  async subscribe(connectionId: string, channels: readonly string[]): Promise<void> {
    for (const channel of channels) this.channels.get(connectionId)?.add(canonicalText(channel));
  }
  async unsubscribe(connectionId: string, channels: readonly string[]): Promise<void> {
    for (const channel of channels) this.channels.get(connectionId)?.delete(canonicalText(channel));
  }
  async forget(connectionId: string): Promise<void> {
    this.channels.delete(connectionId);
  }
  async subscriptionsOf(connectionId: string): Promise<readonly string[]> {
    return [...(this.channels.get(connectionId) ?? [])];
  }
  async *subscribers(key: string): AsyncIterable<Subscription> {
    this.lookups.push(key);
    for (const [connectionId, channels] of this.channels) {
      for (const channel of channels) {
        if (indexKey(parseChannel(channel)) === key) yield { connectionId, channel };
      }
    }
  }
}

const canonicalText = (channel: string) => parseChannel(channel).text;

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
