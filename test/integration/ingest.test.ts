import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime';
import { postJson } from '../support/clients';

describe('ingestion through the local runtime', () => {
  let runtime: LocalRuntime;
  let api: string;

  const snapshot = async (host: string) =>
    (await (await fetch(`${api}/api/dashboard/system-metrics?host=${host}`)).json()) as { timestamp: string };

  beforeAll(async () => {
    runtime = await startLocalRuntime({
      assemblyDir: inject('assemblyDir'),
      port: 0,
      agent: false,
      log: () => {},
      functionLog: () => {},
    });
    api = runtime.urls.HttpApiUrl;
  });

  afterAll(async () => {
    await runtime?.stop();
  });

  describe('Idempotency-Key', () => {
    it('answers a retried batch with the first answer and does not ingest it again', async () => {
      const host = `host-${randomUUID()}`;
      const key = randomUUID();
      const batch = { metrics: [{ name: 'cpu_usage', value: 10, labels: { host } }] };

      const first = await postJson(`${api}/api/metrics`, batch, { 'idempotency-key': key });
      const stampedAt = (await snapshot(host)).timestamp;
      const retry = await postJson(`${api}/api/metrics`, batch, { 'idempotency-key': key });

      expect(first.status).toBe(202);
      expect(retry).toEqual(first);
      // The points carry no timestamp, so running the batch again would restamp the snapshot.
      expect((await snapshot(host)).timestamp).toBe(stampedAt);
    });

    it('ingests the same body again under a new key', async () => {
      const host = `host-${randomUUID()}`;
      const batch = { metrics: [{ name: 'cpu_usage', value: 10, labels: { host } }] };
      await postJson(`${api}/api/metrics`, batch, { 'idempotency-key': randomUUID() });
      const stampedAt = (await snapshot(host)).timestamp;
      await new Promise((resolve) => setTimeout(resolve, 5));

      await postJson(`${api}/api/metrics`, batch, { 'idempotency-key': randomUUID() });

      expect(Date.parse((await snapshot(host)).timestamp)).toBeGreaterThan(Date.parse(stampedAt));
    });

    it('rejects a key reused with a different body with 422', async () => {
      const key = randomUUID();
      await postJson(
        `${api}/api/metrics`,
        { metrics: [{ name: 'a', value: 1 }] },
        { 'idempotency-key': key },
      );

      const reused = await postJson(
        `${api}/api/metrics`,
        { metrics: [{ name: 'a', value: 2 }] },
        { 'idempotency-key': key },
      );

      expect(reused.status).toBe(422);
      expect(reused.body).toMatchObject({ error: { code: 'IDEMPOTENCY_KEY_REUSED' } });
    });

    it('does not remember a rejected batch, so a corrected retry under the same key is ingested', async () => {
      const key = randomUUID();
      const bad = await postJson(`${api}/api/metrics`, '{"metrics": [', { 'idempotency-key': key });

      // Had the failure been remembered, a different body under this key would be refused (422).
      const corrected = await postJson(
        `${api}/api/metrics`,
        { metrics: [{ name: 'a', value: 1 }] },
        { 'idempotency-key': key },
      );

      expect(bad.status).toBe(400);
      expect(corrected.status).toBe(202);
    });
  });
});
