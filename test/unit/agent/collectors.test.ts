import { describe, expect, it } from 'vitest';
import {
  type CollectorOptions,
  cpuUsagePercent,
  createCollector,
  diskUsage,
  type FsStats,
  memoryUsagePercent,
  networkRates,
  parseMeminfo,
  parseNetDev,
  readCpuTimes,
  type SystemReaders,
} from '../../../agent/collectors';

const cpu = (user: number, idle: number) => ({ times: { user, nice: 0, sys: 0, idle, irq: 0 } });

const MEMINFO = `MemTotal:        8000000 kB
MemFree:          500000 kB
MemAvailable:    6000000 kB
Buffers:          100000 kB
Active(anon):     123456 kB
HugePages_Total:       0
`;

const netDev = (
  eth0: [number, number],
  extra = '',
) => `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 9999999   12000    0    0    0     0          0         0  9999999   12000    0    0    0     0       0          0
  eth0: ${eth0[0]}  3000    0    0    0     0          0         0 ${eth0[1]}   2000    0    0    0     0       0          0
${extra}`;

/** A machine whose readings the test scripts, one value per sample. */
function fakeMachine() {
  const state = {
    cpus: [cpu(100, 900)],
    netDev: netDev([1000, 500]) as string | undefined,
    meminfo: MEMINFO as string | undefined,
    clock: 0,
    statfs: new Map<string, FsStats>([['/', { bsize: 4096, blocks: 1000, bfree: 400, bavail: 300 }]]),
  };
  const readers: Partial<SystemReaders> = {
    platform: 'linux',
    cpus: () => state.cpus,
    loadavg: () => [0.5, 0.25, 0.125],
    totalmem: () => 8_192_000_000,
    freemem: () => 1_000_000,
    uptime: () => 1234.4,
    readText: async (path) =>
      path === '/proc/net/dev' ? state.netDev : path === '/proc/meminfo' ? state.meminfo : undefined,
    statfs: async (path) => {
      const stats = state.statfs.get(path);
      if (!stats) throw new Error(`ENOENT: no such file or directory, statfs '${path}'`);
      return stats;
    },
    monotonicMs: () => state.clock,
  };
  return { state, readers };
}

const options = (
  readers: Partial<SystemReaders>,
  extra: Partial<CollectorOptions> = {},
): CollectorOptions => ({
  groups: ['cpu', 'memory', 'load', 'disk', 'network', 'uptime'],
  labels: { host: 'web-1', env: 'test' },
  diskPaths: ['/'],
  readers,
  ...extra,
});

describe('CPU usage', () => {
  it('is the busy share of time between two samples, over all cores', () => {
    const before = readCpuTimes([cpu(100, 900), cpu(100, 900)]);
    const after = readCpuTimes([cpu(400, 1600), cpu(100, 1900)]);

    expect(cpuUsagePercent(before, after)).toBe(15);
  });

  it('is zero rather than NaN when no time has passed', () => {
    const sample = readCpuTimes([cpu(1, 1)]);

    expect(cpuUsagePercent(sample, sample)).toBe(0);
  });
});

describe('memory usage', () => {
  it('counts MemAvailable from /proc/meminfo as available, not just free memory', () => {
    expect(parseMeminfo(MEMINFO).get('MemAvailable')).toBe(6_000_000 * 1024);
    expect(parseMeminfo(MEMINFO).get('Active(anon)')).toBe(123_456 * 1024);
    expect(parseMeminfo(MEMINFO).get('HugePages_Total')).toBe(0);

    expect(memoryUsagePercent(1, 1, MEMINFO)).toBe(25);
  });

  it('falls back to total minus free memory without /proc/meminfo or without MemAvailable', () => {
    expect(memoryUsagePercent(1000, 250)).toBe(75);
    expect(memoryUsagePercent(1000, 250, 'MemTotal: 1 kB\nMemFree: 1 kB\n')).toBe(75);
  });
});

describe('network rates from /proc/net/dev', () => {
  it('reads byte counters per interface, leaving out the loopback', () => {
    const counters = parseNetDev(netDev([1000, 500], '  wlan0: 7 0 0 0 0 0 0 0 8 0 0 0 0 0 0 0\n'));

    expect([...counters]).toEqual([
      ['eth0', { rx: 1000, tx: 500 }],
      ['wlan0', { rx: 7, tx: 8 }],
    ]);
  });

  it('turns counter deltas into bytes per second', () => {
    const before = parseNetDev(netDev([1000, 500]));
    const after = parseNetDev(netDev([6000, 1500]));

    expect(networkRates(before, after, 2000)).toEqual([
      { interface: 'eth0', rxBytesPerSecond: 2500, txBytesPerSecond: 500 },
    ]);
  });

  it('skips an interface whose counter wrapped or was reset instead of reporting a negative rate', () => {
    const before = parseNetDev(netDev([4_294_967_000, 500]));
    const wrapped = parseNetDev(netDev([100, 900]));

    expect(networkRates(before, wrapped, 1000)).toEqual([]);
    expect(networkRates(wrapped, parseNetDev(netDev([300, 1000])), 1000)).toEqual([
      { interface: 'eth0', rxBytesPerSecond: 200, txBytesPerSecond: 100 },
    ]);
  });

  it('reports nothing for a new interface or when no time passed', () => {
    const after = parseNetDev(netDev([1000, 500]));

    expect(networkRates(new Map(), after, 1000)).toEqual([]);
    expect(networkRates(after, after, 0)).toEqual([]);
  });
});

describe('disk usage', () => {
  it('is used over usable space like df, leaving out blocks reserved for root', () => {
    expect(diskUsage({ bsize: 4096, blocks: 1000, bfree: 400, bavail: 300 })).toEqual({
      usagePercent: 66.67,
      freeBytes: 300 * 4096,
    });
  });

  it('is zero for an empty file system', () => {
    expect(diskUsage({ bsize: 4096, blocks: 0, bfree: 0, bavail: 0 }).usagePercent).toBe(0);
  });
});

describe('collector', () => {
  it('labels every point with the host and user labels, stamped with one time', async () => {
    const { state, readers } = fakeMachine();
    const collector = await createCollector(options(readers));
    state.cpus = [cpu(400, 1600)];
    state.netDev = netDev([3000, 1500]);
    state.clock = 1000;

    const points = await collector.sample(1_700_000_000_000);

    expect(points.map((p) => [p.name, p.value, p.labels])).toEqual([
      ['cpu_usage', 30, { host: 'web-1', env: 'test' }],
      ['memory_usage', 25, { host: 'web-1', env: 'test' }],
      ['load_avg_1m', 0.5, { host: 'web-1', env: 'test' }],
      ['load_avg_5m', 0.25, { host: 'web-1', env: 'test' }],
      ['load_avg_15m', 0.13, { host: 'web-1', env: 'test' }],
      ['disk_usage', 66.67, { host: 'web-1', env: 'test', mount: '/' }],
      ['disk_free_bytes', 1_228_800, { host: 'web-1', env: 'test', mount: '/' }],
      ['network_rx_bytes_per_second', 2000, { host: 'web-1', env: 'test', interface: 'eth0' }],
      ['network_tx_bytes_per_second', 1000, { host: 'web-1', env: 'test', interface: 'eth0' }],
      ['uptime_seconds', 1234, { host: 'web-1', env: 'test' }],
    ]);
    expect(points.every((p) => p.timestamp === 1_700_000_000_000)).toBe(true);
  });

  it('collects only the selected groups', async () => {
    const { readers } = fakeMachine();
    const collector = await createCollector(options(readers, { groups: ['load', 'uptime'] }));

    const names = (await collector.sample(1)).map((p) => p.name);

    expect(names).toEqual(['load_avg_1m', 'load_avg_5m', 'load_avg_15m', 'uptime_seconds']);
  });

  it('skips a disk path it cannot read, logging it once, and keeps reporting the others', async () => {
    const { readers } = fakeMachine();
    const lines: string[] = [];
    const collector = await createCollector(
      options(readers, { groups: ['disk'], diskPaths: ['/', '/missing'], log: (line) => lines.push(line) }),
    );

    const first = await collector.sample(1);
    await collector.sample(2);

    expect(first.map((p) => p.labels.mount)).toEqual(['/', '/']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('/missing');
  });

  it('uses os figures and skips network off Linux, where /proc does not exist', async () => {
    const { readers } = fakeMachine();
    const collector = await createCollector(
      options(
        { ...readers, platform: 'darwin', readText: async () => undefined },
        { groups: ['memory', 'network'] },
      ),
    );

    const points = await collector.sample(1);

    expect(points).toEqual([
      { name: 'memory_usage', value: 99.99, timestamp: 1, labels: { host: 'web-1', env: 'test' } },
    ]);
  });
});
