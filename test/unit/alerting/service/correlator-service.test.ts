import { describe, expect, it } from 'vitest';
import { CorrelatorService } from '../../../../functions/shared/alerting/correlator-service';
import { RoutingSource } from '../../../../functions/shared/alerting/routing';
import type { AlertEvent } from '../../../../functions/shared/domain/alerting/dispatch/alert';
import type { RoutingConfig } from '../../../../functions/shared/domain/alerting/stores';
import type { Envelope } from '../../../../functions/shared/domain/messages';
import { ConflictError, NotFoundError, ValidationError } from '../../../../functions/shared/errors';
import {
  MemoryAlertsView,
  MemoryGroupStore,
  MemoryIncidentStore,
  MemoryNotifier,
  MemoryRoutingStore,
  MemoryScheduler,
  MemorySilenceStore,
} from './memory-ports';

const T0 = Date.parse('2026-03-01T12:00:00Z');
const SECOND = 1000;

function setup(
  routing: RoutingConfig = { route: { receiver: 'pager', group_by: ['alertname'], group_wait: '0s' } },
) {
  const routingStore = new MemoryRoutingStore();
  const ports = {
    groups: new MemoryGroupStore(),
    incidents: new MemoryIncidentStore(),
    alerts: new MemoryAlertsView(),
    silences: new MemorySilenceStore(),
    notifier: new MemoryNotifier(),
    scheduler: new MemoryScheduler(),
  };
  const clock = { now: T0 };
  const broadcasts: { channel: string; message: Envelope }[] = [];
  let ids = 0;
  const service = new CorrelatorService({
    ...ports,
    routing: new RoutingSource(routingStore, routing),
    broadcast: async (channel, message) => {
      broadcasts.push({ channel, message });
    },
    clock: () => clock.now,
    newId: () => `01J0000000000000000000${String(++ids).padStart(4, '0')}`,
    externalURL: 'https://dashboard.example.com',
  });
  return { ...ports, routingStore, clock, broadcasts, service };
}

const firing = (labels: Record<string, string>, startsAt = T0): AlertEvent => ({
  status: 'firing',
  fingerprint: 'a1b2c3d4e5f60718',
  labels,
  annotations: { summary: 'CPU is high' },
  startsAt: new Date(startsAt).toISOString(),
  value: 97,
});

describe('CorrelatorService', () => {
  it('notifies at once with group_wait 0, opens an incident and records the SNS MessageId on its timeline', async () => {
    const { service, notifier, incidents, broadcasts } = setup();
    await service.onAlertEvent(firing({ alertname: 'HighCPU', severity: 'critical' }));
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]?.message).toMatchObject({ version: '4', status: 'firing', receiver: 'pager' });
    expect(notifier.sent[0]?.attributes).toMatchObject({ severity: 'critical', status: 'firing' });
    const [incident] = (await incidents.list({ limit: 10 })).incidents;
    expect(incident?.status).toBe('open');
    const sent = incident?.timeline.find((e) => e.type === 'notification_sent');
    expect(sent).toMatchObject({ messageId: 'message-1' });
    expect(broadcasts.map((b) => [b.channel, b.message.type])).toEqual(
      expect.arrayContaining([
        ['alerts', 'alert'],
        ['incidents', 'incident'],
      ]),
    );
  });

  it('stores the incident before publishing, so a receiver following the notification finds it', async () => {
    const { service, notifier, incidents } = setup();
    const seenAtPublish: number[] = [];
    const publish = notifier.publish.bind(notifier);
    notifier.publish = async (notification) => {
      seenAtPublish.push((await incidents.list({ limit: 10 })).incidents.length);
      return publish(notification);
    };
    await service.onAlertEvent(firing({ alertname: 'HighCPU' }));
    expect(seenAtPublish).toEqual([1]);
  });

  it('changes nothing when the same event is delivered twice', async () => {
    const { service, notifier, broadcasts } = setup();
    const event = firing({ alertname: 'HighCPU' });
    await service.onAlertEvent(event);
    const before = broadcasts.length;
    await service.onAlertEvent(event);
    expect(notifier.sent).toHaveLength(1);
    expect(broadcasts).toHaveLength(before);
  });

  it('waits group_wait through a scheduled wake, then sends one notification for the batch', async () => {
    const { service, notifier, scheduler, clock } = setup({
      route: { receiver: 'pager', group_by: ['alertname'], group_wait: '30s' },
    });
    await service.onAlertEvent(firing({ alertname: 'HighCPU', host: 'a' }));
    clock.now = T0 + 10 * SECOND;
    await service.onAlertEvent({
      ...firing({ alertname: 'HighCPU', host: 'b' }, clock.now),
      fingerprint: 'b1',
    });
    expect(notifier.sent).toHaveLength(0);
    expect(scheduler.wakes).toEqual([{ groupId: expect.stringContaining('HighCPU'), at: T0 + 30 * SECOND }]);
    clock.now = T0 + 30 * SECOND;
    for (const wake of scheduler.due(clock.now)) await service.onWake(wake.groupId);
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]?.message.alerts).toHaveLength(2);
  });

  it('loses no notification when SNS fails after the state was written: a later input performs the outbox', async () => {
    const { service, notifier, groups, clock } = setup();
    notifier.failNext = 1;
    await expect(service.onAlertEvent(firing({ alertname: 'HighCPU' }))).rejects.toThrow(/unavailable/);
    const [stored] = [...groups.items.values()];
    expect(stored?.outbox.map((e) => e.kind)).toContain('notify');
    // Lambda retries the event after a backoff, past the writer's lease: the retry is a duplicate
    // for the dispatcher, but finds the abandoned outbox and performs it.
    clock.now = T0 + 60 * SECOND;
    await service.onAlertEvent(firing({ alertname: 'HighCPU' }));
    expect(notifier.sent).toHaveLength(1);
    expect([...groups.items.values()][0]?.outbox).toEqual([]);
  });

  it('never notifies twice when a duplicate wake arrives while the first is still performing the outbox', async () => {
    const { service, notifier, scheduler, clock, groups } = setup({
      route: { receiver: 'pager', group_by: ['alertname'], group_wait: '30s' },
    });
    await service.onAlertEvent(firing({ alertname: 'HighCPU' }));
    clock.now = T0 + 30 * SECOND;
    const [wake] = scheduler.due(clock.now);
    // The first wake's publish is slow; SQS delivers the same wake again meanwhile.
    let duplicate: Promise<void> | undefined;
    const publish = notifier.publish.bind(notifier);
    notifier.publish = async (notification) => {
      duplicate ??= service.onWake(wake?.groupId as string);
      await duplicate;
      return publish(notification);
    };
    await service.onWake(wake?.groupId as string);
    expect(notifier.sent).toHaveLength(1);
    expect([...groups.items.values()][0]?.outbox).toEqual([]);
  });

  it('retries a group write that lost a race and applies the alert once', async () => {
    const { service, groups, notifier } = setup();
    const other = setup();
    groups.beforePut = async () => {
      // A concurrent invocation handles another alert of the same group and writes first.
      await new CorrelatorService({
        ...other,
        groups,
        routing: new RoutingSource(other.routingStore, {
          route: { receiver: 'pager', group_by: ['alertname'], group_wait: '0s' },
        }),
        broadcast: async () => {},
        clock: () => T0,
        newId: () => '01J00000000000000000009999',
        externalURL: 'https://dashboard.example.com',
      }).onAlertEvent({ ...firing({ alertname: 'HighCPU', host: 'b' }), fingerprint: 'b2' });
    };
    await service.onAlertEvent(firing({ alertname: 'HighCPU', host: 'a' }));
    const [stored] = [...groups.items.values()];
    expect(Object.keys(stored?.state.alerts ?? {}).sort()).toEqual(['a1b2c3d4e5f60718', 'b2']);
    // The winner flushed the group; the late joiner waits for group_interval, as in Alertmanager.
    expect(other.notifier.sent).toHaveLength(1);
    expect(notifier.sent).toHaveLength(0);
  });

  it('mutes an alert a firing critical inhibits, reading the firing-alerts view', async () => {
    const { service, notifier, alerts } = setup({
      route: { receiver: 'pager', group_by: ['alertname', 'cluster'], group_wait: '0s' },
      inhibit_rules: [
        {
          source_matchers: ['severity="critical"'],
          target_matchers: ['severity="warning"'],
          equal: ['cluster'],
        },
      ],
    });
    await alerts.put({
      fingerprint: 'c0',
      labels: { alertname: 'Down', severity: 'critical', cluster: 'eu' },
      status: 'firing',
      at: T0,
    });
    await service.onAlertEvent(firing({ alertname: 'Slow', severity: 'warning', cluster: 'eu' }));
    await service.onAlertEvent({
      ...firing({ alertname: 'Slow', severity: 'warning', cluster: 'us' }),
      fingerprint: 'd1',
    });
    expect(notifier.sent.map((n) => n.message.groupLabels.cluster)).toEqual(['us']);
  });

  it("holds a route's notifications inside a mute interval from the routing's time_intervals, and sends them after", async () => {
    const { service, notifier, scheduler, clock } = setup({
      time_intervals: [
        { name: 'noon', time_intervals: [{ times: [{ start_time: '12:00', end_time: '12:30' }] }] },
      ],
      route: {
        receiver: 'pager',
        group_by: ['alertname'],
        group_wait: '0s',
        group_interval: '15m',
        routes: [{ matchers: ['alertname="HighCPU"'], mute_time_intervals: ['noon'] }],
      },
    });
    await service.onAlertEvent(firing({ alertname: 'HighCPU' }));
    expect(notifier.sent).toHaveLength(0);
    clock.now = T0 + 15 * 60 * SECOND;
    for (const wake of scheduler.due(clock.now)) await service.onWake(wake.groupId);
    expect(notifier.sent).toHaveLength(0);
    // 12:30 is the first instant after the interval (its end is exclusive).
    clock.now = T0 + 30 * 60 * SECOND;
    for (const wake of scheduler.due(clock.now)) await service.onWake(wake.groupId);
    expect(notifier.sent.map((n) => n.message.status)).toEqual(['firing']);
  });

  it('acknowledges an incident, stopping repeats; refuses to acknowledge a resolved one', async () => {
    const { service, incidents, broadcasts } = setup();
    await service.onAlertEvent(firing({ alertname: 'HighCPU' }));
    const [incident] = (await incidents.list({ limit: 1 })).incidents;
    const id = incident?.id as string;
    const acked = await service.acknowledge(id, 'alice');
    expect(acked).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'alice' });
    expect((await incidents.get(id))?.status).toBe('acknowledged');
    expect(broadcasts.at(-1)?.message).toMatchObject({
      type: 'incident',
      payload: { change: 'acknowledged' },
    });
    await service.resolve(id, 'bob');
    await expect(service.acknowledge(id, 'alice')).rejects.toBeInstanceOf(ConflictError);
    await expect(service.acknowledge('01J0000000000000000000ZZZZ', 'alice')).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('refuses a malformed event with a validation error naming the field', async () => {
    const { service } = setup();
    await expect(service.onAlertEvent({ status: 'burning' })).rejects.toBeInstanceOf(ValidationError);
  });
});
