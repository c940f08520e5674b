import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime';
import { currentToken, postJson, requestJson } from '../support/clients';
import { startTestRuntime } from '../support/runtime';

const request = requestJson;

describe('alert rules and silences APIs through the local runtime', () => {
  let runtime: LocalRuntime;
  let api: string;

  beforeAll(async () => {
    runtime = await startTestRuntime();
    api = runtime.urls.HttpApiUrl;
  });

  afterAll(async () => {
    await runtime?.stop();
  });

  const name = () => `r_${randomUUID().slice(0, 8)}`;
  const threshold = (ruleName: string) => ({
    name: ruleName,
    kind: 'threshold',
    metric: 'cpu_usage',
    matchers: 'env="prod"',
    severity: 'critical',
    op: '>',
    value: 90,
    for: '1m',
    annotations: { summary: '{{ $labels.host }} CPU at {{ $value }}%' },
  });

  describe('alert rules', () => {
    it('creates, reads, lists, replaces and deletes a rule', async () => {
      const ruleName = name();

      const created = await postJson(`${api}/api/alert-rules`, threshold(ruleName));
      const read = await request(`${api}/api/alert-rules/${ruleName}`, 'GET');
      const listed = await request(`${api}/api/alert-rules`, 'GET');
      const replaced = await request(`${api}/api/alert-rules/${ruleName}`, 'PUT', {
        ...threshold(ruleName),
        value: 95,
      });
      const deleted = await request(`${api}/api/alert-rules/${ruleName}`, 'DELETE');
      const gone = await request(`${api}/api/alert-rules/${ruleName}`, 'GET');

      expect(created.status).toBe(201);
      expect(read.body.definition).toEqual(threshold(ruleName));
      expect(listed.body.rules.map((r: { name: string }) => r.name)).toContain(ruleName);
      expect(replaced.status).toBe(200);
      expect(replaced.body.definition.value).toBe(95);
      expect(deleted.status).toBe(204);
      expect(gone.status).toBe(404);
      expect(gone.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
    });

    it('refuses a second rule with the same name, and a PUT whose body names another rule', async () => {
      const ruleName = name();
      await postJson(`${api}/api/alert-rules`, threshold(ruleName));

      const duplicate = await postJson(`${api}/api/alert-rules`, threshold(ruleName));
      const mismatch = await request(`${api}/api/alert-rules/${ruleName}`, 'PUT', threshold(name()));

      expect(duplicate.status).toBe(409);
      expect(mismatch.status).toBe(400);
    });

    it.each([
      ['threshold', { kind: 'threshold', op: '>', value: 1 }],
      ['m_of_n', { kind: 'm_of_n', m: 3, n: 5, op: '>=', value: 80 }],
      ['absence', { kind: 'absence', for: '5m' }],
      ['rate_of_change', { kind: 'rate_of_change', op: '>', value: 100, window: '5m' }],
      ['anomaly (stddev)', { kind: 'anomaly', method: 'stddev', k: 3 }],
      ['anomaly (ewma)', { kind: 'anomaly', method: 'ewma', alpha: 0.3, k: 3 }],
    ])('accepts a valid %s rule', async (_kind, fields) => {
      const response = await postJson(`${api}/api/alert-rules`, {
        name: name(),
        metric: 'cpu_usage',
        severity: 'warning',
        ...fields,
      });

      expect(response.status, JSON.stringify(response.body)).toBe(201);
    });

    it.each([
      ['a threshold without op', { kind: 'threshold', value: 1 }],
      ['an m_of_n with m > n', { kind: 'm_of_n', m: 6, n: 5, op: '>', value: 1 }],
      ['an absence without for', { kind: 'absence' }],
      ['a rate_of_change with a bad window', { kind: 'rate_of_change', op: '>', value: 1, window: 'soon' }],
      ['an anomaly with k = 0', { kind: 'anomaly', method: 'stddev', k: 0 }],
      ['an ewma with alpha > 1', { kind: 'anomaly', method: 'ewma', alpha: 2, k: 3 }],
      ['an unknown kind', { kind: 'vibes' }],
      ['an unknown field', { kind: 'threshold', op: '>', value: 1, treshold: 2 }],
      ['a bad matcher', { kind: 'threshold', op: '>', value: 1, matchers: 'host=~"("' }],
      ['a negative for', { kind: 'threshold', op: '>', value: 1, for: '-5m' }],
    ])('rejects %s with a 400 JSON error listing the issues', async (_case, fields) => {
      const response = await postJson(`${api}/api/alert-rules`, {
        name: name(),
        metric: 'cpu_usage',
        severity: 'warning',
        ...fields,
      });

      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({
        error: { code: 'VALIDATION_FAILED', message: expect.any(String) },
      });
      expect(response.body.error.issues.length).toBeGreaterThan(0);
    });
  });

  describe('silences', () => {
    const silence = (overrides: Record<string, unknown> = {}) => ({
      matchers: [{ name: 'alertname', value: `HighCpu_${randomUUID().slice(0, 6)}`, isRegex: false }],
      endsAt: new Date(Date.now() + 3600_000).toISOString(),
      createdBy: 'ops@example.com',
      comment: 'maintenance window',
      ...overrides,
    });

    it('creates an active silence, lists it by state, and expires it on DELETE', async () => {
      const created = await postJson(`${api}/api/silences`, silence());
      const id = created.body.id as string;

      const active = await request(`${api}/api/silences?state=active`, 'GET');
      const expired = await request(`${api}/api/silences/${id}`, 'DELETE');
      const again = await request(`${api}/api/silences/${id}`, 'DELETE');
      const read = await request(`${api}/api/silences/${id}`, 'GET');

      expect(created.status).toBe(201);
      expect(created.body.status.state).toBe('active');
      expect(active.body.silences.map((s: { id: string }) => s.id)).toContain(id);
      expect(expired.body.status.state).toBe('expired');
      expect(again.status).toBe(409);
      expect(read.body.status.state).toBe('expired');
    });

    it('creates a pending silence that starts later', async () => {
      const startsAt = new Date(Date.now() + 600_000).toISOString();

      const created = await postJson(`${api}/api/silences`, silence({ startsAt }));

      expect(created.body.status.state).toBe('pending');
    });

    it.each([
      ['no matchers', { matchers: [] }],
      ['a matcher matching everything', { matchers: [{ name: 'alertname', value: '.*', isRegex: true }] }],
      ['an end before the start', { startsAt: new Date(Date.now() + 7200_000).toISOString() }],
      ['an end in the past', { endsAt: new Date(Date.now() - 1000).toISOString() }],
      ['no creator', { createdBy: '' }],
      ['no comment', { comment: undefined }],
      ['a bad regex', { matchers: [{ name: 'job', value: '(', isRegex: true }] }],
      ['an unparseable time', { endsAt: 'tomorrow' }],
    ])('rejects %s with a 400 JSON error', async (_case, overrides) => {
      const response = await postJson(`${api}/api/silences`, silence(overrides));

      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    });

    it('answers 404 for an unknown silence and 400 for an unknown state filter', async () => {
      expect((await request(`${api}/api/silences/${randomUUID()}`, 'GET')).status).toBe(404);
      expect((await request(`${api}/api/silences?state=sleeping`, 'GET')).status).toBe(400);
    });
  });

  describe('rules:apply (GitOps)', () => {
    // Asynchronous on purpose: this process also serves the API the CLI calls.
    const apply = (file: string, ...flags: string[]) =>
      new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
        const args = [
          '--import',
          'tsx',
          'scripts/apply-rules.ts',
          '--url',
          api,
          '--token',
          currentToken() ?? '',
          ...flags,
          file,
        ];
        execFile(process.execPath, args, (error, stdout, stderr) =>
          resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
      });
    const dir = mkdtempSync(path.join(tmpdir(), 'pulseboard-rules-'));
    const prefix = `g${randomUUID().slice(0, 6)}`;

    it('creates the rules of a YAML file, then with --prune leaves the stage holding exactly a new version', async () => {
      const first = path.join(dir, 'v1.yaml');
      writeFileSync(
        first,
        [
          'rules:',
          `  - name: ${prefix}_cpu`,
          '    kind: threshold',
          '    metric: cpu_usage',
          '    severity: critical',
          "    op: '>'",
          '    value: 90',
          `  - name: ${prefix}_heartbeat`,
          '    kind: absence',
          '    metric: uptime_seconds',
          '    severity: warning',
          '    for: 5m',
          '',
        ].join('\n'),
      );
      const second = path.join(dir, 'v2.json');
      writeFileSync(
        second,
        JSON.stringify({
          rules: [
            {
              name: `${prefix}_cpu`,
              kind: 'threshold',
              metric: 'cpu_usage',
              severity: 'critical',
              op: '>',
              value: 95,
            },
          ],
        }),
      );

      const created = await apply(first);
      const updated = await apply(second, '--prune');
      const rules = (await request(`${api}/api/alert-rules`, 'GET')).body.rules;

      expect(created.status, created.stderr).toBe(0);
      expect(created.stdout).toContain('2 created');
      expect(updated.stdout).toContain('1 updated');
      expect(updated.stdout).toContain(`delete ${prefix}_heartbeat`);
      expect(
        rules.map((r: { name: string; definition: { value: number } }) => [r.name, r.definition.value]),
      ).toEqual([[`${prefix}_cpu`, 95]]);
    });

    it('refuses an invalid file as a whole, sending nothing, and names every problem', async () => {
      const bad = path.join(dir, 'bad.json');
      writeFileSync(
        bad,
        JSON.stringify({
          rules: [
            {
              name: `${prefix}_ok`,
              kind: 'threshold',
              metric: 'cpu_usage',
              severity: 'info',
              op: '>',
              value: 1,
            },
            {
              name: `${prefix}_bad`,
              kind: 'm_of_n',
              metric: 'cpu_usage',
              severity: 'info',
              m: 9,
              n: 2,
              op: '>',
              value: 1,
            },
          ],
        }),
      );

      const result = await apply(bad);
      const okRule = await request(`${api}/api/alert-rules/${prefix}_ok`, 'GET');

      expect(result.status).toBe(1);
      expect(result.stderr).toContain('rules[1]');
      expect(okRule.status).toBe(404);
    });
  });
});
