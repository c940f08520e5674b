import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Agent, type AgentOptions, startAgent } from '../../agent/agent';
import { buildAgent } from '../../agent/build';
import type { Batch } from '../../agent/spool';
import { waitFor } from '../support/clients';

interface Received {
  readonly key: string;
  readonly authorization?: string;
  readonly timestamps: readonly number[];
  readonly points: number;
}

/**
 * A stand-in for the ingest route that counts each Idempotency-Key once, like the server will.
 * `up` accepts; `unavailable` answers 503; `closed` stops listening (connections are refused);
 * `loseResponses` stores that many batches but drops the connection before answering.
 */
class RecordingApi {
  readonly accepted: Received[] = [];
  readonly seen = new Set<string>();
  duplicates = 0;
  requests = 0;
  mode: 'up' | 'unavailable' = 'up';
  loseResponses = 0;
  private server: Server;
  private port = 0;

  constructor() {
    this.server = this.createServer();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Stops listening and cuts kept-alive connections, so the agent meets ECONNREFUSED. */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = once(this.server, 'close');
    this.server.close();
    this.server.closeAllConnections();
    await closed;
    this.server = this.createServer();
  }

  private createServer(): Server {
    return createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.requests++;
        if (request.method !== 'POST' || request.url !== '/api/metrics') {
          response.writeHead(404).end();
          return;
        }
        if (this.mode === 'unavailable') {
          response
            .writeHead(503, { 'content-type': 'application/json' })
            .end('{"message":"Service Unavailable"}');
          return;
        }
        const key = String(request.headers['idempotency-key'] ?? '');
        const { metrics } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          metrics: { timestamp: number }[];
        };
        if (this.seen.has(key)) this.duplicates++;
        else {
          this.seen.add(key);
          this.accepted.push({
            key,
            authorization: request.headers.authorization,
            points: metrics.length,
            timestamps: [...new Set(metrics.map((m) => m.timestamp))],
          });
        }
        if (this.loseResponses > 0) {
          this.loseResponses--;
          request.socket.destroy();
          return;
        }
        response.writeHead(202, { 'content-type': 'application/json' }).end(`{"accepted":${metrics.length}}`);
      });
    });
  }
}

describe('host agent through an API outage', () => {
  let api: RecordingApi;
  let spoolDir: string;
  let collected: Batch[];
  const agents: Agent[] = [];

  const start = async (options: Partial<AgentOptions> = {}) => {
    const agent = await startAgent({
      url: api.url,
      intervalMs: 200,
      host: `agent-it-${randomUUID()}`,
      spoolDir,
      backoff: { initialMs: 50, maxMs: 400 },
      catchUpBatchesPerSecond: 20,
      stopTimeoutMs: 2000,
      log: () => {},
      onBatch: (batch) => collected.push(batch),
      ...options,
    });
    agents.push(agent);
    return agent;
  };
  const spooledIds = async () =>
    (await readdir(spoolDir))
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => name.slice(17, -'.json'.length));

  /** Every collected batch was accepted exactly once, in collection order, or is still spooled. */
  const expectNothingLost = async () => {
    const leftover = await spooledIds();
    const delivered = api.accepted.map((batch) => batch.key);
    expect([...delivered, ...leftover]).toEqual(collected.map((batch) => batch.id));
    expect(leftover.length).toBeLessThanOrEqual(2);

    const byId = new Map(collected.map((batch) => [batch.id, batch]));
    for (const received of api.accepted) {
      const batch = byId.get(received.key);
      expect(received.points).toBe(batch?.metrics.length);
      expect(received.timestamps).toEqual([batch?.createdAt]);
    }
    const timestamps = api.accepted.map((batch) => batch.timestamps[0] ?? 0);
    expect(timestamps).toEqual([...timestamps].sort((a, b) => a - b));
    expect(new Set(timestamps).size).toBe(timestamps.length);
  };

  beforeEach(async () => {
    api = new RecordingApi();
    await api.listen();
    spoolDir = await mkdtemp(path.join(os.tmpdir(), 'pulseboard-agent-it-'));
    collected = [];
  });

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((agent) => agent.stop()));
    await api.close();
    await rm(spoolDir, { recursive: true, force: true });
  });

  it('delivers every batch collected during an outage exactly once and in order when the API returns', async () => {
    const agent = await start();
    await waitFor(() => api.accepted.length >= 3, 'three delivered batches');

    api.mode = 'unavailable';
    const collectedBeforeOutage = collected.length;
    await waitFor(
      () => collected.length >= collectedBeforeOutage + 6,
      'six batches collected during the outage',
    );
    expect(agent.pending()).toBeGreaterThanOrEqual(5);

    api.loseResponses = 1;
    api.mode = 'up';
    const target = collected.length;
    await waitFor(
      () => api.accepted.length >= target && agent.pending() <= 1,
      'the agent to catch up',
      20_000,
    );
    await agent.stop();

    await expectNothingLost();
    expect(api.duplicates).toBeGreaterThanOrEqual(1);
    expect(api.accepted.length).toBeGreaterThanOrEqual(target);
  });

  it('delivers what a stopped agent left in the spool once a new agent starts on it', async () => {
    const first = await start();
    await waitFor(() => api.accepted.length >= 2, 'two delivered batches');

    await api.close();
    const collectedBeforeOutage = collected.length;
    await waitFor(
      () => collected.length >= collectedBeforeOutage + 4,
      'four batches collected while refused',
    );
    await first.stop();
    const stranded = await spooledIds();
    expect(stranded.length).toBeGreaterThanOrEqual(4);

    await api.listen();
    const second = await start();
    await waitFor(
      () => stranded.every((id) => api.seen.has(id)) && second.pending() <= 1,
      'the stranded batches to arrive',
      20_000,
    );
    await second.stop();

    await expectNothingLost();
    expect(stranded.every((id) => api.seen.has(id))).toBe(true);
  });
});

describe('pulseboard-agent command, bundled for plain Node', () => {
  let workDir: string;
  let bundle: string;
  let api: RecordingApi;
  const children: ChildProcess[] = [];

  /** Runs the bundle with a clean environment; resolves with its exit code and output. */
  const run = (args: string[], env: Record<string, string> = {}) => {
    const child = spawn(process.execPath, [bundle, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: workDir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }));
    return { child, exited, stderr: () => stderr };
  };

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'pulseboard-agent-cli-'));
    bundle = await buildAgent(path.join(workDir, 'pulseboard-agent.mjs'));
  });
  beforeEach(async () => {
    api = new RecordingApi();
    await api.listen();
  });
  afterEach(async () => {
    await Promise.all(
      children.splice(0).map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }),
    );
    await api.close();
  });
  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('prints its usage and rejects a bad flag with one line and exit code 2', async () => {
    const help = await run(['--help']).exited;
    const bad = await run(['--url', api.url, '--interval', 'often']).exited;

    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: pulseboard-agent --url <HttpApiUrl> [options]');
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')[0]).toBe(
      'pulseboard-agent: --interval must look like 2s, 10s or 1m, got "often"',
    );
  });

  it('with --once sends one batch with the token, or keeps it for the next run when the API is down', async () => {
    const bufferDir = path.join(workDir, `spool-${randomUUID()}`);
    const args = ['--once', '--buffer-dir', bufferDir, '--label', 'env=test'];
    await api.close();

    const offline = await run([...args, '--url', api.url]).exited;
    expect(offline.code).toBe(1);
    expect(offline.stderr).toContain('stay buffered');
    expect(await readdir(bufferDir)).toHaveLength(1);

    await api.listen();
    const online = await run(args, { PULSEBOARD_URL: api.url, PULSEBOARD_TOKEN: 'tok_cli' }).exited;
    expect(online.code).toBe(0);
    expect(api.accepted).toHaveLength(2);
    expect(api.accepted.every((batch) => batch.authorization === 'Bearer tok_cli')).toBe(true);
    expect(api.accepted[0]?.timestamps[0]).toBeLessThan(api.accepted[1]?.timestamps[0] ?? 0);
    expect(await readdir(bufferDir)).toEqual([]);
  });

  it('stops cleanly on SIGTERM', async () => {
    const agent = run(['--url', api.url, '--interval', '1s', '--buffer-dir', path.join(workDir, 'sigterm')]);
    await waitFor(() => api.accepted.length >= 1, 'the first batch from the command');

    agent.child.kill('SIGTERM');
    const { code, stderr } = await agent.exited;

    expect(code).toBe(0);
    expect(stderr).toContain('agent: SIGTERM: stopping');
  });
});
