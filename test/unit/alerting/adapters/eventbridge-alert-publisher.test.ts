import { EventBridgeClient, InternalException, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ALERT_DETAIL_TYPES,
  ALERT_EVENT_SOURCE,
  EventBridgeAlertPublisher,
} from '../../../../functions/shared/adapters/eventbridge-alert-publisher';
import type { AlertTransition } from '../../../../functions/shared/domain/alerting/evaluation';
import { DependencyError } from '../../../../functions/shared/errors';

const eventbridge = mockClient(EventBridgeClient);
const client = new EventBridgeClient({ region: 'us-east-1' });
const BUS = 'pulseboard-bus';
const STARTS_AT = '2026-03-01T12:00:00.000Z';

const transition = (n: number, status: AlertTransition['status'] = 'firing'): AlertTransition => ({
  status,
  fingerprint: `fp-${n}`,
  rule: 'HighCpu',
  labels: { alertname: 'HighCpu', host: `web-${n}` },
  annotations: { summary: 'CPU is high' },
  value: 90 + n,
  startsAt: STARTS_AT,
  ...(status === 'resolved' ? { endsAt: '2026-03-01T12:05:00.000Z' } : {}),
});

/** Answers each entry with an id derived from its detail, so a test can tell which entry got which id. */
const idFor = (detail: string | undefined) =>
  `event-${(JSON.parse(detail ?? '{}') as AlertTransition).fingerprint}`;

const calls = () =>
  eventbridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries ?? []);

afterEach(() => {
  eventbridge.reset();
  vi.restoreAllMocks();
});

describe('EventBridgeAlertPublisher', () => {
  it('publishes firings and resolutions on the alert source with the transition as the detail', async () => {
    // Prepare
    eventbridge.on(PutEventsCommand).callsFake((input) => ({
      Entries: input.Entries.map((e: { Detail?: string }) => ({ EventId: idFor(e.Detail) })),
    }));
    const publisher = new EventBridgeAlertPublisher(client, BUS);
    const firing = transition(1);
    const resolved = transition(2, 'resolved');

    // Act
    const ids = await publisher.publish([firing, resolved]);

    // Assess
    expect(ids).toEqual(['event-fp-1', 'event-fp-2']);
    expect(calls()).toEqual([
      [
        {
          EventBusName: BUS,
          Source: 'pulseboard.alerts',
          DetailType: 'Alert Firing',
          Detail: JSON.stringify(firing),
        },
        {
          EventBusName: BUS,
          Source: 'pulseboard.alerts',
          DetailType: 'Alert Resolved',
          Detail: JSON.stringify(resolved),
        },
      ],
    ]);
    expect(ALERT_EVENT_SOURCE).toBe('pulseboard.alerts');
    expect(ALERT_DETAIL_TYPES).toEqual({ firing: 'Alert Firing', resolved: 'Alert Resolved' });
  });

  it('sends at most ten entries per PutEvents call and answers every id in input order', async () => {
    // Prepare
    eventbridge.on(PutEventsCommand).callsFake((input) => ({
      Entries: input.Entries.map((e: { Detail?: string }) => ({ EventId: idFor(e.Detail) })),
    }));
    const publisher = new EventBridgeAlertPublisher(client, BUS);
    const transitions = Array.from({ length: 23 }, (_, n) => transition(n));

    // Act
    const ids = await publisher.publish(transitions);

    // Assess
    expect(calls().map((entries) => entries.length)).toEqual([10, 10, 3]);
    expect(ids).toEqual(transitions.map((t) => `event-${t.fingerprint}`));
  });

  it('sends nothing for no transitions', async () => {
    // Prepare
    const publisher = new EventBridgeAlertPublisher(client, BUS);

    // Act
    const ids = await publisher.publish([]);

    // Assess
    expect(ids).toEqual([]);
    expect(calls()).toEqual([]);
  });

  it('retries only the entries reported failed and keeps the ids in input order', async () => {
    // Prepare
    vi.spyOn(Math, 'random').mockReturnValue(0);
    eventbridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [
          { EventId: 'event-0' },
          { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' },
          { EventId: 'event-2' },
        ],
      })
      .resolvesOnce({ Entries: [{ EventId: 'event-1' }] });
    const publisher = new EventBridgeAlertPublisher(client, BUS);
    const transitions = [transition(0), transition(1), transition(2)];

    // Act
    const ids = await publisher.publish(transitions);

    // Assess
    expect(ids).toEqual(['event-0', 'event-1', 'event-2']);
    expect(calls()[1]).toEqual([expect.objectContaining({ Detail: JSON.stringify(transitions[1]) })]);
  });

  it('throws a DependencyError when entries still fail after every attempt, so the outbox keeps them', async () => {
    // Prepare
    vi.spyOn(Math, 'random').mockReturnValue(0);
    eventbridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    });
    const publisher = new EventBridgeAlertPublisher(client, BUS);

    // Act
    const outcome = publisher.publish([transition(0)]);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(DependencyError);
    expect(calls()).toHaveLength(4);
  });

  it('lets an error of the PutEvents call itself propagate', async () => {
    // Prepare
    eventbridge.on(PutEventsCommand).rejects(new InternalException({ message: 'boom', $metadata: {} }));
    const publisher = new EventBridgeAlertPublisher(client, BUS);

    // Act
    const outcome = publisher.publish([transition(0)]);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(InternalException);
  });
});
