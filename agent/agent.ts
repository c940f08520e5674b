import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type Collector,
  createCollector,
  METRIC_GROUPS,
  type MetricGroup,
  type SystemReaders,
} from './collectors';
import { type Backoff, Sender } from './sender';
import { type Batch, Spool } from './spool';

export const DEFAULT_INTERVAL_MS = 10_000;
export const DEFAULT_MAX_BUFFER_BYTES = 100 * 1024 * 1024;
/** The ingest API's batch limit today (`MAX_BATCH_SIZE`); larger collections are split. */
export const DEFAULT_MAX_POINTS_PER_REQUEST = 1000;

/** `~/.pulseboard-agent/spool`. */
export function defaultSpoolDir(): string {
  return path.join(os.homedir(), '.pulseboard-agent', 'spool');
}

export interface AgentOptions {
  /** The HTTP API base URL (the stack's `HttpApiUrl`); batches go to `${url}/api/metrics`. */
  readonly url: string;
  readonly token?: string;
  /** Collect a batch this often (default 10 s). */
  readonly intervalMs?: number;
  /** The `host` label on every point (default `os.hostname()`). */
  readonly host?: string;
  /** More labels on every point; a `host` here overrides `host`. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Which metric groups to collect (default all). */
  readonly metrics?: readonly MetricGroup[];
  /** Mount points for `disk_usage` / `disk_free_bytes` (default `/`). */
  readonly diskPaths?: readonly string[];
  /** The disk buffer (default `~/.pulseboard-agent/spool`). */
  readonly spoolDir?: string;
  /** Size cap of the disk buffer; the oldest batches are dropped beyond it (default 100 MB). */
  readonly maxBufferBytes?: number;
  readonly maxPointsPerRequest?: number;
  /** While catching up after an outage, start at most this many requests per second (default 10). */
  readonly catchUpBatchesPerSecond?: number;
  /** How long `stop()` lets an in-flight request finish before aborting it (default 5 s). */
  readonly stopTimeoutMs?: number;
  readonly backoff?: Partial<Backoff>;
  /** Collect on a timer (default). When false, only `collect()` collects (`--once`). */
  readonly schedule?: boolean;
  readonly log?: (line: string) => void;
  /** Called with every collected batch once it is safely spooled (for tests and tooling). */
  readonly onBatch?: (batch: Batch) => void;
  readonly readers?: Partial<SystemReaders>;
  readonly fetch?: typeof fetch;
  readonly random?: () => number;
  /** Wall clock for point timestamps (epoch ms). */
  readonly now?: () => number;
  readonly newId?: () => string;
}

export interface Agent {
  /** The disk buffer in use. */
  readonly spoolDir: string;
  /** Batches buffered on disk and not yet delivered. */
  pending(): number;
  /** Collects and spools one batch now. */
  collect(): Promise<void>;
  /**
   * Skips any backoff wait and resolves once every spooled batch has been delivered (or dropped as
   * permanently rejected), or as soon as a delivery attempt fails: the rest stays spooled.
   */
  flush(): Promise<void>;
  /**
   * Stops collecting, gives an in-flight request `stopTimeoutMs` to finish, then stops sending.
   * Undelivered batches stay in the spool for the next start.
   */
  stop(): Promise<void>;
}

/**
 * Starts the host agent: every interval it samples this machine, appends the batch to the disk
 * spool and wakes the delivery loop, which sends spooled batches oldest first, one at a time, each
 * with its own stable `Idempotency-Key`, removing a batch only once the API answered 2xx (or
 * rejected it for good). Batches a previous run left in the spool are replayed first.
 */
export async function startAgent(options: AgentOptions): Promise<Agent> {
  const log = options.log ?? ((line: string) => console.error(line));
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  if (!(intervalMs > 0)) throw new Error(`intervalMs must be positive, got ${intervalMs}`);
  const now = options.now ?? Date.now;
  const newId = options.newId ?? randomUUID;
  const maxPoints = options.maxPointsPerRequest ?? DEFAULT_MAX_POINTS_PER_REQUEST;
  const spacingMs = 1000 / (options.catchUpBatchesPerSecond ?? 10);
  const stopTimeoutMs = options.stopTimeoutMs ?? 5000;

  const spool = await Spool.open({
    dir: options.spoolDir ?? defaultSpoolDir(),
    maxBytes: options.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES,
    log,
  });
  if (spool.entries.length > 0)
    log(`agent: replaying ${spool.entries.length} buffered batch(es) from ${spool.dir}`);

  const host = options.host ?? os.hostname();
  const collector: Collector = await createCollector({
    groups: options.metrics ?? METRIC_GROUPS,
    labels: { host, ...options.labels },
    diskPaths: options.diskPaths ?? ['/'],
    readers: options.readers,
    log,
  });
  const sender = new Sender({
    url: options.url,
    token: options.token,
    backoff: options.backoff,
    log,
    fetch: options.fetch,
    random: options.random,
    now,
  });

  const stopping = new AbortController();
  const aborting = new AbortController();
  let wakeLoop = new AbortController();
  const waiters = new Set<() => void>();
  const settleWaiters = () => {
    for (const settle of waiters) settle();
    waiters.clear();
  };
  let lastCollectError = '';

  const collect = async () => {
    try {
      const timestamp = now();
      const points = await collector.sample(timestamp);
      for (let start = 0; start < points.length; start += maxPoints) {
        const batch: Batch = {
          id: newId(),
          createdAt: timestamp,
          metrics: points.slice(start, start + maxPoints),
        };
        await spool.append(batch);
        options.onBatch?.(batch);
      }
      lastCollectError = '';
    } catch (error) {
      const message = (error as Error).message;
      if (message !== lastCollectError) log(`agent: could not collect or buffer a batch (${message})`);
      lastCollectError = message;
    }
    wakeLoop.abort();
  };

  // Delivery: one request in flight, oldest batch first, spaced to at most catchUpBatchesPerSecond.
  const deliverNext = async (lastStart: number): Promise<number> => {
    const entry = spool.oldest();
    if (!entry) {
      settleWaiters();
      const wake = wakeLoop;
      const forever = 2 ** 31 - 1;
      const signal = AbortSignal.any([wake.signal, stopping.signal]);
      if (!wake.signal.aborted) await delay(forever, undefined, { signal }).catch(() => {});
      if (wake === wakeLoop) wakeLoop = new AbortController();
      return lastStart;
    }
    const wait = lastStart + spacingMs - performance.now();
    if (wait > 0) await delay(wait, undefined, { signal: stopping.signal }).catch(() => {});
    if (stopping.signal.aborted) return lastStart;
    const batch = await spool.read(entry);
    if (!batch) return lastStart;
    const startedAt = performance.now();
    const result = await sender.deliver(batch, {
      signal: stopping.signal,
      requestSignal: aborting.signal,
      onRetry: settleWaiters,
    });
    if (result.kind === 'delivered' || result.kind === 'dropped') await spool.ack(entry);
    return startedAt;
  };
  const looping = (async () => {
    let lastStart = Number.NEGATIVE_INFINITY;
    let lastError = '';
    while (!stopping.signal.aborted) {
      try {
        lastStart = await deliverNext(lastStart);
        lastError = '';
      } catch (error) {
        // A spool that cannot be read or cleaned up (permissions, disk errors): keep trying, quietly.
        const message = (error as Error).message;
        if (message !== lastError) log(`agent: delivery problem (${message}); retrying`);
        lastError = message;
        settleWaiters();
        await delay(1000, undefined, { signal: stopping.signal }).catch(() => {});
      }
    }
    settleWaiters();
  })();

  // Collection on a drift-free schedule: the k-th batch is due at start + k·interval; late ticks are skipped.
  let timer: NodeJS.Timeout | undefined;
  let collecting: Promise<void> = Promise.resolve();
  if (options.schedule !== false) {
    const startedAt = performance.now();
    let tick = 0;
    const scheduleNext = () => {
      const elapsed = performance.now() - startedAt;
      tick = Math.max(tick + 1, Math.ceil(elapsed / intervalMs));
      timer = setTimeout(
        () => {
          collecting = collect().then(() => {
            if (!stopping.signal.aborted) scheduleNext();
          });
        },
        startedAt + tick * intervalMs - performance.now(),
      );
    };
    scheduleNext();
  }

  return {
    spoolDir: spool.dir,
    pending: () => spool.entries.length,
    collect: () => {
      collecting = collecting.then(collect);
      return collecting;
    },
    flush: () =>
      new Promise<void>((resolve) => {
        if (stopping.signal.aborted || spool.entries.length === 0) return resolve();
        waiters.add(resolve);
        sender.wake();
      }),
    async stop() {
      if (stopping.signal.aborted) return looping;
      clearTimeout(timer);
      stopping.abort();
      await collecting;
      const grace = new AbortController();
      const timedOut = delay(stopTimeoutMs, true, { signal: grace.signal }).catch(() => false);
      if ((await Promise.race([looping.then(() => false), timedOut])) === true) aborting.abort();
      grace.abort();
      await looping;
    },
  };
}
