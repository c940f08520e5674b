import type { Envelope } from './domain/messages';
import type { ConnectionMessenger, ConnectionRegistry } from './ports';

export interface BroadcastDeps {
  readonly registry: ConnectionRegistry;
  readonly messenger: ConnectionMessenger;
  /** At most this many sends in flight at once: a large audience must not open unbounded sockets. */
  readonly concurrency?: number;
  readonly onError?: (connectionId: string, error: unknown) => void;
}

export interface BroadcastResult {
  sent: number;
  gone: number;
  failed: number;
}

export const DEFAULT_BROADCAST_CONCURRENCY = 32;

/**
 * Sends one message to every subscriber of a channel with bounded concurrency. A connection that
 * answers 410 Gone is forgotten (that one and no other); other failures are counted and reported,
 * and never stop the rest of the audience from receiving the message.
 */
export async function broadcast(
  channel: string,
  message: Envelope,
  deps: BroadcastDeps,
): Promise<BroadcastResult> {
  const limit = Math.max(1, deps.concurrency ?? DEFAULT_BROADCAST_CONCURRENCY);
  const data = JSON.stringify(message);
  const result: BroadcastResult = { sent: 0, gone: 0, failed: 0 };
  const inFlight = new Set<Promise<void>>();

  const deliver = async (connectionId: string): Promise<void> => {
    try {
      const outcome = await deps.messenger.send(connectionId, data);
      if (outcome === 'gone') {
        result.gone++;
        await deps.registry.forget(connectionId);
      } else {
        result.sent++;
      }
    } catch (error) {
      result.failed++;
      deps.onError?.(connectionId, error);
    }
  };

  for await (const connectionId of deps.registry.subscribers(channel)) {
    const pending: Promise<void> = deliver(connectionId).finally(() => inFlight.delete(pending));
    inFlight.add(pending);
    if (inFlight.size >= limit) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return result;
}
