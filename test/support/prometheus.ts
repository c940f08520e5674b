import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../local/ports';
import { waitFor } from './clients';

/** Debian's `prometheus` package (2.42); `.ci/run` installs it. */
export const PROMETHEUS_BIN = '/usr/bin/prometheus';

/** A scrape target served from the test process: gauges in Prometheus's text exposition format. */
export interface MetricsTarget {
  /** `host:port`, as a static scrape target. */
  readonly address: string;
  set(name: string, value: number): void;
  stop(): Promise<void>;
}

/** Serves `/metrics` on loopback with the gauges given to `set`. */
export async function startMetricsTarget(): Promise<MetricsTarget> {
  const gauges = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    const body = [...gauges].map(([name, value]) => `# TYPE ${name} gauge\n${name} ${value}\n`).join('');
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    set: (name, value) => {
      gauges.set(name, value);
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export interface PrometheusOptions {
  /** `host:port` of each target, scraped as job `app` every second. */
  readonly targets: readonly string[];
  /** The rules file's `groups`, evaluated every second. */
  readonly ruleGroups: readonly unknown[];
  /** Where to send alerts: an Alertmanager API base URL (a path in it becomes `path_prefix`). */
  readonly alertmanagerUrl: string;
  /** Sent as `Authorization: Bearer <credentials>`. */
  readonly credentials: string;
}

export interface RunningPrometheus {
  readonly url: string;
  /** The prometheus.yml it runs with, as an object. */
  readonly config: Record<string, unknown>;
  stop(): Promise<void>;
}

/**
 * The `alerting` section of prometheus.yml that points Prometheus at an Alertmanager API base URL
 * with a bearer token: Prometheus posts to `<scheme>://<target><path_prefix>/api/v2/alerts`.
 */
export function alertingConfig(alertmanagerUrl: string, credentials: string) {
  const url = new URL(alertmanagerUrl);
  const prefix = url.pathname.replace(/\/+$/, '');
  return {
    alertmanagers: [
      {
        scheme: url.protocol.slice(0, -1),
        ...(prefix ? { path_prefix: prefix } : {}),
        authorization: { type: 'Bearer', credentials },
        static_configs: [{ targets: [url.host] }],
      },
    ],
  };
}

/**
 * Runs Prometheus on loopback (config and rules as JSON, which YAML accepts), and waits until it
 * is ready, has discovered the Alertmanager and has scraped every target once: discovery updates
 * reach the scrape and notifier managers only every 5 s.
 */
export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const dir = await mkdtemp(path.join(tmpdir(), 'prometheus-'));
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: [path.join(dir, 'rules.yml')],
    scrape_configs: [{ job_name: 'app', static_configs: [{ targets: options.targets }] }],
    alerting: alertingConfig(options.alertmanagerUrl, options.credentials),
  };
  await writeFile(path.join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
  await writeFile(path.join(dir, 'rules.yml'), JSON.stringify({ groups: options.ruleGroups }, null, 2));

  let child: ChildProcess | undefined;
  let url = '';
  let stderr = '';
  // freePort's port may be taken before Prometheus binds it: try another one then.
  for (let attempt = 1; attempt <= 3 && !child; attempt++) {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    stderr = '';
    const started = spawn(
      PROMETHEUS_BIN,
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    started.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    let exited = false;
    started.once('exit', () => {
      exited = true;
    });
    try {
      await waitFor(
        async () => exited || (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok === true,
        'Prometheus ready',
        30_000,
      );
    } catch (error) {
      started.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
      throw new Error(`Prometheus did not start: ${(error as Error).message}\n${stderr}`);
    }
    if (!exited) child = started;
  }
  if (!child) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`Prometheus exited at start three times:\n${stderr}`);
  }
  const running = child;
  const stop = async () => {
    if (running.exitCode === null && running.signalCode === null) {
      const exited = once(running, 'exit');
      running.kill('SIGTERM');
      const timer = setTimeout(() => running.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const api = async <T>(what: string): Promise<T> =>
      ((await (await fetch(`${url}/api/v1/${what}`)).json()) as { data: T }).data;
    await waitFor(
      async () =>
        (await api<{ activeAlertmanagers: unknown[] }>('alertmanagers')).activeAlertmanagers.length > 0,
      'Prometheus to discover the Alertmanager',
      30_000,
    );
    await waitFor(
      async () => {
        const { activeTargets } = await api<{ activeTargets: { health: string }[] }>('targets');
        return (
          activeTargets.length === options.targets.length && activeTargets.every((t) => t.health === 'up')
        );
      },
      'Prometheus to scrape its targets',
      30_000,
    );
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  return { url, config, stop };
}
