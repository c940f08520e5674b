import { readFile, statfs } from 'node:fs/promises';
import * as os from 'node:os';

/** One point in the ingest API's native shape (`POST /api/metrics`). */
export interface MetricPoint {
  readonly name: string;
  readonly value: number;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly labels: Readonly<Record<string, string>>;
}

/** The metric groups `--metrics` selects from. */
export const METRIC_GROUPS = ['cpu', 'memory', 'load', 'disk', 'network', 'uptime'] as const;
export type MetricGroup = (typeof METRIC_GROUPS)[number];

/** What `fs.statfs` reports that disk usage needs. */
export interface FsStats {
  readonly bsize: number;
  readonly blocks: number;
  readonly bfree: number;
  readonly bavail: number;
}

/**
 * Everything the collectors read from the machine. Tests replace any of these with fixtures, e.g.
 * `readText` answering canned `/proc/meminfo` and `/proc/net/dev` contents.
 */
export interface SystemReaders {
  readonly platform: NodeJS.Platform;
  cpus(): readonly Pick<os.CpuInfo, 'times'>[];
  loadavg(): readonly number[];
  totalmem(): number;
  freemem(): number;
  uptime(): number;
  /** A file's text, or undefined when it does not exist or cannot be read. */
  readText(path: string): Promise<string | undefined>;
  statfs(path: string): Promise<FsStats>;
  /** A monotonic clock in milliseconds, for rates (never the wall clock). */
  monotonicMs(): number;
}

/** The real machine. */
export const systemReaders: SystemReaders = {
  platform: process.platform,
  cpus: () => os.cpus(),
  loadavg: () => os.loadavg(),
  totalmem: () => os.totalmem(),
  freemem: () => os.freemem(),
  uptime: () => os.uptime(),
  readText: (path) => readFile(path, 'utf8').catch(() => undefined),
  statfs: (path) => statfs(path),
  monotonicMs: () => performance.now(),
};

/** CPU time counters summed over all cores, for usage between two samples. */
export interface CpuTimes {
  readonly idle: number;
  readonly total: number;
}

export function readCpuTimes(cpus: readonly Pick<os.CpuInfo, 'times'>[]): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const { times } of cpus) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { idle, total };
}

/** Busy share of CPU time between two samples, in percent (0 when no time passed). */
export function cpuUsagePercent(previous: CpuTimes, current: CpuTimes): number {
  const total = current.total - previous.total;
  if (total <= 0) return 0;
  const busy = total - (current.idle - previous.idle);
  return round2(clampPercent((busy / total) * 100));
}

/**
 * Memory in use, in percent: total minus what is available. `MemAvailable` from `/proc/meminfo`
 * counts reclaimable page cache as available, which `os.freemem()` does not on older Node/Linux;
 * without it (other systems, kernels before 3.14) `freeBytes` is used.
 */
export function memoryUsagePercent(totalBytes: number, freeBytes: number, meminfo?: string): number {
  const fields = meminfo ? parseMeminfo(meminfo) : undefined;
  const fromProc = fields?.has('MemTotal') && fields.has('MemAvailable');
  const total = (fromProc ? fields?.get('MemTotal') : undefined) ?? totalBytes;
  const available = (fromProc ? fields?.get('MemAvailable') : undefined) ?? freeBytes;
  if (total <= 0) return 0;
  return round2(clampPercent(((total - available) / total) * 100));
}

/** `/proc/meminfo` as bytes per field (`MemTotal: 16314536 kB` → 16706084864). */
export function parseMeminfo(text: string): Map<string, number> {
  const fields = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([\w()]+):\s+(\d+)(\s+kB)?\s*$/.exec(line);
    if (match?.[1] && match[2]) fields.set(match[1], Number(match[2]) * (match[3] ? 1024 : 1));
  }
  return fields;
}

/** Cumulative received and transmitted bytes of one interface. */
export interface InterfaceCounters {
  readonly rx: number;
  readonly tx: number;
}

/** `/proc/net/dev` as byte counters per interface, without the loopback. */
export function parseNetDev(text: string): Map<string, InterfaceCounters> {
  const counters = new Map<string, InterfaceCounters>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    // Header lines ("Inter-|   Receive …", " face |bytes …") contain '|' and no counters.
    if (!name || name.includes('|') || name === 'lo') continue;
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    // Receive: bytes packets errs drop fifo frame compressed multicast; Transmit: bytes …
    const rx = fields[0];
    const tx = fields[8];
    if (rx === undefined || tx === undefined || !Number.isFinite(rx) || !Number.isFinite(tx)) continue;
    counters.set(name, { rx, tx });
  }
  return counters;
}

/** Bytes per second of one interface between two samples. */
export interface InterfaceRate {
  readonly interface: string;
  readonly rxBytesPerSecond: number;
  readonly txBytesPerSecond: number;
}

/**
 * Per-interface byte rates between two samples. An interface whose counter went backwards (the
 * counter wrapped, the interface was re-created or the driver reset it) or that is new is left out
 * of this round rather than reported with a negative or made-up rate; the next round has a baseline.
 */
export function networkRates(
  previous: ReadonlyMap<string, InterfaceCounters>,
  current: ReadonlyMap<string, InterfaceCounters>,
  elapsedMs: number,
): InterfaceRate[] {
  if (elapsedMs <= 0) return [];
  const rates: InterfaceRate[] = [];
  for (const [name, now] of current) {
    const before = previous.get(name);
    if (!before || now.rx < before.rx || now.tx < before.tx) continue;
    rates.push({
      interface: name,
      rxBytesPerSecond: round2(((now.rx - before.rx) * 1000) / elapsedMs),
      txBytesPerSecond: round2(((now.tx - before.tx) * 1000) / elapsedMs),
    });
  }
  return rates;
}

/**
 * Disk usage like `df`: used over what an unprivileged user could use (blocks reserved for root
 * count neither as used nor as available), and the bytes still available to such a user.
 */
export function diskUsage(stats: FsStats): { usagePercent: number; freeBytes: number } {
  const used = stats.blocks - stats.bfree;
  const usable = used + stats.bavail;
  return {
    usagePercent: usable > 0 ? round2(clampPercent((used / usable) * 100)) : 0,
    freeBytes: stats.bavail * stats.bsize,
  };
}

export interface CollectorOptions {
  readonly groups: readonly MetricGroup[];
  /** Labels on every point; `host` is expected among them. */
  readonly labels: Readonly<Record<string, string>>;
  /** Mount points whose file systems `disk_usage` and `disk_free_bytes` describe. */
  readonly diskPaths: readonly string[];
  readonly readers?: Partial<SystemReaders>;
  /** Problems reading one source (one line each, logged once per source until it recovers). */
  readonly log?: (line: string) => void;
}

/** Samples the machine; CPU and network are deltas since the previous sample (or since creation). */
export interface Collector {
  sample(timestamp: number): Promise<MetricPoint[]>;
}

/**
 * Creates a collector and takes the CPU and network baselines, so the first sample already has
 * rates. A source that fails (a missing mount, no `/proc`) is skipped; the others still report.
 */
export async function createCollector(options: CollectorOptions): Promise<Collector> {
  const readers: SystemReaders = { ...systemReaders, ...options.readers };
  const groups = new Set(options.groups);
  const log = options.log ?? (() => {});
  const failing = new Set<string>();
  const isLinux = readers.platform === 'linux';

  const attempt = async <T>(source: string, read: () => Promise<T>): Promise<T | undefined> => {
    try {
      const value = await read();
      failing.delete(source);
      return value;
    } catch (error) {
      if (!failing.has(source))
        log(`agent: cannot read ${source} (${(error as Error).message}); skipping it`);
      failing.add(source);
      return undefined;
    }
  };
  const readNetDev = async () => {
    if (!isLinux) return undefined;
    const text = await readers.readText('/proc/net/dev');
    return text === undefined ? undefined : parseNetDev(text);
  };

  let cpu = readCpuTimes(readers.cpus());
  let network = groups.has('network') ? await readNetDev() : undefined;
  let networkAt = readers.monotonicMs();

  return {
    async sample(timestamp) {
      const points: MetricPoint[] = [];
      const add = (name: string, value: number, extra?: Record<string, string>) => {
        if (Number.isFinite(value))
          points.push({
            name,
            value,
            timestamp,
            labels: extra ? { ...options.labels, ...extra } : options.labels,
          });
      };

      if (groups.has('cpu')) {
        const current = readCpuTimes(readers.cpus());
        add('cpu_usage', cpuUsagePercent(cpu, current));
        cpu = current;
      }
      if (groups.has('memory')) {
        const meminfo = isLinux ? await readers.readText('/proc/meminfo') : undefined;
        add('memory_usage', memoryUsagePercent(readers.totalmem(), readers.freemem(), meminfo));
      }
      if (groups.has('load')) {
        const [load1 = 0, load5 = 0, load15 = 0] = readers.loadavg();
        add('load_avg_1m', round2(load1));
        add('load_avg_5m', round2(load5));
        add('load_avg_15m', round2(load15));
      }
      if (groups.has('disk')) {
        for (const mount of options.diskPaths) {
          const stats = await attempt(`disk ${mount}`, () => readers.statfs(mount));
          if (!stats) continue;
          const { usagePercent, freeBytes } = diskUsage(stats);
          add('disk_usage', usagePercent, { mount });
          add('disk_free_bytes', freeBytes, { mount });
        }
      }
      if (groups.has('network')) {
        const current = await readNetDev();
        const at = readers.monotonicMs();
        if (current && network) {
          for (const rate of networkRates(network, current, at - networkAt)) {
            add('network_rx_bytes_per_second', rate.rxBytesPerSecond, { interface: rate.interface });
            add('network_tx_bytes_per_second', rate.txBytesPerSecond, { interface: rate.interface });
          }
        }
        network = current;
        networkAt = at;
      }
      if (groups.has('uptime')) add('uptime_seconds', Math.round(readers.uptime()));
      return points;
    },
  };
}

const clampPercent = (value: number) => Math.min(100, Math.max(0, value));
const round2 = (value: number) => Math.round(value * 100) / 100;
