import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint } from '../../functions/shared/domain/alerting/fingerprint';
import type { LocalRuntime } from '../../local/runtime';
import { postJson, requestJson, waitFor } from '../support/clients';
import { startTestRuntime } from '../support/runtime';

/** A request with exactly these headers: no token unless given. */
const call = async (url: string, method: string, headers: Record<string, string> = {}, body?: unknown) => {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text };
};

describe("Alertmanager's API v2 through the local runtime", () => {
  let runtime: LocalRuntime;
  let api: string;
  let alertsKey: string;

  beforeAll(async () => {
    runtime = await startTestRuntime();
    api = runtime.urls.HttpApiUrl;
    const key = await postJson(`${api}/api/api-keys`, { name: 'prometheus', scope: 'alerts' });
    expect(key.status).toBe(201);
    alertsKey = key.body.key;
    const routing = await requestJson(`${api}/api/alert-routing`, 'PUT', {
      route: { receiver: 'oncall', group_by: ['alertname', 'job'], group_wait: '0s', group_interval: '1s' },
    });
    expect(routing.status).toBe(200);
  });

  afterAll(async () => {
    await runtime?.stop();
  });

  const incidentsOf = async (fp: string) =>
    (await requestJson(`${api}/api/incidents?fingerprint=${fp}`, 'GET')).body.incidents as {
      id: string;
      status: string;
    }[];

  it('turns alerts posted as Prometheus does into an incident, and resolves it when endsAt passes', async () => {
    const labels = {
      alertname: 'PrometheusHighLatency',
      job: `api-${randomUUID().slice(0, 8)}`,
      severity: 'critical',
    };
    const fp = fingerprint(labels);
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    const auth = { authorization: `Bearer ${alertsKey}` };

    const posted = await call(`${api}/api/v2/alerts`, 'POST', auth, [
      {
        labels,
        annotations: { summary: 'p99 over 1 s' },
        startsAt,
        endsAt: new Date(Date.now() + 240_000).toISOString(),
        generatorURL: 'http://prometheus/graph',
      },
    ]);
    expect(posted.status).toBe(200);
    await waitFor(async () => (await incidentsOf(fp)).length === 1, 'the incident');

    // Prometheus re-sends active alerts every minute: a refresh, not a second alert.
    await call(`${api}/api/v2/alerts`, 'POST', auth, [
      {
        labels,
        annotations: { summary: 'p99 over 1 s' },
        startsAt,
        endsAt: new Date(Date.now() + 300_000).toISOString(),
      },
    ]);
    // When the rule stops firing, Prometheus sends endsAt in the past.
    await call(`${api}/api/v2/alerts`, 'POST', auth, [
      { labels, startsAt, endsAt: new Date(Date.now() - 1000).toISOString() },
    ]);
    await waitFor(async () => (await incidentsOf(fp))[0]?.status === 'resolved', 'the incident to resolve');
    const [incident] = await incidentsOf(fp);
    const detail = await requestJson(`${api}/api/incidents/${incident?.id}`, 'GET');
    const joined = detail.body.timeline.filter((e: { type: string }) => e.type === 'alert_joined');
    expect(joined).toHaveLength(1);
  });

  it('lists posted alerts in GET /api/v2/alerts, suppressed once a silence matches them', async () => {
    const labels = { alertname: 'PrometheusDiskFull', job: `disk-${randomUUID().slice(0, 8)}` };
    const fp = fingerprint(labels);
    const auth = { authorization: `Bearer ${alertsKey}` };
    await call(`${api}/api/v2/alerts`, 'POST', auth, [{ labels, annotations: { summary: 'disk 95%' } }]);
    const filter = `filter=${encodeURIComponent(`job="${labels.job}"`)}`;
    const listed = async (query = '') =>
      (await requestJson(`${api}/api/v2/alerts?${filter}${query}`, 'GET')).body as {
        fingerprint: string;
        annotations: Record<string, string>;
        receivers: { name: string }[];
        status: { state: string; silencedBy: string[] };
      }[];
    await waitFor(async () => (await listed()).length === 1, 'the alert in the list');
    expect((await listed())[0]).toMatchObject({
      fingerprint: fp,
      annotations: { summary: 'disk 95%' },
      receivers: [{ name: 'oncall' }],
      status: { state: 'active', silencedBy: [] },
    });

    const silence = await requestJson(`${api}/api/v2/silences`, 'POST', {
      matchers: [{ name: 'job', value: labels.job, isRegex: false, isEqual: true }],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      createdBy: 'amtool',
      comment: 'disk swap',
    });
    expect((await listed())[0]?.status).toEqual({
      state: 'suppressed',
      silencedBy: [silence.body.silenceID],
      inhibitedBy: [],
    });
    expect(await listed('&silenced=false')).toEqual([]);
    const groups = (await requestJson(`${api}/api/v2/alerts/groups?${filter}`, 'GET')).body;
    expect(groups).toEqual([
      expect.objectContaining({
        labels: { alertname: 'PrometheusDiskFull', job: labels.job },
        receiver: { name: 'oncall' },
      }),
    ]);
  });

  it('lets an alerts key post and read alerts and nothing else, and refuses malformed alerts with a 400', async () => {
    const auth = { authorization: `Bearer ${alertsKey}` };
    expect((await call(`${api}/api/v2/status`, 'GET', auth)).status).toBe(200);
    expect((await call(`${api}/api/v2/silences`, 'POST', auth, {})).status).toBe(403);
    expect((await call(`${api}/api/incidents`, 'GET', auth)).status).toBe(403);
    expect(
      (await call(`${api}/api/metrics`, 'POST', auth, { metrics: [{ name: 'x', value: 1 }] })).status,
    ).toBe(403);
    const bad = await call(`${api}/api/v2/alerts`, 'POST', auth, { labels: { alertname: 'x' } });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    expect((await call(`${api}/api/v2/alerts`, 'POST', {}, [])).status).toBe(401);
  });

  it("serves silences in Alertmanager's shapes, sharing them with /api/silences", async () => {
    const created = await requestJson(`${api}/api/v2/silences`, 'POST', {
      matchers: [{ name: 'job', value: 'batch', isRegex: false, isEqual: true }],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      createdBy: 'amtool',
      comment: 'maintenance',
    });
    expect(created.status).toBe(200);
    const id = created.body.silenceID as string;
    const listed = await requestJson(`${api}/api/v2/silences`, 'GET');
    expect(Array.isArray(listed.body)).toBe(true);
    expect(listed.body.map((s: { id: string }) => s.id)).toContain(id);
    expect((await requestJson(`${api}/api/silences/${id}`, 'GET')).body).toMatchObject({
      id,
      status: { state: 'active' },
    });
    expect((await requestJson(`${api}/api/v2/silence/${id}`, 'DELETE')).status).toBe(200);
    expect((await requestJson(`${api}/api/v2/silence/${id}`, 'GET')).body).toMatchObject({
      status: { state: 'expired' },
    });
  });

  it('answers the probes without a token, and the status with the routing in force', async () => {
    expect(await call(`${api}/-/healthy`, 'GET')).toEqual({ status: 200, text: 'OK' });
    expect((await call(`${api}/-/ready`, 'GET')).status).toBe(200);
    const status = await requestJson(`${api}/api/v2/status`, 'GET');
    expect(status.body.cluster).toEqual({ status: 'disabled', peers: [] });
    expect(JSON.parse(status.body.config.original).route.receiver).toBe('oncall');
  });
});
