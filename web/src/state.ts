/**
 * Pure dashboard state: rolling column arrays for uPlot, freshness and the status shown to the user.
 * Every function returns new values and takes "now" as an argument; nothing here reads a clock.
 */
import type { ConnectionStatus } from './connection';
import type { SystemMetrics } from './messages';

/** uPlot's aligned data: x in Unix seconds, then CPU % and memory %. */
export type SeriesColumns = readonly [
  times: readonly number[],
  cpu: readonly number[],
  memory: readonly number[],
];

export interface MetricsState {
  /** The host being charted: the first one seen. Samples of other hosts are not mixed in. */
  readonly host: string | null;
  /** Other hosts seen on the channel (at most {@link MAX_OTHER_HOSTS}). */
  readonly otherHosts: readonly string[];
  /** The newest sample by timestamp. */
  readonly latest: SystemMetrics | null;
  readonly columns: SeriesColumns;
  /** Client-clock milliseconds when data last arrived; drives stale detection. */
  readonly lastSeenAt: number | null;
}

export interface WindowOptions {
  /** Width of the rolling window, in seconds, measured back from the newest sample. */
  readonly windowSec: number;
  /** Hard cap on points kept per series. */
  readonly maxPoints: number;
}

export const DEFAULT_WINDOW: WindowOptions = { windowSec: 600, maxPoints: 600 };
export const MAX_OTHER_HOSTS = 5;
/** Sample interval assumed until two samples have arrived. */
export const DEFAULT_INTERVAL_MS = 5_000;
/** Data is stale after this many intervals without a sample. */
export const STALE_AFTER_INTERVALS = 3;

export function emptyState(): MetricsState {
  return { host: null, otherHosts: [], latest: null, columns: [[], [], []], lastSeenAt: null };
}

/** Index of the first element of the ascending `times` that is >= `t`. */
function lowerBound(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A copy of `values` with `value` inserted at `at`, or written over index `at` when `replace`. */
function withValueAt(values: readonly number[], at: number, replace: boolean, value: number): number[] {
  const copy = values.slice();
  copy.splice(at, replace ? 1 : 0, value);
  return copy;
}

/**
 * Adds one sample, keeping timestamps ascending and unique (a repeated timestamp replaces the
 * earlier value), then trims to the window and point cap.
 * @param seenAt client-clock ms to count as "data last arrived"; the caller chooses (see main.ts).
 */
export function addSample(
  state: MetricsState,
  sample: SystemMetrics,
  seenAt: number,
  window: WindowOptions = DEFAULT_WINDOW,
): MetricsState {
  if (state.host !== null && sample.host !== state.host) {
    if (state.otherHosts.includes(sample.host) || state.otherHosts.length >= MAX_OTHER_HOSTS) return state;
    return { ...state, otherHosts: [...state.otherHosts, sample.host] };
  }
  const t = Date.parse(sample.timestamp) / 1000;
  const [times, cpu, memory] = state.columns;
  const newest = times.length > 0 ? (times[times.length - 1] as number) : t;
  const lastSeenAt = Math.max(state.lastSeenAt ?? seenAt, seenAt);
  if (t < newest - window.windowSec) {
    // Older than the window already shows: keep the columns, but it still proves the feed is alive.
    return { ...state, host: sample.host, lastSeenAt };
  }

  const at = lowerBound(times, t);
  const replace = times[at] === t;
  const nextTimes = withValueAt(times, at, replace, t);
  const nextCpu = withValueAt(cpu, at, replace, sample.cpu_usage);
  const nextMemory = withValueAt(memory, at, replace, sample.memory_usage);

  const cutoff = (nextTimes[nextTimes.length - 1] as number) - window.windowSec;
  const start = Math.max(lowerBound(nextTimes, cutoff), nextTimes.length - window.maxPoints);
  const isNewest = state.latest === null || t >= Date.parse(state.latest.timestamp) / 1000;
  return {
    host: sample.host,
    otherHosts: state.otherHosts,
    latest: isNewest ? sample : state.latest,
    columns: [nextTimes.slice(start), nextCpu.slice(start), nextMemory.slice(start)],
    lastSeenAt,
  };
}

/** The typical gap between samples: the median of the last few gaps, clamped to [1 s, 60 s]. */
export function sampleIntervalMs(state: MetricsState): number {
  const times = state.columns[0];
  const gaps: number[] = [];
  for (let i = Math.max(1, times.length - 10); i < times.length; i++) {
    gaps.push(((times[i] as number) - (times[i - 1] as number)) * 1000);
  }
  if (gaps.length === 0) return DEFAULT_INTERVAL_MS;
  gaps.sort((a, b) => a - b);
  const median = gaps[Math.floor(gaps.length / 2)] as number;
  return Math.min(60_000, Math.max(1_000, median));
}

export type Freshness = 'empty' | 'live' | 'stale';

/** 'stale' once no data has arrived for more than {@link STALE_AFTER_INTERVALS} sample intervals. */
export function freshness(state: MetricsState, now: number): Freshness {
  if (state.lastSeenAt === null) return 'empty';
  const silentFor = now - state.lastSeenAt;
  return silentFor > STALE_AFTER_INTERVALS * sampleIntervalMs(state) ? 'stale' : 'live';
}

export type StatusKind = 'connecting' | 'live' | 'no-data' | 'stale' | 'reconnecting' | 'disconnected';

export interface Status {
  readonly kind: StatusKind;
  readonly label: string;
}

/** After this many consecutive failed attempts the badge says Disconnected rather than Reconnecting…. */
export const DISCONNECTED_AFTER_FAILURES = 4;

/** The one status the badge shows, from the socket's status and the data's freshness. */
export function deriveStatus(connection: ConnectionStatus, fresh: Freshness): Status {
  switch (connection.state) {
    case 'open':
      if (fresh === 'empty') return { kind: 'no-data', label: 'No data yet' };
      return fresh === 'stale' ? { kind: 'stale', label: 'Stale' } : { kind: 'live', label: 'Live' };
    case 'connecting':
      if (connection.failures === 0) return { kind: 'connecting', label: 'Connecting…' };
      break;
    case 'closed':
      if (connection.retryInMs === null) return { kind: 'disconnected', label: 'Disconnected' };
      break;
  }
  return connection.failures >= DISCONNECTED_AFTER_FAILURES
    ? { kind: 'disconnected', label: 'Disconnected' }
    : { kind: 'reconnecting', label: 'Reconnecting…' };
}
