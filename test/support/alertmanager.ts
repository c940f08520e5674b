import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../local/ports';
import { waitFor } from './clients';

/** Debian's `prometheus-alertmanager` package (0.25); `.ci/run` installs it. */
export const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';

/** One webhook notification as a receiver got it, with when it arrived. */
export interface ReceivedNotification {
  readonly at: number;
  readonly body: {
    readonly receiver: string;
    readonly status: 'firing' | 'resolved';
    readonly groupKey: string;
    readonly groupLabels: Record<string, string>;
    readonly alerts: readonly {
      readonly status: string;
      readonly fingerprint: string;
      readonly labels: Record<string, string>;
    }[];
  };
}

export interface RealAlertmanager {
  readonly url: string;
  readonly notifications: ReceivedNotification[];
  stop(): Promise<void>;
}

/**
 * Runs the real Alertmanager on loopback with an alertmanager.yml, rendered with the URL of a
 * webhook into this process (every receiver should post there).
 */
export async function startAlertmanager(render: (webhookUrl: string) => string): Promise<RealAlertmanager> {
  const notifications: ReceivedNotification[] = [];
  const hook: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => {
      text += chunk;
    });
    req.on('end', () => {
      notifications.push({ at: Date.now(), body: JSON.parse(text) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  const dir = await mkdtemp(path.join(tmpdir(), 'alertmanager-'));
  await writeFile(path.join(dir, 'alertmanager.yml'), render(hookUrl));
  const port = await freePort();
  const child: ChildProcess = spawn(
    ALERTMANAGER_BIN,
    [
      `--config.file=${path.join(dir, 'alertmanager.yml')}`,
      `--storage.path=${dir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok === true,
      'Alertmanager ready',
      15_000,
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`Alertmanager did not start: ${(error as Error).message}\n${stderr}`);
  }
  return {
    url,
    notifications,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      await new Promise((resolve) => hook.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** What both implementations must agree on about a notification. */
export function essence(n: ReceivedNotification['body']) {
  return {
    receiver: n.receiver,
    groupKey: n.groupKey,
    status: n.status,
    alerts: n.alerts.map((a) => `${a.fingerprint}:${a.status}`).sort(),
  };
}
