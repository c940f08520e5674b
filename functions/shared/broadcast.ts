import { forEachBounded } from './concurrency';
import { type Channel, matches, metricIndexKey, parseChannel } from './domain/channels';
import type { Envelope } from './domain/messages';
import type { Datapoint } from './domain/metrics';
import type { ConnectionMessenger, ConnectionRegistry } from './ports';

export interface BroadcastDeps {
  readonly registry: ConnectionRegistry;
  readonly messenger: ConnectionMessenger;
  /** At most this many sends in flight at once: a large audience must not open unbounded sockets. */
  readonly concurrency?: number;
  readonly onError?: (connectionId: string, error: unknown) => void;
}

export interface PointsBroadcastDeps extends BroadcastDeps {
  /** The largest message sent, in UTF-8 bytes; API Gateway refuses messages over 128 KB. */
  readonly maxMessageBytes?: number;
  /** At most this many subscriber lookups (one Query per metric name) in flight at once. */
  readonly lookupConcurrency?: number;
}

export interface BroadcastResult {
  /** Messages delivered. */
  sent: number;
  /** Connections that answered 410 Gone and were forgotten. */
  gone: number;
  /** Messages that failed for another reason. */
  failed: number;
}

export const DEFAULT_BROADCAST_CONCURRENCY = 32;
export const DEFAULT_LOOKUP_CONCURRENCY = 8;
/** API Gateway's WebSocket message limit is 128 KB; this leaves room for framing and headers. */
export const MAX_MESSAGE_BYTES = 120 * 1024;

/** One datapoint as a `metrics` message carries it; `timestamp` is epoch milliseconds. */
export interface WirePoint {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly timestamp: number;
  readonly value: number;
}

/**
 * Sends one message to every subscriber of a plain channel (`system_metrics`, `alerts`,
 * `incidents`) with bounded concurrency. A connection that answers 410 Gone is forgotten (that one
 * and no other); other failures are counted and reported, and never stop the rest of the audience
 * from receiving the message. Metric channels go through {@link broadcastPoints}, which applies
 * their label matchers.
 */
export async function broadcast(
  channel: string,
  message: Envelope,
  deps: BroadcastDeps,
): Promise<BroadcastResult> {
  const data = JSON.stringify(message);
  const result: BroadcastResult = { sent: 0, gone: 0, failed: 0 };
  const seen = new Set<string>();
  async function* audience() {
    for await (const { connectionId } of deps.registry.subscribers(channel)) {
      if (seen.has(connectionId)) continue;
      seen.add(connectionId);
      yield connectionId;
    }
  }
  await forEachBounded(audience(), sendLimit(deps), (connectionId) =>
    deliver(connectionId, [data], deps, result),
  );
  return result;
}

/**
 * Pushes one ingest batch to the `metrics:<name>` subscribers, coalesced: one keyed lookup per
 * metric name in the batch, each subscription's matchers applied in memory, and then ONE
 * `{"type":"metrics","payload":{"points":[…]}}` message per connection holding every point any of
 * its subscriptions matched (each point once, in batch order). A connection's points are split over
 * several messages only when one would exceed `maxMessageBytes`. Sends have the same bounded
 * concurrency and 410 handling as {@link broadcast}; after a failure or a 410, the rest of that
 * connection's messages for this batch are dropped. A failed lookup rejects, after the lookups in
 * flight settle, before anything is sent.
 */
export async function broadcastPoints(
  points: readonly Datapoint[],
  deps: PointsBroadcastDeps,
): Promise<BroadcastResult> {
  const result: BroadcastResult = { sent: 0, gone: 0, failed: 0 };
  const byName = new Map<string, number[]>();
  points.forEach((point, index) => {
    const indexes = byName.get(point.name);
    if (indexes) indexes.push(index);
    else byName.set(point.name, [index]);
  });

  const parsed = new Map<string, Channel | undefined>();
  const channelOf = (text: string): Channel | undefined => {
    if (!parsed.has(text)) parsed.set(text, tryParseChannel(text));
    return parsed.get(text);
  };
  const wanted = new Map<string, Set<number>>();
  await forEachBounded(
    byName,
    Math.max(1, deps.lookupConcurrency ?? DEFAULT_LOOKUP_CONCURRENCY),
    async ([name, indexes]) => {
      for await (const subscription of deps.registry.subscribers(metricIndexKey(name))) {
        const channel = channelOf(subscription.channel);
        if (!channel) continue;
        for (const index of indexes) {
          if (!matches(channel, points[index] as Datapoint)) continue;
          const chosen = wanted.get(subscription.connectionId);
          if (chosen) chosen.add(index);
          else wanted.set(subscription.connectionId, new Set([index]));
        }
      }
    },
  );

  const serialized = new Map<number, string>();
  const json = (index: number): string => {
    const known = serialized.get(index);
    if (known !== undefined) return known;
    const text = JSON.stringify(wirePoint(points[index] as Datapoint));
    serialized.set(index, text);
    return text;
  };
  const maxBytes = deps.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  // Connections that matched the same points (say, everyone on `metrics:cpu_usage`) share the text.
  const built = new Map<string, string[]>();
  const messagesFor = (chosen: ReadonlySet<number>): string[] => {
    const ordered = [...chosen].sort((a, b) => a - b);
    const key = ordered.join(',');
    let messages = built.get(key);
    if (!messages) {
      messages = pointMessages(ordered.map(json), maxBytes);
      built.set(key, messages);
    }
    return messages;
  };
  await forEachBounded(wanted, sendLimit(deps), ([connectionId, chosen]) =>
    deliver(connectionId, messagesFor(chosen), deps, result),
  );
  return result;
}

const MESSAGE_PREFIX = '{"type":"metrics","payload":{"points":[';
const MESSAGE_SUFFIX = ']}}';

/**
 * Packs serialized points, in order, into as few `metrics` messages as fit `maxBytes` each. A point
 * too large for any message goes alone (ingest's limits keep a point far below 128 KB).
 */
function pointMessages(serializedPoints: readonly string[], maxBytes: number): string[] {
  const overhead = Buffer.byteLength(MESSAGE_PREFIX) + Buffer.byteLength(MESSAGE_SUFFIX);
  const messages: string[] = [];
  let current: string[] = [];
  let size = overhead;
  const flush = () => {
    messages.push(MESSAGE_PREFIX + current.join(',') + MESSAGE_SUFFIX);
    current = [];
    size = overhead;
  };
  for (const point of serializedPoints) {
    const bytes = Buffer.byteLength(point);
    if (current.length > 0 && size + 1 + bytes > maxBytes) flush();
    size += bytes + (current.length > 0 ? 1 : 0);
    current.push(point);
  }
  if (current.length > 0) flush();
  return messages;
}

function wirePoint(point: Datapoint): WirePoint {
  return { name: point.name, labels: point.labels, timestamp: point.timestamp, value: point.value };
}

/** A stored subscription that no longer parses (written under older rules) matches nothing. */
function tryParseChannel(text: string): Channel | undefined {
  try {
    return parseChannel(text);
  } catch {
    return undefined;
  }
}

const sendLimit = (deps: BroadcastDeps) => Math.max(1, deps.concurrency ?? DEFAULT_BROADCAST_CONCURRENCY);

/** Sends a connection its messages in order; stops at a 410 (forgetting it) or at a failure. */
async function deliver(
  connectionId: string,
  messages: readonly string[],
  deps: BroadcastDeps,
  result: BroadcastResult,
): Promise<void> {
  for (const data of messages) {
    try {
      const outcome = await deps.messenger.send(connectionId, data);
      if (outcome === 'gone') {
        result.gone++;
        await deps.registry.forget(connectionId);
        return;
      }
      result.sent++;
    } catch (error) {
      result.failed++;
      deps.onError?.(connectionId, error);
      return;
    }
  }
}
