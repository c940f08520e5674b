import { setTimeout as delay } from 'node:timers/promises';
import type { Batch } from './spool';

/** The header whose value the server uses to count a retried batch once. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** Exponential backoff bounds: the n-th retry waits up to `min(maxMs, initialMs · 2ⁿ)`. */
export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 1000, maxMs: 60_000 };

/**
 * "Full jitter" backoff: a uniformly random wait in `[0, min(maxMs, initialMs · 2^retry))`, so many
 * agents recovering from the same outage do not retry in lockstep. `retry` counts from 0.
 */
export function backoffDelay(
  retry: number,
  random: () => number,
  backoff: Backoff = DEFAULT_BACKOFF,
): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(retry, 30));
  return Math.floor(random() * ceiling);
}

/** A `Retry-After` header (seconds or an HTTP date) in milliseconds from `now`, if present. */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** What one request achieved. */
export type AttemptOutcome =
  | { readonly kind: 'delivered'; readonly status: number; readonly rejected?: RejectionSummary }
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number }
  | { readonly kind: 'permanent'; readonly status: number; readonly reason: string }
  | { readonly kind: 'aborted' };

/** Points the server accepted the batch without (a 2xx answer listing `rejected` items). */
export interface RejectionSummary {
  readonly count: number;
  readonly codes: readonly string[];
}

/** How delivering one batch ended. Only `aborted` and `gave-up` leave the batch to be sent again. */
export type DeliveryResult =
  | { readonly kind: 'delivered'; readonly attempts: number; readonly rejected?: RejectionSummary }
  | { readonly kind: 'dropped'; readonly attempts: number; readonly status: number; readonly reason: string }
  | { readonly kind: 'aborted'; readonly attempts: number }
  | { readonly kind: 'gave-up'; readonly attempts: number; readonly reason: string };

export interface SenderOptions {
  /** The HTTP API base URL; batches go to `${url}/api/metrics`. */
  readonly url: string;
  readonly token?: string;
  readonly backoff?: Partial<Backoff>;
  /** Per request (default 15 s). */
  readonly requestTimeoutMs?: number;
  readonly log?: (line: string) => void;
  readonly fetch?: typeof fetch;
  /** Waits `ms`, resolving early (never rejecting) when `signal` aborts. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly random?: () => number;
  /** Wall clock in epoch milliseconds, for HTTP-date `Retry-After` values. */
  readonly now?: () => number;
}

const sleepUnlessAborted = (ms: number, signal: AbortSignal) =>
  delay(ms, undefined, { signal }).catch(() => undefined);

/**
 * Posts batches to the ingest route. Network errors, 408, 429, 5xx and a 409 saying an earlier
 * attempt with the same key is still in progress are retried with capped exponential backoff and
 * full jitter, every attempt carrying the batch's id as its `Idempotency-Key`; any other 4xx
 * rejects the batch for good. An outage is logged once when it
 * starts and once when it ends, not on every retry.
 */
export class Sender {
  private readonly endpoint: string;
  private readonly options: SenderOptions;
  private readonly backoff: Backoff;
  private readonly log: (line: string) => void;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  private wakeController = new AbortController();
  private failingSince: number | undefined;
  private failedAttempts = 0;
  private lastRejection = '';

  constructor(options: SenderOptions) {
    this.options = options;
    this.endpoint = `${options.url.replace(/\/+$/, '')}/api/metrics`;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.log = options.log ?? (() => {});
    this.fetch = options.fetch ?? fetch;
    this.sleep = options.sleep ?? sleepUnlessAborted;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  /** Whether the last attempt failed in a retryable way (the API is unreachable or overloaded). */
  get failing(): boolean {
    return this.failingSince !== undefined;
  }

  /** Cuts the current backoff wait short, so the next attempt starts now. */
  wake(): void {
    this.wakeController.abort();
    this.wakeController = new AbortController();
  }

  /** One request, classified. */
  async attempt(batch: Batch, signal?: AbortSignal): Promise<AttemptOutcome> {
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs ?? 15_000);
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(this.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'pulseboard-agent',
          [IDEMPOTENCY_HEADER]: batch.id,
          ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
        },
        body: JSON.stringify({ metrics: batch.metrics }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      text = await response.text();
    } catch (error) {
      if (signal?.aborted) return { kind: 'aborted' };
      return { kind: 'retry', reason: networkReason(error, timeout.aborted) };
    }
    const status = response.status;
    if (status >= 200 && status < 300) return { kind: 'delivered', status, rejected: rejectionSummary(text) };
    if (status === 408 || status === 429 || status >= 500 || isInProgress(status, text)) {
      return {
        kind: 'retry',
        reason: `HTTP ${status}${describeError(text)}`,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), this.now()),
      };
    }
    return { kind: 'permanent', status, reason: `HTTP ${status}${describeError(text)}` };
  }

  /**
   * Delivers one batch, retrying until it is delivered, rejected for good, `signal` aborts (no
   * further attempt starts; a pending backoff wait ends) or `maxAttempts` (default unbounded) is
   * used up. `requestSignal` aborts a request in flight. `onRetry` hears of every retryable failure.
   */
  async deliver(
    batch: Batch,
    options: {
      readonly signal?: AbortSignal;
      readonly requestSignal?: AbortSignal;
      readonly maxAttempts?: number;
      readonly onRetry?: (reason: string) => void;
    } = {},
  ): Promise<DeliveryResult> {
    const maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
    for (let attempts = 1; ; attempts++) {
      if (options.signal?.aborted) return { kind: 'aborted', attempts: attempts - 1 };
      const outcome = await this.attempt(batch, options.requestSignal);
      switch (outcome.kind) {
        case 'aborted':
          return { kind: 'aborted', attempts };
        case 'delivered':
          this.recovered();
          if (outcome.rejected) this.reportRejected(batch, outcome.rejected);
          return { kind: 'delivered', attempts, rejected: outcome.rejected };
        case 'permanent':
          this.recovered();
          this.log(
            `agent: the server rejected batch ${batch.id} (${batch.metrics.length} points) with ${outcome.reason}; ` +
              `dropping it${outcome.status === 401 || outcome.status === 403 ? ' (check --token)' : ''}`,
          );
          return { kind: 'dropped', attempts, status: outcome.status, reason: outcome.reason };
        case 'retry': {
          this.failed(outcome.reason);
          options.onRetry?.(outcome.reason);
          if (attempts >= maxAttempts) return { kind: 'gave-up', attempts, reason: outcome.reason };
          if (options.signal?.aborted) return { kind: 'aborted', attempts };
          const jittered = backoffDelay(attempts - 1, this.random, this.backoff);
          const wait = Math.min(this.backoff.maxMs, Math.max(jittered, outcome.retryAfterMs ?? 0));
          const signals = [this.wakeController.signal, ...(options.signal ? [options.signal] : [])];
          await this.sleep(wait, AbortSignal.any(signals));
        }
      }
    }
  }

  private failed(reason: string): void {
    this.failedAttempts++;
    if (this.failingSince !== undefined) return;
    this.failingSince = this.now();
    this.log(
      `agent: cannot deliver metrics to ${this.endpoint} (${reason}); buffering on disk and retrying with backoff`,
    );
  }

  private recovered(): void {
    if (this.failingSince === undefined) return;
    const seconds = Math.round((this.now() - this.failingSince) / 1000);
    this.log(`agent: delivering again after ${seconds} s and ${this.failedAttempts} failed attempt(s)`);
    this.failingSince = undefined;
    this.failedAttempts = 0;
  }

  /** Logs partially rejected batches, but not the same summary over and over. */
  private reportRejected(batch: Batch, rejected: RejectionSummary): void {
    const summary = `${rejected.count}:${rejected.codes.join(',')}`;
    if (summary === this.lastRejection) return;
    this.lastRejection = summary;
    const codes = rejected.codes.length > 0 ? ` (${rejected.codes.join(', ')})` : '';
    this.log(
      `agent: the server rejected ${rejected.count} of ${batch.metrics.length} points of batch ${batch.id}${codes}`,
    );
  }
}

/** `rejected` items of a 2xx answer: a count and up to three distinct codes. */
function rejectionSummary(text: string): RejectionSummary | undefined {
  const body = parseJson(text) as { rejected?: unknown } | undefined;
  const rejected = body?.rejected;
  if (typeof rejected === 'number') return rejected > 0 ? { count: rejected, codes: [] } : undefined;
  if (!Array.isArray(rejected) || rejected.length === 0) return undefined;
  const codes = new Set<string>();
  for (const item of rejected as { code?: unknown; error?: { code?: unknown } }[]) {
    const code = item?.code ?? item?.error?.code;
    if (typeof code === 'string' && codes.size < 3) codes.add(code);
  }
  return { count: rejected.length, codes: [...codes] };
}

/** ` CODE: message (issues: …)` from the API's `{"error":{"code","message","issues"}}`, else the text. */
function describeError(text: string): string {
  const body = parseJson(text) as
    | { error?: { code?: unknown; message?: unknown; issues?: { path?: unknown; message?: unknown }[] } }
    | undefined;
  const error = body?.error;
  if (!error || typeof error !== 'object') return text.trim() ? ` ${text.trim().slice(0, 200)}` : '';
  const issues = Array.isArray(error.issues)
    ? error.issues.slice(0, 3).map((issue) => `${String(issue.path ?? '')}: ${String(issue.message ?? '')}`)
    : [];
  const more =
    Array.isArray(error.issues) && error.issues.length > 3 ? `, +${error.issues.length - 3} more` : '';
  return ` ${String(error.code ?? 'ERROR')}: ${String(error.message ?? '')}${
    issues.length > 0 ? ` (issues: ${issues.join('; ')}${more})` : ''
  }`;
}

/**
 * A 409 `IDEMPOTENCY_IN_PROGRESS`: an earlier attempt with this key is still running (its answer
 * timed out here). It may yet fail and release the key, so the batch is retried, not dropped.
 */
function isInProgress(status: number, text: string): boolean {
  if (status !== 409) return false;
  const body = parseJson(text) as { error?: { code?: unknown } } | undefined;
  return body?.error?.code === 'IDEMPOTENCY_IN_PROGRESS';
}

function networkReason(error: unknown, timedOut: boolean): string {
  if (timedOut) return 'request timed out';
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return (error as Error).message ?? String(error);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
