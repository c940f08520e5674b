import type { Browser, Page } from 'playwright-core';
import type { LocalRuntime } from '../../local/runtime';

/** What a person signs in with. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** The runtime's first admin, created at start by the local runtime. */
export function adminOf(runtime: LocalRuntime): Credentials {
  if (!runtime.admin) throw new Error('The local runtime created no admin: is authentication in the stack?');
  return { username: runtime.admin.username, password: runtime.admin.password };
}

export interface DashboardPage {
  readonly page: Page;
  /** Console errors the Content-Security-Policy raised, and uncaught page errors. */
  readonly problems: string[];
}

/** A fresh tab (its own sessionStorage) that records CSP violations and uncaught errors. */
export async function openDashboardPage(browser: Browser): Promise<DashboardPage> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text()))
      problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return { page, problems };
}

/** Whether the page refuses an inline script, i.e. a strict CSP is in force. */
export function refusesInlineScript(page: Page): Promise<boolean> {
  // A string, as this runs in the page (this project's tsconfig has no DOM types).
  return page.evaluate<boolean>(`(() => {
    const probe = document.createElement('script');
    probe.textContent = 'document.body.dataset.inlineRan = "yes"';
    document.head.append(probe);
    probe.remove();
    return document.body.dataset.inlineRan !== 'yes';
  })()`);
}

export const selectors = {
  login: '[data-testid="login"]',
  loginError: '[data-testid="login-error"]',
  loginNotice: '[data-testid="login-notice"]',
  submit: '[data-testid="login-submit"]',
  dashboard: '[data-testid="dashboard"]',
  account: '[data-testid="account-user"]',
  signOut: '[data-testid="sign-out"]',
} as const;

/** The key web/src/session.ts keeps the token under. */
export const SESSION_KEY = 'pulseboard.session';

/** Fills the sign-in form through its labels and submits it; resolves once the answer is shown. */
export async function submitSignIn(page: Page, { username, password }: Credentials): Promise<void> {
  await page.waitForSelector(selectors.login, { state: 'visible', timeout: 15_000 });
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.click(selectors.submit);
  // The button is disabled while the request runs; enabled again once the answer is handled.
  await page.waitForSelector(`${selectors.submit}:not([disabled])`, { state: 'attached', timeout: 15_000 });
}

/** Signs in through the page and waits for the live socket. */
export async function signInThroughPage(page: Page, credentials: Credentials): Promise<void> {
  await submitSignIn(page, credentials);
  await page.waitForSelector(`${selectors.dashboard}:not([hidden])`, { timeout: 15_000 });
  await page.waitForSelector('body[data-connection="open"]', { timeout: 15_000 });
}

/** The session entry in the tab's sessionStorage, or null. */
export function storedSession(page: Page): Promise<string | null> {
  return page.evaluate((key) => sessionStorage.getItem(key), SESSION_KEY);
}
