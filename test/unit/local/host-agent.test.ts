import { describe, expect, it } from 'vitest';
import { cpuUsagePercent, hostMetrics, readCpuTimes } from '../../../local/host-agent';

const cpu = (user: number, idle: number) => ({
  model: 'x',
  speed: 1,
  times: { user, nice: 0, sys: 0, idle, irq: 0 },
});

describe('host agent sampling', () => {
  it('computes CPU usage from the busy share of time between two samples, over all cores', () => {
    const before = readCpuTimes([cpu(100, 900), cpu(100, 900)]);
    const after = readCpuTimes([cpu(400, 1600), cpu(100, 1900)]);

    expect(cpuUsagePercent(before, after)).toBe(15);
  });

  it('reports zero rather than NaN when no time has passed', () => {
    const sample = readCpuTimes([cpu(1, 1)]);

    expect(cpuUsagePercent(sample, sample)).toBe(0);
  });

  it('labels every metric with the host and stamps them with one time', () => {
    const batch = hostMetrics(12.5, 'web-1', 1_700_000_000_000);

    expect(batch.metrics.map((m) => m.name)).toEqual([
      'cpu_usage',
      'memory_usage',
      'load_avg_1m',
      'load_avg_5m',
      'load_avg_15m',
      'uptime_seconds',
    ]);
    expect(batch.metrics.every((m) => m.labels.host === 'web-1' && m.timestamp === 1_700_000_000_000)).toBe(
      true,
    );
    const memory = batch.metrics[1]?.value ?? -1;
    expect(memory).toBeGreaterThan(0);
    expect(memory).toBeLessThanOrEqual(100);
  });
});
