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
