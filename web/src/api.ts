/**
 * The dashboard's HTTP calls: its own `config.json`, signing in, and the metrics reads.
 * `fetch` is injected; results are values, never thrown errors. Data reads go through
 * {@link withBearer}, which adds the token and notices when the session is over.
 */
import {
  type ConfigResult,
  parseApiError,
  parseConfig,
  parseLoginAnswer,
  parseSignedInUser,
  parseSystemMetrics,
  type SignedInUser,
  type SystemMetrics,
} from './messages';

/** The subset of `fetch` used here; the browser's `fetch` satisfies it. */
export type FetchLike = (
  url: string,
  init?: {
    readonly method?: 'GET' | 'POST';
    readonly body?: string;
    readonly signal?: AbortSignal;
    readonly headers?: Record<string, string>;
    readonly cache?: 'no-store';
  },
) => Promise<FetchResponse>;

/** The subset of `Response` used here. */
export interface FetchResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly headers?: { get(name: string): string | null };
  json(): Promise<unknown>;
}

const TIMEOUT_MS = 10_000;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Fetches and validates `config.json`; `url` is relative to the page. */
export async function loadConfig(fetchFn: FetchLike, url = './config.json'): Promise<ConfigResult> {
  let body: unknown;
  try {
    const response = await fetchFn(url, { cache: 'no-store', signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!response.ok)
      return { ok: false, problem: `config.json could not be loaded (HTTP ${response.status})` };
    body = await response.json();
  } catch (error) {
    return { ok: false, problem: `config.json could not be loaded (${describe(error)})` };
  }
  return parseConfig(body);
}

export type SnapshotResult =
  | { readonly kind: 'metrics'; readonly metrics: SystemMetrics }
  /** Nothing has been ingested yet (HTTP 404): an empty state, not an error. */
  | { readonly kind: 'empty' }
  | { readonly kind: 'error'; readonly problem: string };

/** GETs the latest system metrics from `${httpApiUrl}/api/dashboard/system-metrics`. */
export async function fetchSnapshot(fetchFn: FetchLike, httpApiUrl: string): Promise<SnapshotResult> {
  try {
    const response = await fetchFn(`${httpApiUrl}/api/dashboard/system-metrics`, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (response.status === 404) return { kind: 'empty' };
    if (!response.ok) return { kind: 'error', problem: `Snapshot request failed (HTTP ${response.status})` };
    const metrics = parseSystemMetrics(await response.json());
    return metrics
      ? { kind: 'metrics', metrics }
      : { kind: 'error', problem: 'Snapshot response was malformed' };
  } catch (error) {
    return { kind: 'error', problem: `Snapshot request failed (${describe(error)})` };
  }
}

/** `[epoch ms, value]` pairs as `/api/metrics/query` answers them. */
export type QueryPoints = readonly (readonly [number, number])[];

/**
 * Joins CPU and memory history into samples the charts take, keeping only instants that have
 * both values. Load is not charted, so history samples carry none.
 */
export function historySamples(host: string, cpu: QueryPoints, memory: QueryPoints): SystemMetrics[] {
  const memoryAt = new Map(memory.map(([t, v]) => [t, v]));
  return cpu.flatMap(([t, cpuUsage]) => {
    const memoryUsage = memoryAt.get(t);
    if (memoryUsage === undefined || !Number.isFinite(cpuUsage) || !Number.isFinite(memoryUsage)) return [];
    return [
      {
        timestamp: new Date(t).toISOString(),
        host,
        cpu_usage: cpuUsage,
        memory_usage: memoryUsage,
      },
    ];
  });
}

/**
 * The host's CPU and memory for the `windowSec` before `untilMs` from the query API, so the charts
 * open filled instead of empty. History stops at the start of `untilMs`'s second: the query answers
 * in 1-second buckets, and the snapshot at `untilMs` is the exact sample for that second.
 * A failure is not an error for the dashboard: live data still arrives.
 */
export async function fetchHistory(
  fetchFn: FetchLike,
  httpApiUrl: string,
  host: string,
  windowSec: number,
  untilMs: number,
): Promise<SystemMetrics[]> {
  const to = Math.floor(untilMs / 1000) * 1000;
  const series = async (name: string): Promise<QueryPoints> => {
    const params = new URLSearchParams({
      name,
      match: `host=${JSON.stringify(host)}`,
      from: String(to - windowSec * 1000),
      to: String(to),
      agg: 'avg',
      step: '1s',
    });
    const response = await fetchFn(`${httpApiUrl}/api/metrics/query?${params}`, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!response.ok) return [];
    const body = (await response.json()) as { series?: { points?: unknown }[] };
    const points = body.series?.[0]?.points;
    return Array.isArray(points)
      ? points.filter(
          (p): p is [number, number] =>
            Array.isArray(p) && typeof p[0] === 'number' && typeof p[1] === 'number',
        )
      : [];
  };
  try {
    const [cpu, memory] = await Promise.all([series('cpu_usage'), series('memory_usage')]);
    return historySamples(host, cpu, memory);
  } catch {
    return [];
  }
}

// ─── Signing in ──────────────────────────────────────────────────────────────────────────────

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export type LoginResult =
  | { readonly kind: 'ok'; readonly token: string; readonly expiresInSec: number }
  /** 401: the username or the password is wrong (the API does not say which). */
  | { readonly kind: 'invalid-credentials' }
  /** 429: locked out for now; `retryAfterSec` is null when the answer does not say for how long. */
  | { readonly kind: 'throttled'; readonly retryAfterSec: number | null }
  /** 400: the request itself was refused (a field too long, say). */
  | { readonly kind: 'rejected'; readonly problem: string }
  /** No answer at all: offline, DNS, CORS, timeout. */
  | { readonly kind: 'unreachable'; readonly problem: string }
  /** Any other answer: a server error, a malformed body. */
  | { readonly kind: 'error'; readonly problem: string };

/**
 * How long a 429 asks to wait: the envelope's `retryAfterSeconds`, else the `Retry-After` header
 * in seconds (cross-origin, the header is only readable when CORS exposes it), else null.
 */
function retryAfterSec(body: unknown, response: FetchResponse): number | null {
  const fromBody = parseApiError(body)?.retryAfterSeconds;
  if (fromBody !== undefined) return Math.ceil(fromBody);
  const header = response.headers?.get('retry-after')?.trim();
  return header && /^\d+$/.test(header) ? Number(header) : null;
}

/** POSTs the credentials to `${httpApiUrl}/auth/login`. */
export async function login(
  fetchFn: FetchLike,
  httpApiUrl: string,
  credentials: Credentials,
): Promise<LoginResult> {
  let response: FetchResponse;
  try {
    response = await fetchFn(`${httpApiUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ username: credentials.username, password: credentials.password }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    return { kind: 'unreachable', problem: describe(error) };
  }
  const body = await response.json().catch(() => undefined);
  if (response.ok) {
    const answer = parseLoginAnswer(body);
    return answer
      ? { kind: 'ok', token: answer.access_token, expiresInSec: answer.expires_in }
      : { kind: 'error', problem: 'the answer was malformed' };
  }
  switch (response.status) {
    case 401:
      return { kind: 'invalid-credentials' };
    case 429:
      return { kind: 'throttled', retryAfterSec: retryAfterSec(body, response) };
    case 400:
      return { kind: 'rejected', problem: parseApiError(body)?.message ?? 'invalid request' };
    default:
      return { kind: 'error', problem: `HTTP ${response.status}` };
  }
}

/**
 * Whether an answer to an authenticated request means the token no longer counts: 401 (no or
 * expired token, from API Gateway or a function), or API Gateway's own 403 `{"message":"Forbidden"}`
 * when the authorizer refuses the token. A function's 403 envelope (a role that may not do
 * something) does not end the session.
 */
export function endsSession(status: number, body: unknown): boolean {
  if (status === 401) return true;
  return (
    status === 403 &&
    typeof body === 'object' &&
    body !== null &&
    (body as Record<string, unknown>).message === 'Forbidden'
  );
}

/**
 * `fetchFn` with `Authorization: Bearer <token>` on every request. When an answer
 * {@link endsSession}, `onSessionOver` is called before the caller sees that answer, whose body
 * stays readable.
 */
export function withBearer(fetchFn: FetchLike, token: string, onSessionOver: () => void): FetchLike {
  return async (url, init) => {
    const response = await fetchFn(url, {
      ...init,
      headers: { ...init?.headers, authorization: `Bearer ${token}` },
    });
    if (response.status === 401) {
      onSessionOver();
      return response;
    }
    if (response.status !== 403) return response;
    const parsed = response.json();
    if (endsSession(403, await parsed.catch(() => undefined))) onSessionOver();
    return { ok: response.ok, status: response.status, headers: response.headers, json: () => parsed };
  };
}

export type MeResult =
  | { readonly kind: 'user'; readonly user: SignedInUser }
  | { readonly kind: 'unauthorized' }
  | { readonly kind: 'error'; readonly problem: string };

/**
 * GETs `${httpApiUrl}/auth/me`: who the token belongs to. Also the way to tell a refused WebSocket
 * handshake (a browser reports it as a plain failure) from a network problem.
 */
export async function fetchMe(fetchFn: FetchLike, httpApiUrl: string): Promise<MeResult> {
  try {
    const response = await fetchFn(`${httpApiUrl}/auth/me`, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const body = await response.json().catch(() => undefined);
    if (endsSession(response.status, body)) return { kind: 'unauthorized' };
    if (!response.ok) return { kind: 'error', problem: `HTTP ${response.status}` };
    const user = parseSignedInUser(body);
    return user ? { kind: 'user', user } : { kind: 'error', problem: 'the answer was malformed' };
  } catch (error) {
    return { kind: 'error', problem: describe(error) };
  }
}
