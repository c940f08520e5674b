import { randomUUID } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime';
import { postJson, RecordingSocket, requestJson, waitFor } from '../support/clients';
import { subscribeToNotifications } from '../support/notifications';
import { startTestRuntime } from '../support/runtime';

/** One SNS notification as a subscribed queue receives it (the SNS envelope, not raw). */
interface Received {
  readonly messageId: string;
  readonly attributes: Record<string, string>;
  readonly body: {
    version: string;
    groupKey: string;
    status: string;
    receiver: string;
    groupLabels: Record<string, string>;
    alerts: { status: string; fingerprint: string; labels: Record<string, string> }[];
  };
}

const request = requestJson;

describe('the alerting pipeline through the local runtime', () => {
  let runtime: LocalRuntime;
  let api: string;
  let sqs: SQSClient;
  let queueUrl: string;
  let socket: RecordingSocket;
  const received: Received[] = [];

  /** Drains the subscribed queue into `received` until `match` finds a notification. */
  const notification = async (match: (n: Received) => boolean): Promise<Received> => {
    let found: Received | undefined;
    await waitFor(
      async () => {
        found = received.find(match);
        if (found) return true;
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        for (const message of Messages) {
          const envelope = JSON.parse(message.Body ?? '{}');
          received.push({
            messageId: envelope.MessageId,
            attributes: Object.fromEntries(
              Object.entries(envelope.MessageAttributes ?? {}).map(([k, v]) => [
                k,
                (v as { Value: string }).Value,
              ]),
            ),
            body: JSON.parse(envelope.Message),
          });
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
          );
        }
        found = received.find(match);
        return found !== undefined;
      },
      'an SNS notification',
      15_000,
    );
    return found as Received;
  };

  /** The first `incident` message on the socket whose incident satisfies `match`. */
  const incidentMessage = async (match: (incident: Record<string, unknown>, change: string) => boolean) => {
    let found: { change: string; incident: Record<string, unknown> } | undefined;
    await waitFor(
      () => {
        found = socket
          .ofType('incident')
          .map((m) => m.payload as { change: string; incident: Record<string, unknown> })
          .find((p) => match(p.incident, p.change));
        return found !== undefined;
      },
      'an incident message',
      15_000,
    );
    return found as { change: string; incident: Record<string, unknown> };
  };

  beforeAll(async () => {
    runtime = await startTestRuntime({ notificationConsole: false });
    api = runtime.urls.HttpApiUrl;
    ({ sqs, queueUrl } = await subscribeToNotifications(runtime.engines.sns, { name: 'receiver' }));
    // Every alert its own group, notified at once: the waits are the dispatcher's unit tests' business.
    const routing = await request(`${api}/api/alert-routing`, 'PUT', {
      route: {
        receiver: 'oncall',
        group_by: ['alertname', 'host', 'trigger_id'],
        group_wait: '0s',
        group_interval: '1s',
        // Alerts of team "batch" wait for company, through the wake queue.
        routes: [
          { matchers: ['team="batch"'], receiver: 'batch', group_by: ['alertname'], group_wait: '2s' },
        ],
      },
    });
    expect(routing.status).toBe(200);
    socket = await RecordingSocket.open(runtime.urls.WebSocketUrl);
    socket.send({ action: 'subscribe', channels: ['incidents', 'alerts'] });
    await socket.next('subscribed', 0);
  });

  afterAll(async () => {
    await socket?.close();
    sqs?.destroy();
    await runtime?.stop();
  });

  it('follows the test trigger from evaluation to an Alertmanager notification, an incident and a WebSocket message', async () => {
    // Act
    const trigger = await postJson(`${api}/api/alerts/test-trigger`, '');
    // Assess: the answer names what to follow.
    expect(trigger.status).toBe(200);
    const { triggerId, fingerprint, eventIds, groups } = trigger.body;
    expect(eventIds).toHaveLength(1);
    expect(groups).toEqual([{ groupKey: expect.stringContaining(triggerId), receiver: 'oncall' }]);

    const sent = await notification((n) => n.body.alerts.some((a) => a.fingerprint === fingerprint));
    expect(sent.body).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'oncall',
      groupKey: groups[0].groupKey,
      groupLabels: { alertname: 'PulseboardTestTrigger', trigger_id: triggerId },
    });
    expect(sent.body.alerts[0]).toMatchObject({
      status: 'firing',
      labels: { test: 'true', severity: 'warning' },
    });
    expect(sent.attributes).toMatchObject({
      severity: 'warning',
      status: 'firing',
      receiver: 'oncall',
      group: groups[0].groupKey,
    });

    const live = await incidentMessage((incident) =>
      (incident.fingerprints as string[]).includes(fingerprint),
    );
    expect(live.change).toBe('opened');
    // The firing-alerts view follows the notification: wait for its message too.
    await waitFor(
      () =>
        socket
          .ofType('alert')
          .some((m) => (m.payload as { fingerprint: string }).fingerprint === fingerprint),
      'an alert message',
    );

    // The incident's timeline holds the notification with the SNS MessageId the queue saw.
    const listed = await request(`${api}/api/incidents?fingerprint=${fingerprint}`, 'GET');
    expect(listed.body.incidents).toHaveLength(1);
    await waitFor(async () => {
      const read = await request(`${api}/api/incidents/${listed.body.incidents[0].id}`, 'GET');
      return read.body.timeline.some(
        (e: { type: string; messageId?: string }) =>
          e.type === 'notification_sent' && e.messageId === sent.messageId,
      );
    }, 'the MessageId on the timeline');

    // Resolving the test alert resolves the incident and notifies the resolution.
    const resolved = await postJson(`${api}/api/alerts/test-trigger`, { resolve: triggerId });
    expect(resolved.body).toMatchObject({ status: 'resolved', fingerprint });
    const resolution = await notification(
      (n) => n.body.status === 'resolved' && n.body.alerts.some((a) => a.fingerprint === fingerprint),
    );
    expect(resolution.attributes.status).toBe('resolved');
    await incidentMessage(
      (incident, change) =>
        change === 'resolved' && (incident.fingerprints as string[]).includes(fingerprint),
    );
  });

  it('turns a real threshold breach into an incident that can be acknowledged, resolves it, and opens a new one on re-firing', async () => {
    // Prepare
    const rule = `Breach_${randomUUID().slice(0, 8)}`;
    const metric = `latency_${randomUUID().slice(0, 8)}`;
    const created = await postJson(`${api}/api/alert-rules`, {
      name: rule,
      kind: 'threshold',
      metric,
      op: '>',
      value: 500,
      severity: 'critical',
      annotations: { summary: '{{ $labels.host }} latency is {{ $value }} ms' },
    });
    expect(created.status).toBe(201);
    const send = (value: number) =>
      postJson(`${api}/api/metrics`, {
        metrics: [{ name: metric, value, timestamp: Date.now(), labels: { host: 'api-1' } }],
      });

    // Act: a breach.
    expect((await send(900)).status).toBe(202);

    // Assess: notification, incident on the socket.
    const fired = await notification(
      (n) => n.body.groupLabels.alertname === rule && n.body.status === 'firing',
    );
    expect(fired.body.alerts[0]?.labels).toMatchObject({
      alertname: rule,
      host: 'api-1',
      severity: 'critical',
    });
    expect(fired.attributes.severity).toBe('critical');
    const opened = await incidentMessage(
      (incident) => (incident.groupLabels as Record<string, string>).alertname === rule,
    );
    const id = opened.incident.id as string;

    // Acknowledge through the API: the socket hears it.
    const acked = await postJson(`${api}/api/incidents/${id}/ack`, { by: 'alice' });
    expect(acked.status).toBe(200);
    expect(acked.body).toMatchObject({ id, status: 'acknowledged', acknowledgedBy: 'alice' });
    await incidentMessage((incident, change) => incident.id === id && change === 'acknowledged');

    // Recovery resolves the incident by itself, with a resolved notification.
    await send(100);
    await notification((n) => n.body.groupLabels.alertname === rule && n.body.status === 'resolved');
    await incidentMessage((incident, change) => incident.id === id && change === 'resolved');
    const closed = await request(`${api}/api/incidents/${id}`, 'GET');
    expect(closed.body.timeline.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining([
        'alert_joined',
        'notification_sent',
        'acknowledged',
        'alert_resolved',
        'resolved',
      ]),
    );

    // A new breach after resolution opens a new incident.
    await send(950);
    const reopened = await incidentMessage(
      (incident, change) =>
        change === 'opened' &&
        (incident.groupLabels as Record<string, string>).alertname === rule &&
        incident.id !== id,
    );
    expect(reopened.incident.status).toBe('open');
    const open = await request(`${api}/api/incidents?status=open&limit=100`, 'GET');
    expect(open.body.incidents.map((i: { id: string }) => i.id)).toContain(reopened.incident.id);
  });

  it('holds a group for group_wait through the SQS wake queue, then notifies its alerts together', async () => {
    const rule = `Batch_${randomUUID().slice(0, 8)}`;
    const metric = `queue_depth_${randomUUID().slice(0, 8)}`;
    await postJson(`${api}/api/alert-rules`, {
      name: rule,
      kind: 'threshold',
      metric,
      op: '>',
      value: 10,
      severity: 'warning',
    });
    const point = (host: string) => ({
      name: metric,
      value: 50,
      timestamp: Date.now(),
      labels: { host, team: 'batch' },
    });

    await postJson(`${api}/api/metrics`, { metrics: [point('worker-1')] });
    await postJson(`${api}/api/metrics`, { metrics: [point('worker-2')] });

    const sent = await notification((n) => n.body.groupLabels.alertname === rule);
    expect(sent.body.receiver).toBe('batch');
    expect(sent.body.alerts.map((a) => a.labels.host).sort()).toEqual(['worker-1', 'worker-2']);
    expect(received.filter((n) => n.body.groupLabels.alertname === rule)).toHaveLength(1);
  });

  it('answers malformed alerting requests with a 4xx JSON error, never a 5xx', async () => {
    const cases: [string, string, unknown][] = [
      ['POST', '/api/alerts/test-trigger', { severity: 'apocalyptic' }],
      ['POST', '/api/alerts/test-trigger', { labels: { 'bad-name': 'x' } }],
      ['POST', '/api/alerts/test-trigger', { resolve: '01JUNKNOWN0000000000000000' }],
      ['POST', '/api/alerts/test-trigger', [1, 2]],
      ['GET', '/api/incidents?status=burning', undefined],
      ['GET', '/api/incidents?limit=1000', undefined],
      ['GET', '/api/incidents/not-an-id', undefined],
      ['POST', '/api/incidents/01J00000000000000000000000/ack', { by: 'alice' }],
      ['POST', '/api/incidents/01J00000000000000000000000/resolve', { who: 'alice' }],
      ['PUT', '/api/alert-routing', { route: { group_wait: 'soon' } }],
      ['PUT', '/api/alert-routing', { route: { receiver: 'x' }, receivers: [] }],
      ['GET', '/api/alerts?status=maybe', undefined],
    ];
    for (const [method, path, body] of cases) {
      const response = await request(`${api}${path}`, method, body);
      expect(response.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect(response.status, `${method} ${path}`).toBeLessThan(500);
      expect(response.body.error, `${method} ${path}`).toMatchObject({
        code: expect.any(String),
        message: expect.any(String),
      });
    }
  });
});
