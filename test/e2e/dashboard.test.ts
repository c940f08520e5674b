import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime';
import { launchChromium } from '../support/browser';
import { waitFor } from '../support/clients';
import { startTestRuntime } from '../support/runtime';

describe('dashboard in Chromium', () => {
  let runtime: LocalRuntime;
  let browser: Browser;
  let page: Page;

  const points = async (testId: string) =>
    Number(await page.getAttribute(`[data-testid="${testId}"]`, 'data-points'));

  beforeAll(async () => {
    runtime = await startTestRuntime({ agent: { intervalMs: 500 } });
    browser = await launchChromium();
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  it('loads the config, connects the WebSocket and shows live CPU and memory charts', async () => {
    await page.goto(runtime.urls.DashboardUrl);
    await page.waitForSelector('body[data-connection="open"]', { timeout: 15_000 });

    await waitFor(async () => (await points('chart-cpu')) >= 2, 'two CPU points on the chart', 15_000);
    const cpuBefore = await points('chart-cpu');
    await waitFor(
      async () => (await points('chart-cpu')) > cpuBefore,
      'a live CPU point after the first ones',
      15_000,
    );

    expect(await points('chart-memory')).toBeGreaterThanOrEqual(2);
    expect(await page.textContent('[data-testid="status"]')).toBe('Live');
    expect(await page.locator('[data-testid="chart-cpu"] canvas').count()).toBeGreaterThan(0);
    expect(await page.textContent('[data-testid="latest-memory"]')).toMatch(/\d/);
  });

  it('shows the disconnected state when the API goes away', async () => {
    await runtime.stop();

    await page.waitForSelector('body[data-connection="closed"], body[data-connection="connecting"]', {
      timeout: 15_000,
    });

    expect(await page.textContent('[data-testid="status"]')).toMatch(/Reconnecting|Disconnected/);
  });
});
