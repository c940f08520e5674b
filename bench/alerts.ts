/**
 * `npm run bench:alerts`: alerting latency on the local runtime (group_wait 0), recorded in
 * docs/benchmarks.md. For each of 100 alerts, sent one at a time, the time from the ingest request
 * carrying a breaching value (POST /api/metrics) to:
 *
 * 1. the incident existing: the first GET /api/incidents?fingerprint=… that returns it;
 * 2. the SNS publish: the `Timestamp` fauxqs stamps on the notification's SNS envelope;
 * 3. the WebSocket message: the `incident` message with `change: "opened"` on the `incidents` channel.
 *
 * Every alert has its own host label and the route groups by host, so each one opens its own
 * group and incident. A few warm-up alerts (cold starts) come first and are not counted.
 */
import { randomUUID } from 'node:crypto';
import { ListTopicsCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import WebSocket from 'ws';
import { fingerprint } from '../functions/shared/domain/alerting/fingerprint';
import { startLocalRuntime } from '../local/runtime';
import { synthesize } from '../local/synth';
import { percentile, record } from './record';

const ALERTS = Number(process.env.BENCH_ALERTS ?? 100);
const WARM_UP = 5;
const TIMEOUT_MS = 10_000;
/** Pause between incident polls; each poll is one GET through the gateway and the incidents function. */
const POLL_GAP_MS = Number(process.env.BENCH_POLL_GAP_MS ?? 2);

const RULE = 'BenchHighLatency';
const METRIC = 'bench_latency_ms';
const SEVERITY = 'critical';
const ROUTING = {
  route: {
    receiver: 'bench',
    group_by: ['alertname', 'host'],
    group_wait: '0s',
    group_interval: '5m',
    repeat_interval: '4h',
  },
};

/** What was seen of one alert, in milliseconds from its ingest request being sent. */
interface Sample {
  /** POST /api/metrics answered 202. */
  readonly accepted: number;
  /** The first incident poll that found it answered; `pollFrom` is when the previous (empty) poll was sent. */
  readonly incidentPolled: number;
  readonly pollFrom: number;
  /** The incident's `openedAt` (the correlator's clock), against the wall clock at sending. */
  readonly openedAt: number;
  /** The SNS envelope's `Timestamp` (fauxqs stamps it when it accepts the Publish). */
  readonly published: number;
  /** The notification received from the subscribed queue. */
  readonly queued: number;
  /** The `opened` incident message received on the socket. */
  readonly webSocket: number;
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable with the runtime's `Date.now()`. */
const now = () => performance.timeOrigin + performance.now();

const request = async (url: string, method: string, body?: unknown) => {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
};

/** Resolves when `check` returns a value, or fails loudly after `timeoutMs`. */
async function until<T>(check: () => T | undefined, what: string, timeoutMs = TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (observerError) throw observerError;
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

// Function logs are kept (the last few per function) to explain a timeout, never printed otherwise.
const functionLines: string[] = [];
const assemblyDir = await synthesize();
const runtime = await startLocalRuntime({
  assemblyDir,
  port: 0,
  agent: false,
  notificationConsole: false,
  log: () => {},
  functionLog: (name, line) => {
    functionLines.push(`[${name}] ${line}`);
    if (functionLines.length > 200) functionLines.shift();
  },
});
const api = runtime.urls.HttpApiUrl;
const messaging = {
  endpoint: runtime.engines.sns,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
};
const sqs = new SQSClient(messaging);
const sns = new SNSClient(messaging);
const stopReceiving = new AbortController();
let receiving: Promise<void> = Promise.resolve();
let socket: WebSocket | undefined;
/** A failure of the queue or the socket, reported by the next wait instead of as an unhandled rejection. */
let observerError: Error | undefined;

try {
  // ---- observers: a queue subscribed to the notifications topic, and one WebSocket client ------
  const { QueueUrl: queueUrl = '' } = await sqs.send(
    new CreateQueueCommand({ QueueName: `bench-alerts-${randomUUID().slice(0, 8)}` }),
  );
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const { Topics = [] } = await sns.send(new ListTopicsCommand({}));
  const topicArn = Topics.map((t) => t.TopicArn ?? '').find((arn) => arn.includes('Notifications'));
  if (!topicArn) throw new Error('No notifications topic in the local runtime');
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: Attributes?.QueueArn,
      Attributes: { RawMessageDelivery: 'false' },
    }),
  );
  /** Notifications by host: the envelope's Timestamp and when the queue handed it over. */
  const notifications = new Map<string, { published: number; received: number; status: string }>();
  receiving = (async () => {
    while (!stopReceiving.signal.aborted) {
      const { Messages = [] } = await sqs
        .send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
          {
            abortSignal: stopReceiving.signal,
          },
        )
        .catch((error: unknown) => {
          if (stopReceiving.signal.aborted) return { Messages: [] };
          throw error;
        });
      const received = now();
      for (const message of Messages) {
        const envelope = JSON.parse(message.Body ?? '{}') as { Timestamp: string; Message: string };
        const body = JSON.parse(envelope.Message) as { status: string; groupLabels: { host?: string } };
        const host = body.groupLabels.host;
        if (host && !notifications.has(host)) {
          notifications.set(host, {
            published: Date.parse(envelope.Timestamp),
            received,
            status: body.status,
          });
        }
      }
      if (Messages.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: Messages.map((m, n) => ({ Id: `m${n}`, ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      }
    }
  })().catch((error: unknown) => {
    observerError = error as Error;
  });

  const ws = new WebSocket(runtime.urls.WebSocketUrl);
  socket = ws;
  /** `opened` incident messages by host, with their arrival time. */
  const opened = new Map<string, { at: number; fingerprints: string[] }>();
  let subscribed = false;
  ws.on('message', (data) => {
    const at = now();
    const message = JSON.parse(String(data)) as {
      type: string;
      payload: { change?: string; incident?: { groupLabels: { host?: string }; fingerprints: string[] } };
    };
    if (message.type === 'subscribed') subscribed = true;
    const host = message.payload.incident?.groupLabels.host;
    if (message.type === 'incident' && message.payload.change === 'opened' && host && !opened.has(host)) {
      opened.set(host, { at, fingerprints: message.payload.incident?.fingerprints ?? [] });
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.on('error', (error) => {
    observerError = error;
  });
  ws.send(JSON.stringify({ action: 'subscribe', channels: ['incidents'] }));
  await until(() => (subscribed ? true : undefined), 'the subscription acknowledgement');

  // ---- the rule and the route ----------------------------------------------------------------
  const routing = await request(`${api}/api/alert-routing`, 'PUT', ROUTING);
  if (routing.status !== 200) throw new Error(`PUT /api/alert-routing answered ${routing.status}`);
  const rule = await request(`${api}/api/alert-rules`, 'POST', {
    name: RULE,
    kind: 'threshold',
    metric: METRIC,
    op: '>',
    value: 500,
    severity: SEVERITY,
  });
  if (rule.status !== 201) throw new Error(`POST /api/alert-rules answered ${rule.status}`);

  // ---- one alert at a time --------------------------------------------------------------------
  const run = randomUUID().slice(0, 6);
  const samples: Sample[] = [];
  for (let i = 0; i < WARM_UP + ALERTS; i++) {
    const host = `bench-${run}-${i}`;
    const print = fingerprint({ host, alertname: RULE, severity: SEVERITY });
    const sent = now();
    const response = await request(`${api}/api/metrics`, 'POST', {
      metrics: [{ name: METRIC, value: 900, timestamp: Math.floor(sent), labels: { host } }],
    });
    const accepted = now();
    if (response.status !== 202) throw new Error(`POST /api/metrics answered ${response.status}`);

    // Poll for the incident, one GET in flight at a time, while the socket and the queue listen.
    let pollFrom = accepted;
    let incident: { at: number; openedAt: number } | undefined;
    const deadline = Date.now() + TIMEOUT_MS;
    while (!incident) {
      if (Date.now() > deadline)
        throw new Error(`Timed out after ${TIMEOUT_MS} ms waiting for incident ${host}`);
      const polled = now();
      const found = await request(`${api}/api/incidents?fingerprint=${print}`, 'GET');
      if (found.status !== 200) throw new Error(`GET /api/incidents answered ${found.status}`);
      const hit = (found.body.incidents as { groupLabels: { host?: string }; openedAt: string }[]).find(
        (x) => x.groupLabels.host === host,
      );
      if (hit) incident = { at: now(), openedAt: Date.parse(hit.openedAt) };
      else {
        pollFrom = polled;
        await new Promise((resolve) => setTimeout(resolve, POLL_GAP_MS));
      }
    }
    const message = await until(() => opened.get(host), `the WebSocket incident message for ${host}`);
    const notification = await until(() => notifications.get(host), `the SNS notification for ${host}`);
    if (!message.fingerprints.includes(print)) {
      throw new Error(`Fingerprint mismatch for ${host}: computed ${print}, got ${message.fingerprints}`);
    }
    if (notification.status !== 'firing')
      throw new Error(`Notification for ${host} is ${notification.status}`);
    // The first alerts include cold starts (ingest, correlator, incidents, broadcast): not counted.
    if (i < WARM_UP) continue;
    samples.push({
      accepted: accepted - sent,
      incidentPolled: incident.at - sent,
      pollFrom: pollFrom - sent,
      openedAt: incident.openedAt - sent,
      published: notification.published - sent,
      queued: notification.received - sent,
      webSocket: message.at - sent,
    });
  }

  // ---- report ---------------------------------------------------------------------------------
  const figure = (pick: (s: Sample) => number) => {
    const values = samples.map(pick);
    return `${percentile(values, 50).toFixed(1)} ms | ${percentile(values, 95).toFixed(1)} ms | ${Math.max(...values).toFixed(1)} ms`;
  };
  const n = samples.length;
  const lines = [
    `${n} alerts on the local runtime, one at a time (each waited for before the next), after ${WARM_UP} warm-up alerts that are not counted. Route \`group_by: [alertname, host]\`, \`group_wait: 0s\`; threshold rule \`${METRIC} > 500\` with no \`for\`; every alert a new host, so a new group and a new incident. Times from sending \`POST /api/metrics\` with the breaching point.`,
    '',
    `| from the ingest request to … (n=${n}) | p50 | p95 | max |`,
    '| --- | ---: | ---: | ---: |',
    `| **(1) the incident exists** (first \`GET /api/incidents?fingerprint=…\` that returns it, answered) | ${figure((s) => s.incidentPolled)} |`,
    `| **(2) the SNS publish** (\`Timestamp\` of the SNS envelope) | ${figure((s) => s.published)} |`,
    `| **(3) the WebSocket message** (\`incident\`, \`change: "opened"\`, received) | ${figure((s) => s.webSocket)} |`,
    `| for reference: \`POST /api/metrics\` answered 202 | ${figure((s) => s.accepted)} |`,
    `| for reference: the incident's \`openedAt\` (correlator's clock at the start of its invocation) | ${figure((s) => s.openedAt)} |`,
    `| for reference: the last incident poll that did not find it, sent | ${figure((s) => s.pollFrom)} |`,
    `| for reference: the notification received from the subscribed SQS queue | ${figure((s) => s.queued)} |`,
    '',
    'What each figure covers:',
    '',
    `- **(1) Incident exists**: measured by polling, one request in flight with a ${POLL_GAP_MS} ms pause between polls, starting when the ingest request is answered. The figure is when the first poll that returned the incident was answered, so it includes one poll's round trip (gateway + incidents function + DynamoDB Local query, a few ms); the incident was written between the previous poll (the "last poll that did not find it" row) and then. \`openedAt\` is not used for this: the correlator stamps it with the clock it read at the start of the invocation, before it loads routing, silences and the group and before it publishes to SNS, and the incident item is written only after the SNS publish, so \`openedAt\` is earlier than the moment the incident can be read.`,
    "- **(2) SNS publish**: the envelope `Timestamp` fauxqs sets (ISO 8601, millisecond precision, same machine clock) when it accepts the correlator's `Publish`. It covers ingest evaluation, `PutEvents` to the local EventBridge, the asynchronous correlator invocation (worker thread), its reads of routing, silences and the group, the conditional group write, the firing-alert write and its `alerts` broadcast, then the publish. It does not include the delivery to a subscriber (the queue row shows that, which includes the long-poll wake-up).",
    '- **(3) WebSocket message**: the `opened` message received by one client subscribed to `incidents`. After the publish, the correlator writes the incident, then broadcasts (subscription lookup and `PostToConnection` through the local `@connections` API). So (3) ≥ the incident write, and (3) comes after (2) by design.',
    '',
    'All three run through the same asynchronous correlator invocation, which starts while the ingest function is still answering, so (1)–(3) can be shorter than the 202.',
  ];
  console.log(lines.join('\n'));
  record('alerts', 'npm run bench:alerts', lines.join('\n'));
} catch (error) {
  console.error(functionLines.slice(-40).join('\n'));
  throw error;
} finally {
  await request(`${api}/api/alert-rules/${RULE}`, 'DELETE').catch(() => undefined);
  await request(`${api}/api/alert-routing`, 'DELETE').catch(() => undefined);
  stopReceiving.abort();
  await receiving.catch(() => undefined);
  if (socket && socket.readyState !== WebSocket.CLOSED) {
    const closed = new Promise((resolve) => socket?.once('close', resolve));
    socket.close();
    await closed;
  }
  sqs.destroy();
  sns.destroy();
  await runtime.stop();
}
