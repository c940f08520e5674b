import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Agent, startAgent } from '../../agent/agent';
import type { Batch } from '../../agent/spool';
import type { LocalRuntime } from '../../local/runtime';
import { authedFetch, waitFor } from '../support/clients';
import { createIngestKey, startTestRuntime } from '../support/runtime';

/**
 * A TCP proxy in front of the local runtime that the test can cut: while down it accepts and
 * immediately destroys connections, as a dropped network path would.
 */
async function cuttableProxy(target: URL) {
  let up = true;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    if (!up) return client.destroy();
    const upstream = net.connect(Number(target.port), target.hostname);
    open.add(upstream);
    upstream.on('close', () => open.delete(upstream));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut() {
      up = false;
      for (const socket of open) socket.destroy();
    },
    restore() {
      up = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('pulseboard-agent through an API outage, end to end', () => {
  let runtime: LocalRuntime;
  let proxy: Awaited<ReturnType<typeof cuttableProxy>>;
  let spoolDir: string;
  let agent: Agent | undefined;

  beforeAll(async () => {
    runtime = await startTestRuntime();
    proxy = await cuttableProxy(new URL(runtime.urls.HttpApiUrl));
    spoolDir = await mkdtemp(path.join(tmpdir(), 'pulseboard-outage-'));
  });

  afterAll(async () => {
    await agent?.stop();
    await proxy?.close();
    await runtime?.stop();
    await rm(spoolDir, { recursive: true, force: true });
  });

  it('delivers every point collected during the outage, each once, once the API is back', async () => {
    const host = `outage-${randomUUID()}`;
    const collected: Batch[] = [];
    agent = await startAgent({
      url: proxy.url,
      token: await createIngestKey(runtime),
      host,
      intervalMs: 200,
      metrics: ['cpu', 'memory'],
      spoolDir,
      backoff: { initialMs: 50, maxMs: 400 },
      log: () => {},
      onBatch: (batch) => collected.push(batch),
    });
    await waitFor(
      () => collected.length >= 2 && agent?.pending() === 0,
      'batches delivered before the outage',
    );

    proxy.cut();
    const atCut = collected.length;
    await waitFor(
      () => collected.length >= atCut + 5 && (agent?.pending() ?? 0) >= 4,
      'batches piling up in the spool',
    );
    proxy.restore();
    await waitFor(() => agent?.pending() === 0, 'the spool to drain', 20_000);
    await agent.stop();
    // A batch collected after the drain and before stop stays spooled for the next start (the
    // newest ones): only the delivered batches can be in storage.
    const delivered = collected.slice(0, collected.length - agent.pending());

    const expected = delivered.flatMap((b) => b.metrics).filter((m) => m.name === 'cpu_usage').length;
    const params = new URLSearchParams({
      name: 'cpu_usage',
      match: `host="${host}"`,
      agg: 'count',
      from: 'now-1h',
      to: 'now+5m',
      step: '1h',
    });
    const response = await authedFetch(`${runtime.urls.HttpApiUrl}/api/metrics/query?${params}`);
    const body = (await response.json()) as { series: { points: [number, number][] }[] };
    const stored = body.series.flatMap((s) => s.points).reduce((sum, [, count]) => sum + count, 0);

    expect(expected).toBeGreaterThanOrEqual(7);
    expect(stored).toBe(expected);
  });
});
