import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime';
import { postJson, RecordingSocket, waitFor } from '../support/clients';
import { startTestRuntime } from '../support/runtime';

interface WirePoint {
  name: string;
  labels: Record<string, string>;
  timestamp: number;
  value: number;
}

const T0 = Date.parse('2026-11-24T06:00:00.000Z');

describe('live metric channels through the local runtime', () => {
  let runtime: LocalRuntime;
  let api: string;
  const sockets: RecordingSocket[] = [];

  /** Opens a socket and subscribes it, resolving once the subscription is acknowledged. */
  const subscribed = async (...channels: string[]) => {
    const socket = await RecordingSocket.open(runtime.urls.WebSocketUrl);
    sockets.push(socket);
    socket.send({ action: 'subscribe', channels });
    const ack = await socket.next('subscribed', 0);
    expect(ack.payload).toEqual({ channels });
    return socket;
  };
  const pointsOf = (socket: RecordingSocket) =>
    socket.ofType('metrics').map((m) => (m.payload as { points: WirePoint[] }).points);
  /** Waits for a `metrics` message holding a point labelled with this run's sentinel. */
  const sentinelReached = (socket: RecordingSocket, sentinel: string) =>
    waitFor(
      () => pointsOf(socket).some((points) => points.some((p) => p.labels.run === sentinel)),
      `the sentinel batch to reach a socket`,
    );

  beforeAll(async () => {
    runtime = await startTestRuntime();
    api = runtime.urls.HttpApiUrl;
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await runtime?.stop();
  });

  it('sends each client one message per batch with just the points its channels match', async () => {
    const a = await subscribed('metrics:cpu_usage{host="web-1"}');
    const b = await subscribed('metrics:cpu_usage');
    const c = await subscribed('metrics:mem_usage');
    const run = randomUUID();
    const sentinel = `sentinel-${run}`;
    const batch: { name: string; value: number; timestamp?: number; labels: Record<string, string> }[] = [
      ...Array.from({ length: 45 }, (_, i) => ({
        name: 'cpu_usage',
        value: i,
        timestamp: T0 + i * 1000,
        labels: { host: `web-${(i % 3) + 1}`, run },
      })),
      ...Array.from({ length: 5 }, (_, i) => ({ name: 'requests_total', value: i, labels: { run } })),
    ];

    const accepted = await postJson(`${api}/api/metrics`, { metrics: batch });
    // A second batch that reaches every client: what each got before it is all it got from the first.
    await postJson(`${api}/api/metrics`, {
      metrics: [
        { name: 'cpu_usage', value: -1, timestamp: T0, labels: { host: 'web-1', run: sentinel } },
        { name: 'mem_usage', value: -1, timestamp: T0, labels: { host: 'web-1', run: sentinel } },
      ],
    });
    await Promise.all([a, b, c].map((socket) => sentinelReached(socket, sentinel)));

    const fromFirstBatch = (socket: RecordingSocket) =>
      pointsOf(socket).filter((points) => points.some((p) => p.labels.run === run));
    const cpu = batch.filter((p) => p.name === 'cpu_usage');
    expect(accepted).toEqual({ status: 202, body: { accepted: 50 } });
    expect(fromFirstBatch(a)).toEqual([cpu.filter((p) => p.labels.host === 'web-1')]);
    expect(fromFirstBatch(b)).toEqual([cpu]);
    expect(fromFirstBatch(c)).toEqual([]);
    expect(pointsOf(c)).toEqual([
      [{ name: 'mem_usage', value: -1, timestamp: T0, labels: { host: 'web-1', run: sentinel } }],
    ]);
  });

  it('answers a channel with bad grammar with an error envelope naming it, and keeps the connection', async () => {
    const socket = await RecordingSocket.open(runtime.urls.WebSocketUrl);
    sockets.push(socket);

    socket.send({ action: 'subscribe', channels: ['metrics:cpu_usage{host=web-1}'] });
    const error = await socket.next('error', 0);

    expect(error.payload).toEqual({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('Invalid channel "metrics:cpu_usage{host=web-1}"'),
    });
    expect(socket.socket.readyState).toBe(socket.socket.OPEN);
  });

  it('stops sending a metric channel after unsubscribe, spelled differently', async () => {
    const leaving = await subscribed('metrics:cpu_usage{host="web-2",run=~"left-.*"}');
    const staying = await subscribed('metrics:cpu_usage{run=~"left-.*"}');
    leaving.send({ action: 'unsubscribe', channels: ['metrics:cpu_usage{ run=~"left-.*", host="web-2" }'] });
    await leaving.next('unsubscribed', 0);
    const run = `left-${randomUUID()}`;

    const sentinelHost = `sentinel-${randomUUID()}`;

    await postJson(`${api}/api/metrics`, {
      metrics: [{ name: 'cpu_usage', value: 3, labels: { host: 'web-2', run } }],
    });
    // The next batch's snapshot reaches `leaving` on system_metrics, after anything the first sent it.
    await postJson(`${api}/api/metrics`, {
      metrics: [{ name: 'cpu_usage', value: 4, labels: { host: sentinelHost } }],
    });
    await waitFor(
      () =>
        pointsOf(staying)
          .flat()
          .some((p) => p.labels.run === run),
      'the staying client',
    );
    await waitFor(
      () =>
        leaving.ofType('system_metrics').some((m) => (m.payload as { host: string }).host === sentinelHost),
      'the sentinel snapshot',
    );

    expect(
      pointsOf(leaving)
        .flat()
        .filter((p) => p.labels.run === run),
    ).toEqual([]);
  });
});
