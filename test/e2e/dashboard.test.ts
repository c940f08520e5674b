import { randomUUID } from 'node:crypto';
import type { Browser, Page, WebSocket } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime';
import { launchChromium } from '../support/browser';
import { waitFor } from '../support/clients';
import { startTestRuntime } from '../support/runtime';
import {
  adminOf,
  type Credentials,
  openDashboardPage,
  refusesInlineScript,
  SESSION_KEY,
  selectors,
  signInThroughPage,
  storedSession,
  submitSignIn,
} from './dashboard-page';

describe('dashboard in Chromium', () => {
  let runtime: LocalRuntime;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let admin: Credentials;
  const sockets: WebSocket[] = [];

  const points = async (testId: string) =>
    Number(await page.getAttribute(`[data-testid="${testId}"]`, 'data-points'));
  const visible = (selector: string) => page.isVisible(selector);

  beforeAll(async () => {
    runtime = await startTestRuntime({ agent: { intervalMs: 500 } });
    admin = adminOf(runtime);
    browser = await launchChromium();
    ({ page, problems } = await openDashboardPage(browser));
    page.on('websocket', (socket) => sockets.push(socket));
  });

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  it('shows the sign-in page, and opens no WebSocket, without a session', async () => {
    await page.goto(runtime.urls.DashboardUrl);

    await page.waitForSelector(selectors.login, { state: 'visible', timeout: 15_000 });

    expect(await visible(selectors.dashboard)).toBe(false);
    expect(await visible(selectors.signOut)).toBe(false);
    expect(await page.getByLabel('Username').getAttribute('autocomplete')).toBe('username');
    expect(await page.getByLabel('Password').getAttribute('autocomplete')).toBe('current-password');
    expect(sockets).toHaveLength(0);
  });

  it('says so when the password is wrong, and stays on the sign-in page', async () => {
    await submitSignIn(page, { username: admin.username, password: `wrong-${randomUUID()}` });

    expect(await page.textContent(selectors.loginError)).toBe('Wrong username or password.');
    expect(await visible(selectors.dashboard)).toBe(false);
    expect(await page.getByLabel('Password').inputValue()).toBe('');
    expect(await storedSession(page)).toBeNull();
    expect(sockets).toHaveLength(0);
  });

  it('signs in and shows live CPU and memory charts, with the token kept out of the socket URL', async () => {
    await signInThroughPage(page, admin);

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
    await waitFor(async () => (await page.textContent(selectors.account)) !== 'Signed in', 'the account');
    expect(await page.textContent(selectors.account)).toBe(`${admin.username} (admin)`);
    expect(await visible(selectors.login)).toBe(false);
    expect(sockets.length).toBeGreaterThan(0);
    for (const socket of sockets) expect(socket.url()).not.toMatch(/token|eyJ/);
    expect(await storedSession(page)).toMatch(/"token":/);
    expect(problems).toEqual([]);
  });

  it('stays signed in across a reload of the tab', async () => {
    await page.reload();

    await page.waitForSelector('body[data-connection="open"]', { timeout: 15_000 });

    expect(await visible(selectors.login)).toBe(false);
    await waitFor(async () => (await points('chart-cpu')) >= 1, 'the chart after the reload', 15_000);
  });

  it('signs out: back to the sign-in page, the token gone and the socket closed', async () => {
    const socket = sockets.at(-1);
    const closed = new Promise<void>((resolve) => socket?.on('close', () => resolve()));

    await page.click(selectors.signOut);

    await page.waitForSelector(selectors.login, { state: 'visible' });
    await closed;
    expect(await page.textContent(selectors.loginNotice)).toBe('You have signed out.');
    expect(await visible(selectors.dashboard)).toBe(false);
    expect(await storedSession(page)).toBeNull();
    expect(problems).toEqual([]);
  });

  it('returns to the sign-in page when the API stops accepting the token', async () => {
    const forged = JSON.stringify({ token: 'not-a-real-token', expiresAt: Date.now() + 3_600_000 });
    await page.evaluate(([key, value]) => sessionStorage.setItem(key, value), [SESSION_KEY, forged] as const);

    await page.reload();

    await page.waitForSelector(selectors.login, { state: 'visible', timeout: 15_000 });
    expect(await page.textContent(selectors.loginNotice)).toBe(
      'Your session is no longer valid. Sign in again.',
    );
    expect(await storedSession(page)).toBeNull();
  });

  it('returns to the sign-in page when the session expires', async () => {
    await signInThroughPage(page, admin);
    await page.evaluate((key) => {
      const session = JSON.parse(sessionStorage.getItem(key) ?? '{}');
      sessionStorage.setItem(key, JSON.stringify({ ...session, expiresAt: Date.now() + 3_000 }));
    }, SESSION_KEY);
    await page.reload();
    await page.waitForSelector('body[data-connection="open"]', { timeout: 15_000 });

    await page.waitForSelector(selectors.login, { state: 'visible', timeout: 15_000 });

    expect(await page.textContent(selectors.loginNotice)).toBe('Your session has expired. Sign in again.');
    expect(await storedSession(page)).toBeNull();
  });

  it('tells how long to wait after too many failed attempts', async () => {
    const stranger = { username: `nobody-${randomUUID().slice(0, 8)}`, password: 'not-this-one' };
    let text = '';
    for (let attempt = 0; attempt < 10 && !text.startsWith('Too many'); attempt++) {
      await submitSignIn(page, stranger);
      text = (await page.textContent(selectors.loginError)) ?? '';
    }

    expect(text).toMatch(/^Too many attempts, try again in \d+ s\.$/);
  });

  it('works under the strict Content-Security-Policy it is deployed with', async () => {
    // The local runtime serves the headers of the template's CloudFront ResponseHeadersPolicy.
    const served = await fetch(runtime.urls.DashboardUrl);
    const policy = served.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");

    // A page of its own, so this session does not leak into the other tests.
    const strict = await openDashboardPage(browser);
    try {
      await strict.page.goto(runtime.urls.DashboardUrl);
      await signInThroughPage(strict.page, admin);
      await waitFor(
        async () => Number(await strict.page.getAttribute('[data-testid="chart-cpu"]', 'data-points')) >= 2,
        'CPU points on the chart under the CSP',
        15_000,
      );
      expect(strict.problems).toEqual([]);
      expect(await refusesInlineScript(strict.page)).toBe(true); // the policy was in force
    } finally {
      await strict.page.close();
    }
  });

  it('shows the disconnected state when the API goes away', async () => {
    await signInThroughPage(page, admin);

    await runtime.stop();

    await page.waitForSelector('body[data-connection="closed"], body[data-connection="connecting"]', {
      timeout: 15_000,
    });
    expect(await page.textContent('[data-testid="status"]')).toMatch(/Reconnecting|Disconnected/);
    expect(await visible(selectors.dashboard)).toBe(true);
  });
});
