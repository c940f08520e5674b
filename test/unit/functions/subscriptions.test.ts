import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/shared/errors';
import {
  applySubscription,
  clientError,
  parseSubscriptionRequest,
} from '../../../functions/ws-subscriptions/subscriptions';
import { InMemoryRegistry } from './fakes';

describe('subscriptions', () => {
  it('subscribes and unsubscribes a connection and acknowledges each', async () => {
    const registry = new InMemoryRegistry();
    await registry.register('c1', 0, ['system_metrics']);

    const subscribed = await applySubscription(
      'c1',
      '{"action":"subscribe","channels":["alerts","incidents"]}',
      registry,
    );
    const unsubscribed = await applySubscription(
      'c1',
      '{"action":"unsubscribe","channels":["system_metrics"]}',
      registry,
    );

    expect(subscribed).toEqual({ type: 'subscribed', payload: { channels: ['alerts', 'incidents'] } });
    expect(unsubscribed).toEqual({ type: 'unsubscribed', payload: { channels: ['system_metrics'] } });
    expect([...(registry.channels.get('c1') ?? [])].sort()).toEqual(['alerts', 'incidents']);
  });

  it.each([
    ['non-JSON', 'subscribe please'],
    ['an unknown action', '{"action":"publish","channels":["a"]}'],
    ['no channels', '{"action":"subscribe","channels":[]}'],
    ['a channel with a control character', '{"action":"subscribe","channels":["a\\u0000b"]}'],
    [
      'too many channels',
      JSON.stringify({ action: 'subscribe', channels: Array.from({ length: 21 }, (_, i) => `c${i}`) }),
    ],
  ])('rejects %s with a client error envelope', (_case, body) => {
    let caught: unknown;
    try {
      parseSubscriptionRequest(body);
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(ValidationError);
    expect(clientError(caught)).toMatchObject({ type: 'error', payload: { code: 'VALIDATION_FAILED' } });
  });

  it('does not show server-side failures to the client', () => {
    expect(clientError(new Error('DynamoDB is down'))).toBeUndefined();
  });
});
