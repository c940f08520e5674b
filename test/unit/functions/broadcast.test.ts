import { describe, expect, it } from 'vitest';
import { broadcast, broadcastPoints, MAX_MESSAGE_BYTES } from '../../../functions/shared/broadcast';
import { envelope } from '../../../functions/shared/domain/messages';
import type { Datapoint } from '../../../functions/shared/domain/metrics';
import type { Subscription } from '../../../functions/shared/ports';
import { InMemoryRegistry, ScriptedMessenger } from './fakes';

async function registryWith(count: number, channel = 'system_metrics') {
  const registry = new InMemoryRegistry();
  for (let i = 0; i < count; i++) await registry.register(`c${i}`, 0, [channel]);
  return registry;
}

describe('broadcast', () => {
  it('sends the envelope to every subscriber of the channel and no one else', async () => {
    const registry = await registryWith(3);
    await registry.register('other', 0, ['alerts']);
    const messenger = new ScriptedMessenger();

    const result = await broadcast('system_metrics', envelope('system_metrics', { cpu_usage: 1 }), {
      registry,
      messenger,
    });

    expect(result).toEqual({ sent: 3, gone: 0, failed: 0 });
    expect(messenger.sent.map((s) => s.connectionId).sort()).toEqual(['c0', 'c1', 'c2']);
    expect(JSON.parse(messenger.sent[0]?.data ?? '')).toEqual({
      type: 'system_metrics',
      payload: { cpu_usage: 1 },
    });
  });

  it('never has more sends in flight than the concurrency bound', async () => {
    const registry = await registryWith(50);
    const messenger = new ScriptedMessenger();

    const result = await broadcast('system_metrics', envelope('t', {}), {
      registry,
      messenger,
      concurrency: 4,
    });

    expect(result.sent).toBe(50);
    expect(messenger.maxInFlight).toBeLessThanOrEqual(4);
    expect(messenger.maxInFlight).toBeGreaterThan(1);
  });

  it('forgets a connection that answers 410 Gone, and only that one', async () => {
    const registry = await registryWith(3);
    const messenger = new ScriptedMessenger({ c1: 'gone' });

    const result = await broadcast('system_metrics', envelope('t', {}), { registry, messenger });

    expect(result).toEqual({ sent: 2, gone: 1, failed: 0 });
    expect([...registry.channels.keys()].sort()).toEqual(['c0', 'c2']);
  });

  it('reports a failing connection without forgetting it or stopping the others', async () => {
    const registry = await registryWith(3);
    const messenger = new ScriptedMessenger({ c0: new Error('throttled') });
    const errors: string[] = [];

    const result = await broadcast('system_metrics', envelope('t', {}), {
      registry,
      messenger,
      onError: (connectionId) => errors.push(connectionId),
    });

    expect(result).toEqual({ sent: 2, gone: 0, failed: 1 });
    expect(errors).toEqual(['c0']);
    expect(registry.channels.has('c0')).toBe(true);
  });
});

interface MetricsMessage {
  type: string;
  payload: { points: { name: string; labels: Record<string, string>; timestamp: number; value: number }[] };
}

const T0 = Date.parse('2026-11-24T06:00:00.000Z');

/** `count` cpu_usage points, cycling over hosts web-1..web-`hosts`, one second apart. */
function cpuPoints(count: number, hosts = 5): Datapoint[] {
  return Array.from({ length: count }, (_, i) => ({
    name: 'cpu_usage',
    value: i,
    timestamp: T0 + i * 1000,
    labels: { host: `web-${(i % hosts) + 1}` },
  }));
}

const messagesTo = (messenger: ScriptedMessenger, connectionId: string) =>
  messenger.sent
    .filter((s) => s.connectionId === connectionId)
    .map((s) => JSON.parse(s.data) as MetricsMessage);

describe('broadcastPoints', () => {
  it('sends each connection only the points its channels match', async () => {
    const registry = new InMemoryRegistry();
    await registry.register('a', 0, ['system_metrics', 'metrics:cpu_usage{host="web-1"}']);
    await registry.register('b', 0, ['metrics:cpu_usage']);
    await registry.register('c', 0, ['metrics:mem_usage']);
    await registry.register('d', 0, ['system_metrics']);
    const messenger = new ScriptedMessenger();
    const points = [...cpuPoints(10), { name: 'disk_usage', value: 3, timestamp: T0, labels: {} }];

    const result = await broadcastPoints(points, { registry, messenger });

    expect(result).toEqual({ sent: 2, gone: 0, failed: 0 });
    expect(messagesTo(messenger, 'a')).toEqual([
      {
        type: 'metrics',
        payload: {
          points: [
            { name: 'cpu_usage', labels: { host: 'web-1' }, timestamp: T0, value: 0 },
            { name: 'cpu_usage', labels: { host: 'web-1' }, timestamp: T0 + 5000, value: 5 },
          ],
        },
      },
    ]);
    expect(messagesTo(messenger, 'b')[0]?.payload.points.map((p) => p.value)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    expect(messagesTo(messenger, 'c')).toEqual([]);
    expect(messagesTo(messenger, 'd')).toEqual([]);
  });

  it('coalesces a batch into one message per connection, each point once, however many channels match', async () => {
    const registry = new InMemoryRegistry();
    await registry.register('a', 0, [
      'metrics:cpu_usage',
      'metrics:cpu_usage{host="web-1"}',
      'metrics:cpu_usage{host=~"web-[12]"}',
      'metrics:mem_usage',
    ]);
    const messenger = new ScriptedMessenger();
    const points = [
      ...cpuPoints(40),
      ...Array.from({ length: 10 }, (_, i) => ({
        name: 'mem_usage',
        value: 100 + i,
        timestamp: T0,
        labels: {},
      })),
    ];

    const result = await broadcastPoints(points, { registry, messenger });

    expect(result).toEqual({ sent: 1, gone: 0, failed: 0 });
    const [message, ...more] = messagesTo(messenger, 'a');
    expect(more).toEqual([]);
    expect(message?.payload.points.map((p) => p.value)).toEqual(points.map((p) => p.value));
  });

  it('looks subscribers up once per metric name in the batch, by index key', async () => {
    const registry = new InMemoryRegistry();
    await registry.register('a', 0, ['metrics:cpu_usage{host="web-1"}', 'metrics:cpu_usage{host="web-2"}']);
    const points = [
      ...cpuPoints(30),
      { name: 'mem_usage', value: 1, timestamp: T0, labels: {} },
      { name: 'mem_usage', value: 2, timestamp: T0, labels: {} },
    ];

    await broadcastPoints(points, { registry, messenger: new ScriptedMessenger() });

    expect(registry.lookups.sort()).toEqual(['metrics:cpu_usage', 'metrics:mem_usage']);
  });

  it('sends nothing and looks nothing up for an empty batch', async () => {
    const registry = new InMemoryRegistry();
    const messenger = new ScriptedMessenger();

    const result = await broadcastPoints([], { registry, messenger });

    expect(result).toEqual({ sent: 0, gone: 0, failed: 0 });
    expect(registry.lookups).toEqual([]);
  });

  describe('near the 128 KB message limit', () => {
    /** cpu_usage points of about 4 KB each when serialized. */
    const bigPoints = (count: number): Datapoint[] =>
      Array.from({ length: count }, (_, i) => ({
        name: 'cpu_usage',
        value: i,
        timestamp: T0 + i,
        labels: Object.fromEntries(
          Array.from({ length: 16 }, (_, k) => [`label_${k}`, `${i}`.padEnd(250, 'x')]),
        ),
      }));
    const bytes = (data: string) => Buffer.byteLength(data);

    async function sendToOne(points: Datapoint[]) {
      const registry = new InMemoryRegistry();
      await registry.register('a', 0, ['metrics:cpu_usage']);
      const messenger = new ScriptedMessenger();
      const result = await broadcastPoints(points, { registry, messenger });
      return { result, data: messenger.sent.map((s) => s.data) };
    }

    it('keeps a batch that fits in one message whole', async () => {
      const points = bigPoints(28);

      const { data } = await sendToOne(points);

      expect(data).toHaveLength(1);
      expect(bytes(data[0] ?? '')).toBeGreaterThan(110 * 1024);
      expect(bytes(data[0] ?? '')).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    });

    it('splits only when one message would exceed the limit, keeping every point once and in order', async () => {
      const points = bigPoints(75);

      const { result, data } = await sendToOne(points);

      expect(data).toHaveLength(3);
      expect(result).toEqual({ sent: 3, gone: 0, failed: 0 });
      for (const message of data) expect(bytes(message)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      const parsed = data.map((message) => JSON.parse(message) as MetricsMessage);
      expect(parsed.flatMap((m) => m.payload.points.map((p) => p.value))).toEqual(points.map((p) => p.value));
      // Greedy: each message but the last is full, since the next point would not have fitted.
      for (let i = 0; i < parsed.length - 1; i++) {
        const nextPoint = JSON.stringify(parsed[i + 1]?.payload.points[0]);
        expect(bytes(data[i] ?? '') + 1 + bytes(nextPoint)).toBeGreaterThan(MAX_MESSAGE_BYTES);
      }
    });
  });

  it('forgets a connection that answers 410 Gone, and only that one, while others still get their points', async () => {
    const registry = new InMemoryRegistry();
    for (const id of ['c0', 'c1', 'c2']) await registry.register(id, 0, ['metrics:cpu_usage']);
    const messenger = new ScriptedMessenger({ c1: 'gone' });

    const result = await broadcastPoints(cpuPoints(3), { registry, messenger });

    expect(result).toEqual({ sent: 2, gone: 1, failed: 0 });
    expect([...registry.channels.keys()].sort()).toEqual(['c0', 'c2']);
  });

  it('counts and reports a failing connection without forgetting it', async () => {
    const registry = new InMemoryRegistry();
    for (const id of ['c0', 'c1']) await registry.register(id, 0, ['metrics:cpu_usage']);
    const messenger = new ScriptedMessenger({ c0: new Error('throttled') });
    const errors: string[] = [];

    const result = await broadcastPoints(cpuPoints(3), {
      registry,
      messenger,
      onError: (connectionId) => errors.push(connectionId),
    });

    expect(result).toEqual({ sent: 1, gone: 0, failed: 1 });
    expect(errors).toEqual(['c0']);
    expect(registry.channels.has('c0')).toBe(true);
  });

  it('never has more sends in flight than the concurrency bound', async () => {
    const registry = new InMemoryRegistry();
    for (let i = 0; i < 50; i++) await registry.register(`c${i}`, 0, ['metrics:cpu_usage']);
    const messenger = new ScriptedMessenger();

    const result = await broadcastPoints(cpuPoints(5), { registry, messenger, concurrency: 4 });

    expect(result.sent).toBe(50);
    expect(messenger.maxInFlight).toBeLessThanOrEqual(4);
    expect(messenger.maxInFlight).toBeGreaterThan(1);
  });

  it('fails without sending anything when a subscriber lookup fails', async () => {
    class FailingRegistry extends InMemoryRegistry {
      // biome-ignore lint/correctness/useYield: the lookup fails before its first page
      override async *subscribers(): AsyncIterable<Subscription> {
        throw new Error('DynamoDB is down');
      }
    }
    const registry = new FailingRegistry();
    await registry.register('a', 0, ['metrics:cpu_usage']);
    const messenger = new ScriptedMessenger();

    await expect(broadcastPoints(cpuPoints(3), { registry, messenger })).rejects.toThrow('DynamoDB is down');
    expect(messenger.sent).toEqual([]);
  });
});
