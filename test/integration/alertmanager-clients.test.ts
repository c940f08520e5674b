import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint } from '../../functions/shared/domain/alerting/fingerprint';
import type { LocalRuntime } from '../../local/runtime';
import { currentToken, postJson, RecordingSocket, requestJson, waitFor } from '../support/clients';
import { subscribeToNotifications } from '../support/notifications';
import {
  type MetricsTarget,
  type RunningPrometheus,
  startMetricsTarget,
  startPrometheus,
} from '../support/prometheus';
import { startTestRuntime } from '../support/runtime';

/**
 * The real clients of Alertmanager's API v2, unmodified, pointed at the local runtime: Debian's
 * amtool (0.25) and Prometheus (2.42). Each authenticates as documented in the README: amtool
 * with `--http.config.file`, Prometheus with `alerting.alertmanagers[].authorization`.
 */
const AMTOOL_BIN = '/usr/bin/amtool';

/** One webhook body as the raw-delivery queue receives it. */
interface Notification {
  readonly status: 'firing' | 'resolved';
  readonly receiver: string;
  readonly groupLabels: Record<string, string>;
  readonly alerts: readonly {
    readonly status: string;
    readonly fingerprint: string;
    readonly labels: Record<string, string>;
    readonly annotations: Record<string, string>;
    readonly generatorURL: string;
  }[];
}

interface AmAlert {
  readonly fingerprint: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly receivers: { name: string }[];
  readonly status: { state: string; silencedBy: string[]; inhibitedBy: string[] };
}

interface AmSilence {
  readonly id: string;
  readonly matchers: { name: string; value: string; isRegex: boolean; isEqual: boolean }[];
  readonly createdBy: string;
  readonly comment: string;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly status: { state: string };
}

describe("real Alertmanager clients against Pulseboard's local runtime", () => {
  let runtime: LocalRuntime;
  let api: string;
  let alertsKey: string;
  let dir: string;
  /** amtool's --http.config.file for the admin's JWT, and for the `alerts` API key. */
  let adminHttpConfig: string;
  let keyHttpConfig: string;
  let sqs: SQSClient;
  let queueUrl: string;
  let socket: RecordingSocket;
  const notifications: Notification[] = [];

  /** Runs amtool against the runtime; never rejects, so a refusal can be asserted. */
  const amtool = (httpConfig: string, ...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        AMTOOL_BIN,
        [`--alertmanager.url=${api}`, `--http.config.file=${httpConfig}`, ...args],
        { timeout: 60_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });

  /** amtool with `-o json`, failing the test with amtool's stderr unless it succeeds. */
  const amtoolJson = async <T>(httpConfig: string, ...args: string[]): Promise<T> => {
    const { code, stdout, stderr } = await amtool(httpConfig, '-o', 'json', ...args);
    expect(code, stderr).toBe(0);
    return JSON.parse(stdout) as T;
  };

  /** Drains the raw-delivery queue into `notifications` until `match` finds one. */
  const notification = async (match: (n: Notification) => boolean, what: string) => {
    await waitFor(
      async () => {
        if (notifications.some(match)) return true;
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        for (const message of Messages) {
          notifications.push(JSON.parse(message.Body ?? '{}'));
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
          );
        }
        return notifications.some(match);
      },
      what,
      60_000,
    );
    return notifications.find(match) as Notification;
  };

  /** The first `incident` message on the socket for this alert with this change. */
  const incidentMessage = async (fp: string, change: string) => {
    const find = () =>
      socket
        .ofType('incident')
        .map((m) => m.payload as { change: string; incident: { id: string; fingerprints: string[] } })
        .find((p) => p.change === change && p.incident.fingerprints.includes(fp));
    await waitFor(() => find() !== undefined, `an "${change}" incident message`, 60_000);
    return find() as NonNullable<ReturnType<typeof find>>;
  };

  const incidentsOf = async (fp: string) =>
    (await requestJson(`${api}/api/incidents?fingerprint=${fp}`, 'GET')).body.incidents as {
      id: string;
      status: string;
      receiver: string;
    }[];

  const unique = (what: string) => `${what}_${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    runtime = await startTestRuntime({ notificationConsole: false });
    api = runtime.urls.HttpApiUrl;
    const key = await postJson(`${api}/api/api-keys`, { name: 'amtool and prometheus', scope: 'alerts' });
    expect(key.status).toBe(201);
    alertsKey = key.body.key;
    // Every alert name its own group, notified at once. The `team` routes (no other test's alerts
    // carry the label) give `amtool config routes` a tree; flap_detection is Pulseboard's own key.
    const routing = await requestJson(`${api}/api/alert-routing`, 'PUT', {
      route: {
        receiver: 'oncall',
        group_by: ['alertname'],
        group_wait: '0s',
        group_interval: '1s',
        routes: [
          {
            matchers: ['team="db"'],
            receiver: 'dba',
            continue: true,
            flap_detection: false,
            routes: [{ matchers: ['severity="critical"'], receiver: 'db-pager' }],
          },
          { matchers: ['team=~"web|api"'], receiver: 'web' },
        ],
      },
    });
    expect(routing.status).toBe(200);

    dir = await mkdtemp(path.join(tmpdir(), 'am-clients-'));
    // Prometheus's common HTTP client config, which amtool reads too (`type` defaults to Bearer).
    adminHttpConfig = path.join(dir, 'admin.yml');
    keyHttpConfig = path.join(dir, 'alerts-key.yml');
    const httpConfig = (credentials: string) =>
      `authorization:\n  type: Bearer\n  credentials: ${JSON.stringify(credentials)}\n`;
    await writeFile(adminHttpConfig, httpConfig(currentToken() ?? ''));
    await writeFile(keyHttpConfig, httpConfig(alertsKey));

    ({ sqs, queueUrl } = await subscribeToNotifications(runtime.engines.sns, {
      name: 'am-clients',
      raw: true,
    }));
    socket = await RecordingSocket.open(runtime.urls.WebSocketUrl);
    socket.send({ action: 'subscribe', channels: ['incidents'] });
    await socket.next('subscribed', 0);
  });

  afterAll(async () => {
    await socket?.close();
    sqs?.destroy();
    await runtime?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('amtool', () => {
    it('adds an alert with labels and annotations, and finds it again with matchers', async () => {
      // Prepare
      const name = unique('AmtoolDiskFull');
      const job = unique('disk');
      const labels = { alertname: name, job, severity: 'warning' };

      // Act
      const added = await amtool(
        adminHttpConfig,
        'alert',
        'add',
        name,
        `job=${job}`,
        'severity=warning',
        '--annotation=summary=disk 95% full',
        '--annotation=runbook=https://runbooks.example/disk',
      );

      // Assess
      expect(added.code, added.stderr).toBe(0);
      let found: AmAlert[] = [];
      await waitFor(
        async () => {
          found = await amtoolJson<AmAlert[]>(adminHttpConfig, 'alert', 'query', name);
          return found.length === 1;
        },
        'amtool alert query to see the alert',
        30_000,
      );
      expect(found[0]).toMatchObject({
        fingerprint: fingerprint(labels),
        labels,
        annotations: { summary: 'disk 95% full', runbook: 'https://runbooks.example/disk' },
        receivers: [{ name: 'oncall' }],
        status: { state: 'active', silencedBy: [], inhibitedBy: [] },
      });
      // Matchers as amtool takes them: quoted, regex, negated, several at once.
      const query = (...matchers: string[]) =>
        amtoolJson<AmAlert[]>(adminHttpConfig, 'alert', 'query', ...matchers);
      expect((await query(`alertname="${name}"`, `job=~"${job}|other"`)).map((a) => a.labels)).toEqual([
        labels,
      ]);
      expect(await query(`alertname=${name}`, 'severity!=warning')).toEqual([]);
      expect(await query(`job=~"${job}.+"`)).toEqual([]);
      // The default table output names it too.
      const table = await amtool(adminHttpConfig, 'alert', 'query', `job=${job}`);
      expect(table.stdout).toContain(name);
      expect(table.stdout).toContain('disk 95% full');
    });

    it('adds a silence that mutes the alert, finds it by matcher, and expires it', async () => {
      // Prepare: an alert to silence.
      const name = unique('AmtoolMaintenance');
      const job = unique('batch');
      expect((await amtool(adminHttpConfig, 'alert', 'add', name, `job=${job}`)).code).toBe(0);
      await waitFor(
        async () => (await amtoolJson<AmAlert[]>(adminHttpConfig, 'alert', 'query', name)).length === 1,
        'the alert to be active',
        30_000,
      );

      // Act: silence it for an hour.
      const added = await amtool(
        adminHttpConfig,
        'silence',
        'add',
        `job=${job}`,
        '--comment=nightly maintenance',
        '--author=amtool-test',
        '--duration=1h',
      );

      // Assess: amtool prints the new silence's id, and finds the silence by its matcher.
      expect(added.code, added.stderr).toBe(0);
      const id = added.stdout.trim();
      expect(id).toMatch(/^\S+$/);
      const silences = await amtoolJson<AmSilence[]>(adminHttpConfig, 'silence', 'query', `job=${job}`);
      expect(silences).toHaveLength(1);
      expect(silences[0]).toMatchObject({
        id,
        matchers: [{ name: 'job', value: job, isRegex: false, isEqual: true }],
        createdBy: 'amtool-test',
        comment: 'nightly maintenance',
        status: { state: 'active' },
      });
      const hours =
        (Date.parse(silences[0]?.endsAt ?? '') - Date.parse(silences[0]?.startsAt ?? '')) / 3_600_000;
      expect(hours).toBeCloseTo(1, 2);
      const quiet = await amtool(adminHttpConfig, 'silence', 'query', '-q');
      expect(quiet.stdout.split('\n')).toContain(id);
      // A silence on another value of the label is not this one.
      expect(await amtoolJson(adminHttpConfig, 'silence', 'query', `job=${job}-other`)).toEqual([]);

      // The alert is suppressed: gone from the default (active) query, listed with --silenced.
      expect(await amtoolJson(adminHttpConfig, 'alert', 'query', name)).toEqual([]);
      const silenced = await amtoolJson<AmAlert[]>(adminHttpConfig, 'alert', 'query', '--silenced', name);
      expect(silenced.map((a) => a.status)).toEqual([
        { state: 'suppressed', silencedBy: [id], inhibitedBy: [] },
      ]);

      // Act: expire it.
      const expired = await amtool(adminHttpConfig, 'silence', 'expire', id);

      // Assess: no longer active, for amtool and for Pulseboard's own API.
      expect(expired.code, expired.stderr).toBe(0);
      const active = await amtoolJson<AmSilence[]>(adminHttpConfig, 'silence', 'query');
      expect(active.map((s) => s.id)).not.toContain(id);
      const ended = await amtoolJson<AmSilence[]>(
        adminHttpConfig,
        'silence',
        'query',
        '--expired',
        `job=${job}`,
      );
      expect(ended.map((s) => [s.id, s.status.state])).toEqual([[id, 'expired']]);
      const own = await requestJson(`${api}/api/silences`, 'GET');
      expect(own.body.silences.find((s: AmSilence) => s.id === id)?.status).toEqual({ state: 'expired' });
      const ownActive = await requestJson(`${api}/api/silences?state=active`, 'GET');
      expect(ownActive.body.silences.map((s: AmSilence) => s.id)).not.toContain(id);
      // And the alert is active again.
      const again = await amtoolJson<AmAlert[]>(adminHttpConfig, 'alert', 'query', name);
      expect(again.map((a) => a.status.state)).toEqual(['active']);
    });

    it('shows and tests the routing tree in force, which amtool loads from GET /api/v2/status', async () => {
      // Act
      const shown = await amtool(adminHttpConfig, 'config', 'routes', 'show');
      const tested = async (...labels: string[]) => {
        const { code, stdout, stderr } = await amtool(adminHttpConfig, 'config', 'routes', 'test', ...labels);
        expect(code, stderr).toBe(0);
        return stdout.trim();
      };

      // Assess: Alertmanager's own loader accepted the config (receivers declared, no
      // Pulseboard-only keys) and amtool resolves receivers the way Pulseboard routes.
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toContain('default-route  receiver: oncall');
      expect(shown.stdout).toContain('{team="db"}  continue: true  receiver: dba');
      expect(shown.stdout).toContain('{severity="critical"}  receiver: db-pager');
      expect(shown.stdout).toContain('{team=~"web|api"}  receiver: web');
      expect(await tested('team=db', 'severity=critical')).toBe('db-pager');
      expect(await tested('team=db')).toBe('dba');
      expect(await tested('team=api')).toBe('web');
      expect(await tested('job=x')).toBe('oncall');
      const receivers = await requestJson(`${api}/api/v2/receivers`, 'GET');
      expect(receivers.body).toEqual([
        { name: 'oncall' },
        { name: 'dba' },
        { name: 'db-pager' },
        { name: 'web' },
      ]);
    });

    it('with an alerts API key: adds and queries alerts, and is refused silences with a 403', async () => {
      const name = unique('AmtoolKeyAlert');
      const added = await amtool(keyHttpConfig, 'alert', 'add', name, 'source=key');
      expect(added.code, added.stderr).toBe(0);
      await waitFor(
        async () => (await amtoolJson<AmAlert[]>(keyHttpConfig, 'alert', 'query', name)).length === 1,
        'the key to see its alert',
        30_000,
      );
      // Reading silences is allowed (the v2 reads), writing them is not.
      expect((await amtool(keyHttpConfig, 'silence', 'query')).code).toBe(0);

      const refused = await amtool(
        keyHttpConfig,
        'silence',
        'add',
        `alertname=${name}`,
        '--comment=not allowed',
        '--author=key',
      );

      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('status 403');
      const own = await requestJson(`${api}/api/silences`, 'GET');
      expect(own.body.silences.map((s: AmSilence) => s.comment)).not.toContain('not allowed');
    });
  });

  describe('Prometheus', () => {
    const gauge = unique('pulseboard_test_queue_depth');
    const alertname = unique('QueueBacklog');
    let target: MetricsTarget;
    let prometheus: RunningPrometheus;

    beforeAll(async () => {
      target = await startMetricsTarget();
      target.set(gauge, 1);
      prometheus = await startPrometheus({
        targets: [target.address],
        ruleGroups: [
          {
            name: 'pulseboard-test',
            rules: [
              {
                alert: alertname,
                expr: `${gauge} > 50`,
                for: '0s',
                labels: { severity: 'critical' },
                annotations: { summary: 'queue depth is {{ $value }}' },
              },
            ],
          },
        ],
        alertmanagerUrl: api,
        credentials: alertsKey,
      });
    });

    /** This rule's alerts in Alertmanager's list (firing ones only). */
    const listedAlerts = async () =>
      (
        await requestJson(
          `${api}/api/v2/alerts?filter=${encodeURIComponent(`alertname="${alertname}"`)}`,
          'GET',
        )
      ).body as AmAlert[];

    afterAll(async () => {
      await prometheus?.stop();
      await target?.stop();
    });

    it('turns a firing rule into an incident, an SNS notification and a WebSocket message, and its end into a resolution', async () => {
      // Prepare: the labels Prometheus sends (rule labels plus the target's job and instance).
      const labels = { alertname, instance: target.address, job: 'app', severity: 'critical' };
      const fp = fingerprint(labels);

      // Act: the gauge crosses the threshold.
      target.set(gauge, 100);

      // Assess: an incident, its notification, and the live message.
      await waitFor(async () => (await incidentsOf(fp)).length === 1, 'the incident', 60_000);
      expect((await incidentsOf(fp))[0]).toMatchObject({ status: 'open', receiver: 'oncall' });
      const fired = await notification(
        (n) => n.status === 'firing' && n.alerts.some((a) => a.fingerprint === fp),
        'the firing notification',
      );
      expect(fired).toMatchObject({ receiver: 'oncall', groupLabels: { alertname } });
      expect(fired.alerts[0]).toMatchObject({
        status: 'firing',
        labels,
        annotations: { summary: 'queue depth is 100' },
        generatorURL: expect.stringContaining('/graph?g0.expr='),
      });
      const opened = await incidentMessage(fp, 'opened');
      expect(opened.incident.id).toBe((await incidentsOf(fp))[0]?.id);
      await waitFor(async () => (await listedAlerts()).length > 0, 'the alert in GET /api/v2/alerts', 30_000);
      const listed = await listedAlerts();
      expect(listed).toEqual([
        expect.objectContaining({
          fingerprint: fp,
          labels,
          status: expect.objectContaining({ state: 'active' }),
        }),
      ]);

      // Act: back under the threshold; Prometheus sends the alert with endsAt.
      target.set(gauge, 1);

      // Assess: the incident resolves, the resolution is notified and broadcast, the alert is gone.
      await waitFor(
        async () => (await incidentsOf(fp))[0]?.status === 'resolved',
        'the incident to resolve',
        60_000,
      );
      await notification(
        (n) => n.status === 'resolved' && n.alerts.some((a) => a.fingerprint === fp),
        'the resolved notification',
      );
      await incidentMessage(fp, 'resolved');
      await waitFor(
        async () => (await listedAlerts()).length === 0,
        'the alert to leave GET /api/v2/alerts',
        30_000,
      );
    });
  });
});
