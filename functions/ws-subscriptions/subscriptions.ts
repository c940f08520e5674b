import * as z from 'zod/mini';
import { type Envelope, envelope } from '../shared/domain/messages';
import { PulseboardError, ValidationError } from '../shared/errors';
import type { ConnectionRegistry } from '../shared/ports';

export const MAX_CHANNELS_PER_REQUEST = 20;
const CHANNEL_PATTERN = /^[\x21-\x7e][\x20-\x7e]{0,255}$/;

const requestSchema = z.object({
  action: z.enum(['subscribe', 'unsubscribe']),
  channels: z
    .array(z.string().check(z.regex(CHANNEL_PATTERN, 'channels are 1-256 printable ASCII characters')))
    .check(z.minLength(1), z.maxLength(MAX_CHANNELS_PER_REQUEST)),
});

export type SubscriptionRequest = z.infer<typeof requestSchema>;

/** Parses `{"action":"subscribe"|"unsubscribe","channels":[…]}` from a raw WebSocket frame. */
export function parseSubscriptionRequest(body: string | undefined): SubscriptionRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? '');
  } catch {
    throw new ValidationError(
      'Messages must be JSON, e.g. {"action":"subscribe","channels":["system_metrics"]}',
    );
  }
  const result = requestSchema.safeParse(parsed);
  if (!result.success) {
    throw new ValidationError(
      'Invalid subscription request',
      result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    );
  }
  return result.data;
}

/** Applies a subscription request and answers with the acknowledgement to send back. */
export async function applySubscription(
  connectionId: string,
  body: string | undefined,
  registry: ConnectionRegistry,
): Promise<Envelope> {
  const request = parseSubscriptionRequest(body);
  if (request.action === 'subscribe') {
    await registry.subscribe(connectionId, request.channels);
    return envelope('subscribed', { channels: request.channels });
  }
  await registry.unsubscribe(connectionId, request.channels);
  return envelope('unsubscribed', { channels: request.channels });
}

/** The error envelope a client receives for a message it got wrong. */
export function clientError(error: unknown): Envelope | undefined {
  if (error instanceof PulseboardError && error.code !== 'DEPENDENCY_FAILED') {
    return envelope('error', { code: error.code, message: error.message });
  }
  return undefined;
}
