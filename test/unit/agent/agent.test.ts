import { mkdtemp, readdir, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Agent, type AgentOptions, startAgent } from '../../../agent/agent';
import { IDEMPOTENCY_HEADER } from '../../../agent/sender';
import type { Batch } from '../../../agent/spool';
import { waitFor } from '../../support/clients';

interface Call {
  readonly key: string;
  readonly points: number;
  readonly signal?: AbortSignal | null;
}

/** A fake API whose answer to each request the test decides, possibly later. */
function fakeApi(answer: (call: Call) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetch: typeof globalThis.fetch = async (_input, init) => {
    const call = {
      key: new Headers(init?.headers).get(IDEMPOTENCY_HEADER) ?? '',
      points: (JSON.parse(String(init?.body)) as { metrics: unknown[] }).metrics.length,
      signal: init?.signal,
    };
    calls.push(call);
    return answer(call);
  };
  return { calls, fetch };
}

const accepted = () => new Response('{"accepted":1}', { status: 202 });
const refused = () =>
  Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }));

describe('agent', () => {
  let spoolDir: string;
  const agents: Agent[] = [];
  const lines: string[] = [];
  const batches: Batch[] = [];

  const start = async (options: Partial<AgentOptions>) => {
    const agent = await startAgent({
      url: 'http://api.test',
      spoolDir,
      schedule: false,
      metrics: ['load', 'uptime'],
      host: 'web-1',
      backoff: { initialMs: 1, maxMs: 5 },
      catchUpBatchesPerSecond: 1000,
      readers: { loadavg: () => [1, 2, 3], uptime: () => 60 },
      log: (line) => lines.push(line),
      onBatch: (batch) => batches.push(batch),
      ...options,
    });
    agents.push(agent);
    return agent;
  };

  beforeEach(async () => {
    spoolDir = await mkdtemp(path.join(os.tmpdir(), 'pulseboard-agent-test-'));
    lines.length = 0;
    batches.length = 0;
  });
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((agent) => agent.stop()));
    await rm(spoolDir, { recursive: true, force: true });
  });

  it('spools a batch before sending it and removes it only after the API accepted it', async () => {
    let accept: (response: Response) => void = () => {};
    const api = fakeApi(() => new Promise<Response>((resolve) => (accept = resolve)));
    const agent = await start({ fetch: api.fetch });

    await agent.collect();
    await waitFor(() => api.calls.length === 1, 'the first request');

    expect(await readdir(spoolDir)).toEqual([expect.stringContaining(batches[0]?.id ?? '?')]);
    accept(accepted());
    await waitFor(() => agent.pending() === 0, 'the spool to empty');
    expect(await readdir(spoolDir)).toEqual([]);
    expect(api.calls.map((call) => [call.key, call.points])).toEqual([[batches[0]?.id, 4]]);
  });

  it('keeps what it could not deliver when stopped; the next agent delivers it oldest first', async () => {
    const down = fakeApi(refused);
    const first = await start({ fetch: down.fetch });
    await first.collect();
    await first.collect();
    await waitFor(() => down.calls.length >= 2, 'retries');
    await first.stop();
    expect(first.pending()).toBe(2);

    const up = fakeApi(accepted);
    const second = await start({ fetch: up.fetch });
    await second.collect();
    await second.flush();

    expect(second.pending()).toBe(0);
    expect(up.calls.map((call) => call.key)).toEqual(batches.map((batch) => batch.id));
    expect(lines).toContain(`agent: replaying 2 buffered batch(es) from ${spoolDir}`);
  });

  it('splits a collection above the per-request limit into batches with their own keys', async () => {
    const api = fakeApi(accepted);
    const agent = await start({ fetch: api.fetch, maxPointsPerRequest: 3 });

    await agent.collect();
    await agent.flush();

    expect(api.calls.map((call) => call.points)).toEqual([3, 1]);
    expect(new Set(api.calls.map((call) => call.key)).size).toBe(2);
    expect(batches.map((batch) => batch.createdAt)).toEqual([batches[0]?.createdAt, batches[0]?.createdAt]);
  });

  it('drops a batch the API rejects for good and goes on with the next', async () => {
    const api = fakeApi((call) =>
      call.key === batches[0]?.id
        ? new Response('{"error":{"code":"VALIDATION_FAILED","message":"nope"}}', { status: 400 })
        : accepted(),
    );
    const agent = await start({ fetch: api.fetch });

    await agent.collect();
    await agent.collect();
    await agent.flush();

    expect(agent.pending()).toBe(0);
    expect(api.calls.map((call) => call.key)).toEqual(batches.map((batch) => batch.id));
    expect(lines.filter((line) => line.includes('VALIDATION_FAILED'))).toHaveLength(1);
  });

  it('resolves flush after a failed attempt while the API is down, keeping the batch', async () => {
    const api = fakeApi(refused);
    const agent = await start({ fetch: api.fetch, backoff: { initialMs: 60_000, maxMs: 60_000 } });

    await agent.collect();
    await agent.flush();
    const attempts = api.calls.length;
    await agent.flush();

    expect(api.calls.length).toBeGreaterThan(attempts);
    expect(agent.pending()).toBe(1);
  });

  it('lets an in-flight request finish when stopping, and aborts one that outlasts stopTimeoutMs', async () => {
    let accept: (response: Response) => void = () => {};
    const slow = fakeApi(() => new Promise<Response>((resolve) => (accept = resolve)));
    const patient = await start({ fetch: slow.fetch });
    await patient.collect();
    await waitFor(() => slow.calls.length === 1, 'the request');

    const stopping = patient.stop();
    accept(accepted());
    await stopping;
    expect(patient.pending()).toBe(0);

    const hung = fakeApi(
      (call) =>
        new Promise<Response>((_resolve, reject) =>
          call.signal?.addEventListener('abort', () => reject(call.signal?.reason), { once: true }),
        ),
    );
    const impatient = await start({ fetch: hung.fetch, stopTimeoutMs: 10 });
    await impatient.collect();
    await waitFor(() => hung.calls.length === 1, 'the request');
    await impatient.stop();
    expect(impatient.pending()).toBe(1);
  });
});
