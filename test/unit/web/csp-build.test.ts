import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const WEB = resolve(import.meta.dirname, '../../../web');

/**
 * The dashboard is served with `script-src 'self'; style-src 'self'`: whatever the build emits must
 * work without inline script or style. Builds web/ the way `npm run build:web` does, into a temp dir.
 */
describe('the built dashboard under a strict CSP', () => {
  let outDir: string;
  let html: string;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'pulseboard-web-'));
    await build({
      root: WEB,
      configFile: join(WEB, 'vite.config.ts'),
      logLevel: 'silent',
      build: { outDir, emptyOutDir: true },
    });
    html = readFileSync(join(outDir, 'index.html'), 'utf8');
  }, 60_000);

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('loads every script from a file of its own', () => {
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];

    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\bsrc="\.\/assets\/[^"]+\.js"/);
      expect(body?.trim()).toBe('');
    }
  });

  it('has no inline styles, style elements or event-handler attributes', () => {
    expect(html).not.toMatch(/\sstyle\s*=/i);
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).toMatch(/<link rel="stylesheet"[^>]*href="\.\/assets\/[^"]+\.css"/);
  });

  it('emits no code that sets a style attribute (CSP blocks it; CSSOM is fine) or writes HTML', () => {
    const assets = join(outDir, 'assets');
    const code = readdirSync(assets)
      .filter((name) => name.endsWith('.js'))
      .map((name) => readFileSync(join(assets, name), 'utf8'))
      .join('\n');

    expect(code).not.toMatch(/setAttribute\(\s*["']style["']/);
    expect(code).not.toMatch(/\.innerHTML\s*=/);
  });

  it('has a labelled sign-in form that browsers and password managers can fill', () => {
    expect(html).toMatch(/<label[^>]*for="login-username"/);
    expect(html).toMatch(/<label[^>]*for="login-password"/);
    expect(html).toMatch(/id="login-username"[\s\S]*?autocomplete="username"/);
    expect(html).toMatch(/id="login-password"[\s\S]*?type="password"[\s\S]*?autocomplete="current-password"/);
    expect(html).toMatch(/<form[^>]*method="post"/);
  });
});
