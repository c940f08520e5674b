import { describe, expect, it } from 'vitest';
import {
  endsSession,
  type FetchLike,
  type FetchResponse,
  fetchMe,
  fetchSnapshot,
  type LoginResult,
  login,
  withBearer,
} from '../../../web/src/api';
import { parseApiError, parseLoginAnswer, parseSignedInUser } from '../../../web/src/messages';

type Init = Parameters<FetchLike>[1];

/** A fetch that answers every call with `status`, `body` and `headers`, and records the calls. */
function answering(status: number, body: unknown, headers: Record<string, string> = {}) {
  const calls: { url: string; init: Init }[] = [];
  const fetchFn: FetchLike = async (url, init) => {
    calls.push({ url, init });
    return response(status, body, headers);
  };
  return { fetchFn, calls };
}

function response(status: number, body: unknown, headers: Record<string, string> = {}): FetchResponse {
  return {
    ok: status >= 200 && status < 300,
    status,
    headers: { get: (name) => headers[name.toLowerCase()] ?? null },
    json: async () => (typeof body === 'string' ? JSON.parse(body) : body),
  };
}

const API = 'https://abc.execute-api.eu-west-1.amazonaws.com';
const ADMIN = { username: 'admin', password: 'correct horse battery staple' };
const TOKEN_ANSWER = { access_token: 'eyJ.a.b', token_type: 'Bearer', expires_in: 3600 };
const GATEWAY_FORBIDDEN = { message: 'Forbidden' };
const ENVELOPE_FORBIDDEN = { error: { code: 'FORBIDDEN', message: 'Needs the editor role' } };

describe('login', () => {
  it('POSTs the credentials as JSON to /auth/login and returns the token and its lifetime', async () => {
    // Prepare
    const { fetchFn, calls } = answering(200, TOKEN_ANSWER);

    // Act
    const result = await login(fetchFn, API, ADMIN);

    // Assess
    expect(result).toEqual({ kind: 'ok', token: 'eyJ.a.b', expiresInSec: 3600 });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe(`${API}/auth/login`);
    expect(calls[0]?.init?.method).toBe('POST');
    expect(calls[0]?.init?.headers?.['content-type']).toBe('application/json');
    expect(JSON.parse(calls[0]?.init?.body ?? '')).toEqual(ADMIN);
    expect(calls[0]?.init?.headers).not.toHaveProperty('authorization');
  });

  it.each<[string, FetchLike, LoginResult]>([
    [
      'a 401 as wrong credentials',
      answering(401, { error: { code: 'UNAUTHORIZED', message: 'Invalid username or password' } }).fetchFn,
      { kind: 'invalid-credentials' },
    ],
    [
      'a 429 with the wait from the envelope',
      answering(
        429,
        { error: { code: 'TOO_MANY_ATTEMPTS', message: 'Try later', retryAfterSeconds: 8 } },
        { 'retry-after': '9' },
      ).fetchFn,
      { kind: 'throttled', retryAfterSec: 8 },
    ],
    [
      'a 429 with the wait from Retry-After only (API Gateway’s throttle)',
      answering(429, { message: 'Too Many Requests' }, { 'retry-after': '4' }).fetchFn,
      { kind: 'throttled', retryAfterSec: 4 },
    ],
    [
      'a 429 that does not say how long',
      answering(429, { message: 'Too Many Requests' }).fetchFn,
      { kind: 'throttled', retryAfterSec: null },
    ],
    [
      'a 400 with the server’s explanation',
      answering(400, { error: { code: 'VALIDATION_FAILED', message: 'username is too long' } }).fetchFn,
      { kind: 'rejected', problem: 'username is too long' },
    ],
    ['a server error', answering(502, 'not json').fetchFn, { kind: 'error', problem: 'HTTP 502' }],
    [
      'a 200 without a usable token',
      answering(200, { access_token: 'x', token_type: 'mac', expires_in: 3600 }).fetchFn,
      { kind: 'error', problem: 'the answer was malformed' },
    ],
    [
      'no answer at all',
      async () => {
        throw new TypeError('Failed to fetch');
      },
      { kind: 'unreachable', problem: 'Failed to fetch' },
    ],
  ])('reports %s', async (_name, fetchFn, expected) => {
    expect(await login(fetchFn, API, ADMIN)).toEqual(expected);
  });
});

describe('endsSession', () => {
  it.each<[string, number, unknown, boolean]>([
    ['a 401 from API Gateway (no token)', 401, { message: 'Unauthorized' }, true],
    ['a 401 envelope from a function (expired token)', 401, { error: { code: 'UNAUTHORIZED' } }, true],
    ['API Gateway’s 403 (the authorizer refused the token)', 403, GATEWAY_FORBIDDEN, true],
    ['a function’s 403 envelope (the role may not do this)', 403, ENVELOPE_FORBIDDEN, false],
    ['a 403 without a body', 403, undefined, false],
    ['a 404', 404, { message: 'Not Found' }, false],
    ['a 200', 200, {}, false],
  ])('is %s → %s', (_name, status, body, expected) => {
    expect(endsSession(status, body)).toBe(expected);
  });
});

describe('withBearer', () => {
  it('sends Authorization: Bearer on every request, keeping the caller’s headers', async () => {
    const { fetchFn, calls } = answering(200, {});
    const authed = withBearer(fetchFn, 'eyJ.a.b', () => {});

    await authed(`${API}/api/dashboard/system-metrics`, { headers: { accept: 'application/json' } });
    await authed(`${API}/auth/me`);

    expect(calls.map((call) => call.init?.headers)).toEqual([
      { accept: 'application/json', authorization: 'Bearer eyJ.a.b' },
      { authorization: 'Bearer eyJ.a.b' },
    ]);
  });

  it.each([
    ['a 401', 401, { message: 'Unauthorized' }],
    ['API Gateway’s 403 Forbidden', 403, GATEWAY_FORBIDDEN],
  ])('ends the session on %s, and the caller still reads the answer', async (_name, status, body) => {
    let over = 0;
    const authed = withBearer(answering(status, body).fetchFn, 'eyJ.a.b', () => over++);

    const answer = await authed(`${API}/api/metrics/query`);

    expect(over).toBe(1);
    expect(answer.status).toBe(status);
    expect(await answer.json()).toEqual(body);
  });

  it('leaves the session alone on a function’s 403 and on other errors', async () => {
    let over = 0;
    const forbidden = withBearer(answering(403, ENVELOPE_FORBIDDEN).fetchFn, 't', () => over++);
    const failing = withBearer(answering(503, {}).fetchFn, 't', () => over++);

    const answer = await forbidden(`${API}/api/alert-rules`);
    await failing(`${API}/api/alert-rules`);

    expect(over).toBe(0);
    expect(await answer.json()).toEqual(ENVELOPE_FORBIDDEN);
  });

  it('lets a data read see the refused token as an error, after the session has ended', async () => {
    let over = 0;
    const authed = withBearer(answering(401, { message: 'Unauthorized' }).fetchFn, 't', () => over++);

    const snapshot = await fetchSnapshot(authed, API);

    expect(over).toBe(1);
    expect(snapshot).toEqual({ kind: 'error', problem: 'Snapshot request failed (HTTP 401)' });
  });
});

describe('fetchMe', () => {
  it('GETs /auth/me and returns the user', async () => {
    const { fetchFn, calls } = answering(200, { kind: 'user', username: 'ada', role: 'editor' });

    const result = await fetchMe(fetchFn, API);

    expect(calls[0]?.url).toBe(`${API}/auth/me`);
    expect(result).toEqual({ kind: 'user', user: { username: 'ada', role: 'editor' } });
  });

  it.each<[string, FetchLike, string]>([
    ['a 401', answering(401, { message: 'Unauthorized' }).fetchFn, 'unauthorized'],
    ['API Gateway’s 403', answering(403, GATEWAY_FORBIDDEN).fetchFn, 'unauthorized'],
    ['a server error', answering(500, {}).fetchFn, 'error'],
    [
      'an API key’s identity',
      answering(200, { kind: 'api_key', id: 'k1', scope: 'ingest' }).fetchFn,
      'error',
    ],
    [
      'a network failure',
      async () => {
        throw new TypeError('Failed to fetch');
      },
      'error',
    ],
  ])('reports %s as %s', async (_name, fetchFn, kind) => {
    expect((await fetchMe(fetchFn, API)).kind).toBe(kind);
  });
});

describe('auth messages', () => {
  it('admits a login answer only with a bearer token and a positive lifetime', () => {
    expect(parseLoginAnswer(TOKEN_ANSWER)).toEqual(TOKEN_ANSWER);
    expect(parseLoginAnswer({ ...TOKEN_ANSWER, access_token: '' })).toBeNull();
    expect(parseLoginAnswer({ ...TOKEN_ANSWER, expires_in: 0 })).toBeNull();
    expect(parseLoginAnswer({ ...TOKEN_ANSWER, expires_in: '3600' })).toBeNull();
    expect(parseLoginAnswer('token')).toBeNull();
  });

  it('admits a signed-in user only with a known role', () => {
    expect(parseSignedInUser({ kind: 'user', username: 'ada', role: 'viewer' })).toEqual({
      username: 'ada',
      role: 'viewer',
    });
    expect(parseSignedInUser({ kind: 'user', username: 'ada', role: 'root' })).toBeNull();
    expect(parseSignedInUser({ kind: 'user', username: '', role: 'admin' })).toBeNull();
  });

  it('reads the error envelope, with retryAfterSeconds when present', () => {
    expect(
      parseApiError({ error: { code: 'TOO_MANY_ATTEMPTS', message: 'Wait', retryAfterSeconds: 30 } }),
    ).toEqual({ code: 'TOO_MANY_ATTEMPTS', message: 'Wait', retryAfterSeconds: 30 });
    expect(parseApiError({ error: { code: 'UNAUTHORIZED', message: 'No' } })).toEqual({
      code: 'UNAUTHORIZED',
      message: 'No',
    });
    expect(parseApiError({ message: 'Forbidden' })).toBeNull();
  });
});
