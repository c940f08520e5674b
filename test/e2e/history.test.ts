import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime';
import { launchChromium } from '../support/browser';
import { postJson, waitFor } from '../support/clients';
import { startTestRuntime } from '../support/runtime';
import { adminOf, openDashboardPage, signInThroughPage } from './dashboard-page';

describe('dashboard history', () => {
  let runtime: LocalRuntime;
  let browser: Browser;

  beforeAll(async () => {
    runtime = await startTestRuntime();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  it('opens with the last minutes already charted, with no live data flowing', async () => {
    const host = `hist-${randomUUID().slice(0, 8)}`;
    const now = Date.now();
    const metrics = Array.from({ length: 20 }, (_, i) => now - (20 - i) * 10_000).flatMap((timestamp, i) => [
      { name: 'cpu_usage', value: 10 + i, timestamp, labels: { host } },
      { name: 'memory_usage', value: 40 + i, timestamp, labels: { host } },
    ]);
    // startTestRuntime signed the test helpers in as the admin, who may ingest.
    expect((await postJson(`${runtime.urls.HttpApiUrl}/api/metrics`, { metrics })).status).toBe(202);
    const { page, problems } = await openDashboardPage(browser);

    await page.goto(runtime.urls.DashboardUrl);
    await signInThroughPage(page, adminOf(runtime));
    const points = async () => Number(await page.getAttribute('[data-testid="chart-cpu"]', 'data-points'));
    await waitFor(async () => (await points()) >= 20, 'the history to be charted', 15_000);

    expect(await page.textContent('[data-testid="host"]')).toContain(host);
    expect(await points()).toBe(20);
    expect(problems).toEqual([]);
  });
});
