import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime';
import { synthesize } from '../../local/synth';
import { type RealAlertmanager, type ReceivedNotification, startAlertmanager } from '../support/alertmanager';
import { authHeaders, waitFor } from '../support/clients';
import { startTestRuntime } from '../support/runtime';

/**
 * `npm start -- --alertmanager-config <file>` end to end: an alertmanager.yml with two webhook
 * receivers (one with `send_resolved: false`) is synthesized into the stack, so each webhook is an
 * SNS subscription with a filter policy, which the local runtime delivers over HTTP. The real
 * Alertmanager gets the same file and the same alerts; both must call each receiver with the same
 * notifications.
 */
const alertmanagerYml = (webhookUrl: string) => `
route:
  receiver: team
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - { matchers: ['severity="critical"'], receiver: pager, continue: true }
    - { matchers: ['severity=~".+"'], receiver: team }
receivers:
  - name: team
    webhook_configs: [{ url: '${webhookUrl}' }]
  - name: pager
    webhook_configs: [{ url: '${webhookUrl}', send_resolved: false }]
`;

describe('alertmanager.yml receivers, delivered by the local runtime as SNS HTTP subscriptions', () => {
  let dir: string;
  let hook: Server;
  let assemblyDir: string;
  let runtime: LocalRuntime;
  let alertmanager: RealAlertmanager;
  const pulseboard: ReceivedNotification[] = [];
  const headers: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    hook = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk) => {
        text += chunk;
      });
      req.on('end', () => {
        pulseboard.push({ at: Date.now(), body: JSON.parse(text) });
        headers.push(req.headers);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    dir = await mkdtemp(path.join(tmpdir(), 'am-receivers-'));
    const file = path.join(dir, 'alertmanager.yml');
    await writeFile(file, alertmanagerYml(`http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`));
    // What `npm start -- --alertmanager-config <file>` does; the web bundle is the run's own.
    assemblyDir = await synthesize({ buildWeb: false, context: { alertmanagerConfig: file } });
    [runtime, alertmanager] = await Promise.all([
      startTestRuntime({ assemblyDir, notificationConsole: false }),
      startAlertmanager(alertmanagerYml),
    ]);
  });

  afterAll(async () => {
    await runtime?.stop();
    await alertmanager?.stop();
    await new Promise((resolve) => hook?.close(resolve));
    if (assemblyDir) await rm(assemblyDir, { recursive: true, force: true });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Posts the same alerts to both, as Prometheus would. */
  const post = async (alerts: unknown[]) => {
    const body = JSON.stringify(alerts);
    const [toAlertmanager, toPulseboard] = await Promise.all([
      fetch(`${alertmanager.url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      }),
      fetch(`${runtime.urls.HttpApiUrl}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...authHeaders() },
        body,
      }),
    ]);
    expect([toAlertmanager.status, toPulseboard.status]).toEqual([200, 200]);
  };

  /** Each receiver's notifications, in order, as `status: alertname=status,…`. */
  const byReceiver = (notifications: readonly ReceivedNotification[]) => {
    const lines: Record<string, string[]> = {};
    for (const { body } of notifications) {
      const alerts = body.alerts.map((a) => `${a.labels.alertname}=${a.status}`).sort();
      lines[body.receiver] = [...(lines[body.receiver] ?? []), `${body.status}: ${alerts.join(',')}`];
    }
    return lines;
  };

  const both = (what: string, condition: (lines: Record<string, string[]>) => boolean) =>
    waitFor(
      () => condition(byReceiver(alertmanager.notifications)) && condition(byReceiver(pulseboard)),
      `${what}, from both`,
      30_000,
    );

  it('calls each receiver as Alertmanager does, send_resolved: false included', async () => {
    const critical = { alertname: 'DiskFull', severity: 'critical', host: 'db-1' };

    // Act: a critical alert fires (pager and team), then resolves (team only: the pager
    // receiver does not send resolved notifications).
    await post([{ labels: critical, annotations: { summary: 'disk 97%' } }]);
    await both('pager and team notified', (l) => l.pager?.length === 1 && l.team?.length === 1);
    await post([{ labels: critical, endsAt: new Date().toISOString() }]);
    await both('team told of the resolution', (l) => l.team?.length === 2);
    // A later alert for the pager: had the pager's resolution gone out, it would have come first.
    await post([{ labels: { alertname: 'Sentinel', severity: 'critical' } }]);
    await both('the sentinel paged', (l) => l.pager?.length === 2);

    // Assess
    const expected = {
      pager: ['firing: DiskFull=firing', 'firing: Sentinel=firing'],
      team: ['firing: DiskFull=firing', 'resolved: DiskFull=resolved', 'firing: Sentinel=firing'],
    };
    await both('the sentinel at team', (l) => l.team?.length === 3);
    expect(byReceiver(alertmanager.notifications)).toEqual(expected);
    expect(byReceiver(pulseboard)).toEqual(expected);
    // As SNS posts it: raw delivery, with SNS's headers.
    expect(headers[0]).toMatchObject({
      'x-amz-sns-message-type': 'Notification',
      'x-amz-sns-rawdelivery': 'true',
    });
    expect(pulseboard[0]?.body).toMatchObject({ version: '4', groupLabels: { alertname: 'DiskFull' } });
  });
});
