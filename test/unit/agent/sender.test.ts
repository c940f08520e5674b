import { describe, expect, it, vi } from 'vitest';
import {
  backoffDelay,
  IDEMPOTENCY_HEADER,
  parseRetryAfter,
  Sender,
  type SenderOptions,
} from '../../../agent/sender';
import type { Batch } from '../../../agent/spool';
import { seededRandom as seeded } from '../../support/random';

const BATCH: Batch = {
  id: '6f1c3a52-1f0e-4e8e-9a57-0d6c8e3b9a01',
  createdAt: 1_700_000_000_000,
  metrics: [{ name: 'cpu_usage', value: 12.5, timestamp: 1_700_000_000_000, labels: { host: 'web-1' } }],
};

type Reply = Response | Error;

/** A scripted server: each call answers with the next reply and records the request. */
function harness(replies: Reply[], options: Partial<SenderOptions> = {}) {
  const requests: { url: string; headers: Headers; body: unknown }[] = [];
  const sleeps: number[] = [];
  const lines: string[] = [];
  const sender = new Sender({
    url: 'https://api.example.com/',
    token: 'secret',
    log: (line) => lines.push(line),
    random: () => 0.5,
    now: () => 1_700_000_000_000,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    fetch: async (input, init) => {
      requests.push({
        url: String(input),
        headers: new Headers(init?.headers),
        body: JSON.parse(String(init?.body)),
      });
      const reply = replies.shift();
      if (!reply) throw new Error('no more scripted replies');
      if (reply instanceof Error) throw reply;
      return reply;
    },
    ...options,
  });
  return { sender, requests, sleeps, lines };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const refused = () => Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });

describe('backoff with full jitter', () => {
  it('doubles its ceiling per retry from the initial delay and caps it', () => {
    const ceilings = [0, 1, 2, 3, 4, 5, 6, 7, 40].map((retry) => backoffDelay(retry, () => 0.999999));

    expect(ceilings).toEqual([999, 1999, 3999, 7999, 15_999, 31_999, 59_999, 59_999, 59_999]);
  });

  it('draws every delay uniformly below the ceiling', () => {
    const random = seeded(42);
    const delays = Array.from({ length: 2000 }, (_, i) => [i % 8, backoffDelay(i % 8, random)] as const);

    for (const [retry, delay] of delays) {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(60_000, 1000 * 2 ** retry));
    }
    const atCap = delays.filter(([retry]) => retry >= 6).map(([, delay]) => delay);
    expect(Math.min(...atCap)).toBeLessThan(10_000);
    expect(Math.max(...atCap)).toBeGreaterThan(50_000);
  });

  it('honours custom bounds', () => {
    expect(backoffDelay(10, () => 0.5, { initialMs: 20, maxMs: 200 })).toBe(100);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('7', 0)).toBe(7000);
    expect(parseRetryAfter(new Date(1_700_000_030_000).toUTCString(), 1_700_000_000_000)).toBe(30_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(null, 0)).toBeUndefined();
  });
});

describe('sender', () => {
  it('posts the batch to /api/metrics with the token and the batch id as idempotency key', async () => {
    const { sender, requests } = harness([json(202, { accepted: 1 })]);

    const result = await sender.deliver(BATCH);

    expect(result).toEqual({ kind: 'delivered', attempts: 1, rejected: undefined });
    expect(requests[0]?.url).toBe('https://api.example.com/api/metrics');
    expect(requests[0]?.headers.get('authorization')).toBe('Bearer secret');
    expect(requests[0]?.headers.get('content-type')).toBe('application/json');
    expect(requests[0]?.headers.get(IDEMPOTENCY_HEADER)).toBe(BATCH.id);
    expect(requests[0]?.body).toEqual({ metrics: BATCH.metrics });
  });

  it('sends no Authorization header without a token', async () => {
    const { sender, requests } = harness([json(202, { accepted: 1 })], { token: undefined });

    await sender.deliver(BATCH);

    expect(requests[0]?.headers.has('authorization')).toBe(false);
  });

  it('retries network errors, 408, 429 and 5xx with growing jittered waits and the same idempotency key', async () => {
    const { sender, requests, sleeps, lines } = harness([
      refused(),
      json(503, { message: 'Service Unavailable' }),
      json(429, { error: { code: 'THROTTLED', message: 'slow down' } }),
      json(408, {}),
      json(500, {}),
      json(202, { accepted: 1 }),
    ]);

    const result = await sender.deliver(BATCH);

    expect(result).toMatchObject({ kind: 'delivered', attempts: 6 });
    expect(new Set(requests.map((r) => r.headers.get(IDEMPOTENCY_HEADER)))).toEqual(new Set([BATCH.id]));
    expect(sleeps).toEqual([500, 1000, 2000, 4000, 8000]);
    expect(lines).toEqual([
      expect.stringContaining('cannot deliver metrics to https://api.example.com/api/metrics (ECONNREFUSED)'),
      expect.stringContaining('delivering again after 0 s and 5 failed attempt(s)'),
    ]);
  });

  it('retries a 409 saying an earlier attempt with the key is still in progress, but drops other conflicts', async () => {
    const inProgress = () =>
      json(409, { error: { code: 'IDEMPOTENCY_IN_PROGRESS', message: 'still being processed' } });
    const { sender, requests } = harness([inProgress(), json(202, { accepted: 1 })]);
    const other = harness([json(409, { error: { code: 'CONFLICT', message: 'no' } })]);

    expect(await sender.deliver(BATCH)).toMatchObject({ kind: 'delivered', attempts: 2 });
    expect(requests.map((r) => r.headers.get(IDEMPOTENCY_HEADER))).toEqual([BATCH.id, BATCH.id]);
    expect(await other.sender.deliver(BATCH)).toMatchObject({ kind: 'dropped', status: 409 });
  });

  it('waits at least what Retry-After asks, within the cap', async () => {
    const { sender, sleeps } = harness([
      json(429, {}, { 'retry-after': '3' }),
      json(503, {}, { 'retry-after': '3600' }),
      json(202, { accepted: 1 }),
    ]);

    await sender.deliver(BATCH);

    expect(sleeps).toEqual([3000, 60_000]);
  });

  it('drops a batch a 4xx rejects, logging the server error once, without retrying', async () => {
    const { sender, requests, sleeps, lines } = harness([
      json(400, {
        error: {
          code: 'VALIDATION_FAILED',
          message: 'Invalid metric batch',
          issues: [{ path: 'metrics.0.value', message: 'must be a finite number' }],
        },
      }),
    ]);

    const result = await sender.deliver(BATCH);

    expect(result).toMatchObject({ kind: 'dropped', attempts: 1, status: 400 });
    expect(requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(lines).toEqual([
      `agent: the server rejected batch ${BATCH.id} (1 points) with HTTP 400 VALIDATION_FAILED: Invalid metric batch ` +
        '(issues: metrics.0.value: must be a finite number); dropping it',
    ]);
  });

  it('points at the token when the API answers 401 or 403', async () => {
    const { sender, lines } = harness([json(401, { error: { code: 'UNAUTHORIZED', message: 'bad token' } })]);

    await sender.deliver(BATCH);

    expect(lines[0]).toContain('(check --token)');
  });

  it('logs points a 2xx answer lists as rejected, with their count and first codes, once', async () => {
    const partial = () =>
      json(202, {
        accepted: 1,
        rejected: [
          { index: 1, code: 'STALE' },
          { index: 2, code: 'STALE' },
          { index: 3, code: 'TOO_LONG' },
        ],
      });
    const { sender, lines } = harness([partial(), partial()]);

    const result = await sender.deliver(BATCH);
    await sender.deliver(BATCH);

    expect(result).toMatchObject({ kind: 'delivered', rejected: { count: 3, codes: ['STALE', 'TOO_LONG'] } });
    expect(lines).toEqual([
      `agent: the server rejected 3 of 1 points of batch ${BATCH.id} (STALE, TOO_LONG)`,
    ]);
  });

  it('gives up after maxAttempts, leaving the batch to the caller', async () => {
    const { sender, requests } = harness([refused(), refused()]);

    const result = await sender.deliver(BATCH, { maxAttempts: 2 });

    expect(result).toEqual({ kind: 'gave-up', attempts: 2, reason: 'ECONNREFUSED' });
    expect(requests).toHaveLength(2);
  });

  it('stops retrying when its signal aborts during a backoff wait', async () => {
    const stop = new AbortController();
    const { sender, requests } = harness([refused(), refused()], {
      sleep: async () => stop.abort(),
    });

    const result = await sender.deliver(BATCH, { signal: stop.signal });

    expect(result).toEqual({ kind: 'aborted', attempts: 1 });
    expect(requests).toHaveLength(1);
  });

  it('cuts a backoff wait short when woken', async () => {
    let waits = 0;
    const { sender, requests } = harness([refused(), json(202, { accepted: 1 })], {
      sleep: (_ms, signal) =>
        new Promise((resolve) => {
          waits++;
          signal.addEventListener('abort', () => resolve(), { once: true });
        }),
    });

    const delivering = sender.deliver(BATCH);
    await vi.waitFor(() => expect(waits).toBe(1));
    sender.wake();

    expect(await delivering).toMatchObject({ kind: 'delivered', attempts: 2 });
    expect(requests).toHaveLength(2);
  });
});
