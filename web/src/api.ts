/**
 * The dashboard's HTTP reads: its own `config.json` and the initial metrics snapshot.
 * `fetch` is injected; results are values, never thrown errors.
 */
import { type ConfigResult, parseConfig, parseSystemMetrics, type SystemMetrics } from './messages';

/** The subset of `fetch` used here; the browser's `fetch` satisfies it. */
export type FetchLike = (
  url: string,
  init?: {
    readonly signal?: AbortSignal;
    readonly headers?: Record<string, string>;
    readonly cache?: 'no-store';
  },
) => Promise<{ readonly ok: boolean; readonly status: number; json(): Promise<unknown> }>;

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
