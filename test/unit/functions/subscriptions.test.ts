import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/shared/errors';
import {
  applySubscription,
  clientError,
  MAX_SUBSCRIPTIONS_PER_CONNECTION,
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

  it('subscribes to metric channels in canonical form and acknowledges them as sent', async () => {
    const registry = new InMemoryRegistry();
    await registry.register('c1', 0, ['system_metrics']);
    const channels = ['metrics:cpu_usage{ region!="eu", host="web-1" }', 'metrics:cpu_usage'];

    const ack = await applySubscription('c1', JSON.stringify({ action: 'subscribe', channels }), registry);

    expect(ack).toEqual({ type: 'subscribed', payload: { channels } });
    expect([...(registry.channels.get('c1') ?? [])].sort()).toEqual([
      'metrics:cpu_usage',
      'metrics:cpu_usage{host="web-1",region!="eu"}',
      'system_metrics',
    ]);
  });

  it('unsubscribes a channel however its matchers were spelled', async () => {
    const registry = new InMemoryRegistry();
    await registry.register('c1', 0, ['metrics:cpu_usage{host="web-1",env="prod"}']);

    await applySubscription(
      'c1',
      JSON.stringify({ action: 'unsubscribe', channels: ['metrics:cpu_usage{env="prod", host="web-1"}'] }),
      registry,
    );

    expect(registry.channels.get('c1')?.size).toBe(0);
  });

  it('rejects bad channel grammar with an error envelope naming every bad channel, and subscribes to none', async () => {
    const registry = new InMemoryRegistry();
    await registry.register('c1', 0, ['system_metrics']);
    const body = JSON.stringify({
      action: 'subscribe',
      channels: ['alerts', 'metrics:cpu{host=web-1}', 'stocks'],
    });

    const error = await applySubscription('c1', body, registry).catch((e: unknown) => e);

    const envelope = clientError(error);
    expect(envelope).toMatchObject({ type: 'error', payload: { code: 'VALIDATION_FAILED' } });
    const message = (envelope?.payload as { message?: string } | undefined)?.message;
    expect(message).toContain('Invalid channel "metrics:cpu{host=web-1}"');
    expect(message).toContain('must be a double-quoted string');
    expect(message).toContain('Invalid channel "stocks"');
    expect([...(registry.channels.get('c1') ?? [])]).toEqual(['system_metrics']);
  });

  describe('the per-connection subscription cap', () => {
    const subscribe = (registry: InMemoryRegistry, channels: string[]) =>
      applySubscription('c1', JSON.stringify({ action: 'subscribe', channels }), registry);
    const metricChannels = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => `metrics:m${from + i}`);

    async function registryHolding(count: number) {
      const registry = new InMemoryRegistry();
      await registry.register('c1', 0, ['system_metrics', ...metricChannels(0, count - 1)]);
      return registry;
    }

    it('lets a connection reach the cap exactly', async () => {
      const registry = await registryHolding(MAX_SUBSCRIPTIONS_PER_CONNECTION - 2);

      await subscribe(registry, metricChannels(1000, 2));

      expect(registry.channels.get('c1')?.size).toBe(MAX_SUBSCRIPTIONS_PER_CONNECTION);
    });

    it('refuses a request that would go past the cap, writing nothing', async () => {
      const registry = await registryHolding(MAX_SUBSCRIPTIONS_PER_CONNECTION - 1);

      const error = await subscribe(registry, metricChannels(1000, 2)).catch((e: unknown) => e);

      expect(clientError(error)).toEqual({
        type: 'error',
        payload: {
          code: 'SUBSCRIPTION_LIMIT',
          message: expect.stringContaining(`at most ${MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions`),
        },
      });
      expect(registry.channels.get('c1')?.size).toBe(MAX_SUBSCRIPTIONS_PER_CONNECTION - 1);
    });

    it('does not count channels the connection already holds', async () => {
      const registry = await registryHolding(MAX_SUBSCRIPTIONS_PER_CONNECTION);

      const ack = await subscribe(registry, ['system_metrics', 'metrics:m1', 'metrics:m2 {}']);

      expect(ack.type).toBe('subscribed');
      expect(registry.channels.get('c1')?.size).toBe(MAX_SUBSCRIPTIONS_PER_CONNECTION);
    });
  });

  it('does not show server-side failures to the client', () => {
    expect(clientError(new Error('DynamoDB is down'))).toBeUndefined();
  });
});
