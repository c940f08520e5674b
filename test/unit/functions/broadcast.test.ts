import { describe, expect, it } from 'vitest';
import { broadcast } from '../../../functions/shared/broadcast';
import { envelope } from '../../../functions/shared/domain/messages';
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
