import * as z from 'zod/mini';
import { type Channel, InvalidChannelError, parseChannel } from '../shared/domain/channels';
import { type Envelope, envelope } from '../shared/domain/messages';
import { type Issue, PulseboardError, ValidationError } from '../shared/errors';
import type { ConnectionRegistry } from '../shared/ports';
import { parseWith } from '../shared/validation';

export const MAX_CHANNELS_PER_REQUEST = 20;
/**
 * The most subscriptions one connection may hold, `system_metrics` included. Checked on subscribe
 * by one consistent Query of the connection's own partition (at most this many small items, a few
 * read units), so no counter has to be kept in step with every write. Two subscribe requests racing
 * on one connection can overshoot by at most one request's channels: a soft cap against runaway
 * clients, not an exact quota.
 */
export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 100;

const requestSchema = z.object({
  action: z.enum(['subscribe', 'unsubscribe']),
  channels: z.array(z.string()).check(z.minLength(1), z.maxLength(MAX_CHANNELS_PER_REQUEST)),
});

export interface SubscriptionRequest {
  readonly action: 'subscribe' | 'unsubscribe';
  /** The channels as the client wrote them; acknowledgements echo these. */
  readonly channels: readonly string[];
  /** The same channels parsed, in request order. */
  readonly parsed: readonly Channel[];
}

/** The connection would hold more than {@link MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions. */
export class SubscriptionLimitError extends PulseboardError {
  constructor(held: number, adding: number) {
    super(
      'SUBSCRIPTION_LIMIT',
      `A connection may hold at most ${MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions; this one holds ` +
        `${held} and the request adds ${adding}. Unsubscribe from some channels first.`,
    );
  }
}

/**
 * Parses `{"action":"subscribe"|"unsubscribe","channels":[…]}` from a raw WebSocket frame and every
 * channel's grammar. Every bad channel is named in one error.
 */
export function parseSubscriptionRequest(body: string | undefined): SubscriptionRequest {
  let json: unknown;
  try {
    json = JSON.parse(body ?? '');
  } catch {
    throw new ValidationError(
      'Messages must be JSON, e.g. {"action":"subscribe","channels":["system_metrics"]}',
    );
  }
  const request = parseWith(requestSchema, json, 'subscription request');
  const parsed: Channel[] = [];
  const issues: Issue[] = [];
  request.channels.forEach((text, index) => {
    try {
      parsed.push(parseChannel(text));
    } catch (error) {
      if (!(error instanceof InvalidChannelError)) throw error;
      issues.push({ path: `channels.${index}`, message: error.message });
    }
  });
  if (issues.length === 1) throw new ValidationError(issues[0]?.message ?? '', issues);
  if (issues.length > 1) throw new ValidationError(issues.map((issue) => issue.message).join('; '), issues);
  return { action: request.action, channels: request.channels, parsed };
}

/** Applies a subscription request and answers with the acknowledgement to send back. */
export async function applySubscription(
  connectionId: string,
  body: string | undefined,
  registry: ConnectionRegistry,
): Promise<Envelope> {
  const request = parseSubscriptionRequest(body);
  const texts = [...new Set(request.parsed.map((channel) => channel.text))];
  if (request.action === 'unsubscribe') {
    await registry.unsubscribe(connectionId, texts);
    return envelope('unsubscribed', { channels: request.channels });
  }
  const held = new Set(await registry.subscriptionsOf(connectionId));
  const adding = texts.filter((text) => !held.has(text));
  if (held.size + adding.length > MAX_SUBSCRIPTIONS_PER_CONNECTION) {
    throw new SubscriptionLimitError(held.size, adding.length);
  }
  if (adding.length > 0) await registry.subscribe(connectionId, adding);
  return envelope('subscribed', { channels: request.channels });
}

/** The error envelope a client receives for a message it got wrong. */
export function clientError(error: unknown): Envelope | undefined {
  if (error instanceof PulseboardError && error.code !== 'DEPENDENCY_FAILED') {
    return envelope('error', { code: error.code, message: error.message });
  }
  return undefined;
}
