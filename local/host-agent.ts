import * as os from 'node:os';

/** CPU time counters summed over all cores, for usage between two samples. */
export interface CpuTimes {
  readonly idle: number;
  readonly total: number;
}

export function readCpuTimes(cpus: readonly os.CpuInfo[] = os.cpus()): CpuTimes {
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
  return round2(Math.min(100, Math.max(0, (busy / total) * 100)));
}

/** One batch of this host's system metrics in the native ingest shape. */
export function hostMetrics(cpuUsage: number, host: string, now: number) {
  const [load1 = 0, load5 = 0, load15 = 0] = os.loadavg();
  const memoryUsage = round2(((os.totalmem() - os.freemem()) / os.totalmem()) * 100);
  const labels = { host };
  return {
    metrics: [
      { name: 'cpu_usage', value: cpuUsage, timestamp: now, labels },
      { name: 'memory_usage', value: memoryUsage, timestamp: now, labels },
      { name: 'load_avg_1m', value: round2(load1), timestamp: now, labels },
      { name: 'load_avg_5m', value: round2(load5), timestamp: now, labels },
      { name: 'load_avg_15m', value: round2(load15), timestamp: now, labels },
      { name: 'uptime_seconds', value: Math.round(os.uptime()), timestamp: now, labels },
    ],
  };
}

export interface HostAgentOptions {
  /** The HTTP API base URL; the agent posts to `${httpApiUrl}/api/metrics` like any client. */
  readonly httpApiUrl: string;
  readonly intervalMs?: number;
  readonly host?: string;
  readonly log?: (line: string) => void;
}

/**
 * Pushes this machine's CPU, memory, load and uptime to the ingest route every few seconds, through
 * the public HTTP API. An outage is reported once when it starts and once when it ends.
 */
export function startHostAgent(options: HostAgentOptions): { stop(): void } {
  const intervalMs = options.intervalMs ?? 2000;
  const host = options.host ?? os.hostname();
  const log = options.log ?? ((line) => console.error(line));
  let previous = readCpuTimes();
  let failing = false;

  const tick = async () => {
    const current = readCpuTimes();
    const body = hostMetrics(cpuUsagePercent(previous, current), host, Date.now());
    previous = current;
    try {
      const response = await fetch(`${options.httpApiUrl}/api/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`);
      if (failing) log('agent: ingest is reachable again');
      failing = false;
    } catch (error) {
      if (!failing)
        log(`agent: could not push metrics (${(error as Error).message}); retrying every ${intervalMs} ms`);
      failing = true;
    }
  };

  const timer = setInterval(() => void tick(), intervalMs);
  void tick();
  return { stop: () => clearInterval(timer) };
}

const round2 = (value: number) => Math.round(value * 100) / 100;
