import { describe, expect, it } from 'vitest';
import {
  type FetchLike,
  fetchHistory,
  fetchSnapshot,
  historySamples,
  loadConfig,
} from '../../../web/src/api';

function respond(status: number, body: unknown): { fetchFn: FetchLike; urls: string[] } {
  const urls: string[] = [];
  const fetchFn: FetchLike = async (url) => {
    urls.push(url);
    return {
      ok: status >= 200 && status < 300,
      status,
      json: async () => (typeof body === 'string' ? JSON.parse(body) : body),
    };
  };
  return { fetchFn, urls };
}

const failing: FetchLike = async () => {
  throw new TypeError('Failed to fetch');
};

const metrics = {
  timestamp: '2026-11-24T06:00:00.000Z',
  host: 'web-1',
  cpu_usage: 12.5,
  memory_usage: 48.2,
  load_avg_1m: 0.4,
};

describe('loadConfig', () => {
  it('reads config.json next to the page and validates it', async () => {
    const { fetchFn, urls } = respond(200, {
      httpApiUrl: 'http://127.0.0.1:3000',
      webSocketUrl: 'ws://127.0.0.1:3000/ws',
    });

    const result = await loadConfig(fetchFn);

    expect(urls).toEqual(['./config.json']);
    expect(result).toMatchObject({ ok: true, config: { httpApiUrl: 'http://127.0.0.1:3000' } });
  });

  it.each<[string, FetchLike, RegExp]>([
    ['a missing file', respond(404, {}).fetchFn, /HTTP 404/],
    ['a network failure', failing, /Failed to fetch/],
    ['invalid JSON', respond(200, '{oops').fetchFn, /could not be loaded/],
    ['a wrong shape', respond(200, { httpApiUrl: 'http://x' }).fetchFn, /webSocketUrl/],
  ])('explains %s', async (_name, fetchFn, problem) => {
    const result = await loadConfig(fetchFn);

    expect(result.ok).toBe(false);
    expect(!result.ok && result.problem).toMatch(problem);
  });
});

describe('fetchSnapshot', () => {
  it('GETs the system-metrics snapshot from the HTTP API', async () => {
    const { fetchFn, urls } = respond(200, metrics);

    const result = await fetchSnapshot(fetchFn, 'https://abc.execute-api.eu-west-1.amazonaws.com');

    expect(urls).toEqual(['https://abc.execute-api.eu-west-1.amazonaws.com/api/dashboard/system-metrics']);
    expect(result).toEqual({ kind: 'metrics', metrics });
  });

  it('treats 404 as nothing ingested yet, not as an error', async () => {
    const { fetchFn } = respond(404, { error: { code: 'NOT_FOUND', message: 'No metrics yet' } });

    expect(await fetchSnapshot(fetchFn, 'http://x')).toEqual({ kind: 'empty' });
  });

  it.each<[string, FetchLike, RegExp]>([
    ['a server error', respond(503, {}).fetchFn, /HTTP 503/],
    ['a malformed body', respond(200, { host: 'web-1' }).fetchFn, /malformed/],
    ['a network failure', failing, /Failed to fetch/],
  ])('reports %s as an error', async (_name, fetchFn, problem) => {
    const result = await fetchSnapshot(fetchFn, 'http://x');

    expect(result.kind).toBe('error');
    expect(result.kind === 'error' && result.problem).toMatch(problem);
  });
});

describe('historySamples', () => {
  it('joins CPU and memory by instant and drops instants missing either', () => {
    const samples = historySamples(
      'web-1',
      [
        [1000, 10],
        [2000, 20],
        [3000, 30],
      ],
      [
        [1000, 50],
        [3000, 70],
      ],
    );

    expect(samples).toEqual([
      {
        timestamp: new Date(1000).toISOString(),
        host: 'web-1',
        cpu_usage: 10,
        memory_usage: 50,
      },
      {
        timestamp: new Date(3000).toISOString(),
        host: 'web-1',
        cpu_usage: 30,
        memory_usage: 70,
      },
    ]);
  });
});

describe('fetchHistory', () => {
  const answer = (status: number, body: unknown) => ({ ok: status < 400, status, json: async () => body });

  it('asks the query API for the host’s window and joins the two series', async () => {
    const urls: string[] = [];
    const fetchFn: FetchLike = async (url) => {
      urls.push(url);
      const value = url.includes('name=cpu_usage') ? 12 : 48;
      return answer(200, { series: [{ labels: {}, points: [[1000, value]] }] });
    };

    const samples = await fetchHistory(fetchFn, 'https://api.example', 'web-1', 600, 1_700_000_000_500);

    expect(samples).toEqual([
      {
        timestamp: new Date(1000).toISOString(),
        host: 'web-1',
        cpu_usage: 12,
        memory_usage: 48,
      },
    ]);
    const query = new URL(urls[0] ?? '').searchParams;
    expect(query.get('match')).toBe('host="web-1"');
    expect(query.get('to')).toBe('1700000000000');
    expect(query.get('from')).toBe(String(1_700_000_000_000 - 600_000));
  });

  it('gives no history, rather than an error, when the query API fails or answers junk', async () => {
    expect(await fetchHistory(async () => answer(503, {}), 'https://api.example', 'h', 600, 0)).toEqual([]);
    expect(
      await fetchHistory(async () => answer(200, { series: 'x' }), 'https://api.example', 'h', 600, 0),
    ).toEqual([]);
    expect(
      await fetchHistory(
        async () => {
          throw new Error('offline');
        },
        'https://api.example',
        'h',
        600,
        0,
      ),
    ).toEqual([]);
  });
});
