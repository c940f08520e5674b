/**
 * `npm run bench:alertmanager`: Pulseboard and the real Alertmanager (Debian's 0.25) side by side,
 * in one run, on one machine, recorded in docs/benchmarks.md. Both get the same alertmanager.yml
 * (`group_wait: 0s`, grouped by alert name and host) and the same alerts through
 * `POST /api/v2/alerts`; for each alert, the time from sending the POST to:
 *
 * - Alertmanager: its webhook arriving at a server in this process;
 * - Pulseboard: the SNS publish (the envelope `Timestamp` fauxqs stamps), and the message handed
 *   over by a queue subscribed to the topic (long polling).
 *
 * Each alert is a new host, so a new group: the path measured is a first notification. Alerts go
 * one at a time, alternating which implementation gets its copy first, each after the previous
 * one's notifications arrived; a few warm-up alerts (cold starts) are not counted. Arrival times
 * are taken where the notification lands (the webhook server, the queue's answer), so the 25 ms
 * polling that waits for them does not enter the figures.
 */
import { randomUUID } from 'node:crypto';
import { parseAlertmanagerConfig } from '../lib/alertmanager-config';
import { startLocalRuntime } from '../local/runtime';
import { synthesize } from '../local/synth';
import { ALERTMANAGER_BIN, startAlertmanager } from '../test/support/alertmanager';
import { requestJson, signIn, useToken, waitFor } from '../test/support/clients';
import { receiveEnvelopes, subscribeToNotifications } from '../test/support/notifications';
import { percentile, record } from './record';

const ALERTS = Number(process.env.BENCH_ALERTS ?? 60);
const WARM_UP = 5;
if (!Number.isInteger(ALERTS) || ALERTS < 1)
  throw new Error(`BENCH_ALERTS must be a positive integer; got ${process.env.BENCH_ALERTS}`);

const alertmanagerYml = (webhookUrl: string) => `
route:
  receiver: bench
  group_by: [alertname, host]
  group_wait: 0s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: bench
    webhook_configs: [{ url: '${webhookUrl}' }]
`;

interface Sample {
  readonly alertmanager: number;
  readonly published: number;
  readonly received: number;
}

const cleanUps: (() => unknown)[] = [];
try {
  const assemblyDir = await synthesize();
  const alertmanager = await startAlertmanager(alertmanagerYml);
  cleanUps.push(() => alertmanager.stop());
  const runtime = await startLocalRuntime({
    assemblyDir,
    port: 0,
    agent: false,
    notificationConsole: false,
    log: () => {},
    functionLog: () => {},
  });
  cleanUps.push(() => runtime.stop());
  const api = runtime.urls.HttpApiUrl;
  useToken(await signIn(runtime));
  const { routing } = parseAlertmanagerConfig(alertmanagerYml('https://hooks.example.invalid/bench'));
  if ((await requestJson(`${api}/api/alert-routing`, 'PUT', routing)).status !== 200)
    throw new Error('could not set the routing');
  const { body: key } = await requestJson(`${api}/api/api-keys`, 'POST', { name: 'bench', scope: 'alerts' });
  const { sqs, queueUrl } = await subscribeToNotifications(runtime.engines.sns, { name: 'bench-am' });
  cleanUps.push(() => sqs.destroy());

  /** Pulseboard's notifications by host: the envelope's Timestamp and when the queue handed it over. */
  const ours = new Map<string, { published: number; received: number }>();
  const receiving = receiveEnvelopes(sqs, queueUrl, (envelope, received) => {
    const host = (JSON.parse(envelope.Message) as { groupLabels: { host?: string } }).groupLabels.host ?? '';
    ours.set(host, { published: Date.parse(envelope.Timestamp), received });
  });
  cleanUps.push(() => receiving.stop());

  const post = (url: string, headers: Record<string, string>, alert: unknown) =>
    fetch(`${url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify([alert]),
    }).then((r) => {
      if (r.status !== 200) throw new Error(`${url} answered ${r.status}`);
    });

  const samples: Sample[] = [];
  for (let i = 0; i < WARM_UP + ALERTS; i++) {
    const host = `host-${randomUUID().slice(0, 8)}`;
    const alert = { labels: { alertname: 'BenchSideBySide', host } };
    const toAlertmanager = async () => {
      const sent = Date.now();
      await post(alertmanager.url, {}, alert);
      await waitFor(
        async () => alertmanager.notifications.some((n) => n.body.groupLabels.host === host),
        'Alertmanager notified',
        10_000,
      );
      const at = alertmanager.notifications.find((n) => n.body.groupLabels.host === host)?.at ?? 0;
      return at - sent;
    };
    const toPulseboard = async () => {
      const sent = Date.now();
      await post(api, { authorization: `Bearer ${key.key}` }, alert);
      await waitFor(async () => ours.has(host), 'Pulseboard notified', 10_000);
      const seen = ours.get(host) ?? { published: 0, received: 0 };
      return { published: seen.published - sent, received: seen.received - sent };
    };
    let real: number;
    let pulseboard: { published: number; received: number };
    if (i % 2 === 0) {
      real = await toAlertmanager();
      pulseboard = await toPulseboard();
    } else {
      pulseboard = await toPulseboard();
      real = await toAlertmanager();
    }
    if (i >= WARM_UP) samples.push({ alertmanager: real, ...pulseboard });
  }

  const row = (label: string, pick: (s: Sample) => number) => {
    const values = samples.map(pick);
    return `| ${label} | ${percentile(values, 50).toFixed(0)} ms | ${percentile(values, 95).toFixed(0)} ms | ${Math.max(...values).toFixed(0)} ms |`;
  };
  const p50 = (pick: (s: Sample) => number) => percentile(samples.map(pick), 50);
  const ratio = (
    p50((s) => s.received) /
    Math.max(
      p50((s) => s.alertmanager),
      1,
    )
  ).toFixed(1);
  const lines = [
    `${samples.length} alerts, each a new group (\`group_by: [alertname, host]\`, \`group_wait: 0s\`), sent with \`POST /api/v2/alerts\` to both, one at a time, alternating which gets its copy first, after ${WARM_UP} warm-up alerts that are not counted. Alertmanager is \`${ALERTMANAGER_BIN}\` 0.25 on loopback with a webhook receiver in the benchmark's process; Pulseboard is the local runtime (authorizer, alertmanager-api function, EventBridge router, correlator, DynamoDB Local, fauxqs).`,
    '',
    `| from sending the POST to … (n=${samples.length}) | p50 | p95 | max |`,
    '| --- | ---: | ---: | ---: |',
    row("Alertmanager's webhook received", (s) => s.alertmanager),
    row("Pulseboard's SNS publish (envelope `Timestamp`)", (s) => s.published),
    row("Pulseboard's notification received from a subscribed queue", (s) => s.received),
    '',
    `Ratio of p50s, Pulseboard received / Alertmanager received: ${ratio}×. Alertmanager keeps everything in one process's memory; Pulseboard stores every alert, group and incident durably and crosses four services on the way, so it is slower by tens of milliseconds. Both are far inside the \`group_wait\` most routes set (Alertmanager's default is 30 s).`,
  ];
  console.log(lines.join('\n'));
  record('alertmanager', 'npm run bench:alertmanager', lines.join('\n'));
} finally {
  for (const cleanUp of cleanUps.reverse()) {
    try {
      await cleanUp();
    } catch (error) {
      console.error(`cleaning up: ${(error as Error).message}`);
    }
  }
}
