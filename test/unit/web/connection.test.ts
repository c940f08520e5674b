import { beforeEach, describe, expect, it } from 'vitest';
import {
  type BackoffPolicy,
  backoffDelay,
  type Connection,
  type ConnectionOptions,
  type ConnectionStatus,
  createConnection,
} from '../../../web/src/connection';
import type { ServerMessage } from '../../../web/src/messages';
import { FakeSocket, ManualScheduler, seededRandom } from './fakes';

const URL = 'ws://127.0.0.1:3000/ws';
const SUBSCRIBE = JSON.stringify({ action: 'subscribe', channels: ['system_metrics'] });
const POLICY: BackoffPolicy = { baseMs: 500, maxMs: 30_000 };
const ALMOST_ONE = () => 0.999_999;
const METRICS_FRAME = {
  type: 'system_metrics',
  payload: {
    timestamp: '2026-11-24T06:00:00.000Z',
    host: 'web-1',
    cpu_usage: 1,
    memory_usage: 2,
    load_avg_1m: 0,
  },
};

function harness(overrides: Partial<ConnectionOptions> = {}) {
  const scheduler = new ManualScheduler();
  const statuses: ConnectionStatus[] = [];
  const messages: ServerMessage[] = [];
  const rejected: string[] = [];
  const connection = createConnection({
    url: URL,
    channels: ['system_metrics'],
    WebSocket: FakeSocket,
    scheduler,
    random: seededRandom(42),
    backoff: POLICY,
    onMessage: (message) => messages.push(message),
    onStatus: (status) => statuses.push(status),
    onRejected: (rejection) => rejected.push(rejection.reason),
    ...overrides,
  });
  return { connection, scheduler, statuses, messages, rejected };
}

/** Lets the current socket fail and fires the scheduled reconnect (and nothing later). */
function failAndRetry(scheduler: ManualScheduler, connection: Connection) {
  FakeSocket.latest().serverCloses();
  scheduler.advance(connection.status.retryInMs ?? Number.NaN);
}

beforeEach(() => FakeSocket.reset());

describe('backoffDelay', () => {
  it('doubles the ceiling per failure until the cap', () => {
    // Prepare
    const failures = [0, 1, 2, 3, 4, 5, 6, 7, 10, 50];

    // Act
    const delays = failures.map((failure) => backoffDelay(failure, ALMOST_ONE, POLICY));

    // Assess
    expect(delays).toEqual([499, 999, 1999, 3999, 7999, 15_999, 29_999, 29_999, 29_999, 29_999]);
  });

  it('draws every delay uniformly below the ceiling (full jitter)', () => {
    const random = seededRandom(7);

    const draws = Array.from({ length: 1_000 }, (_, i) => {
      const failure = i % 10;
      return { delay: backoffDelay(failure, random, POLICY), ceiling: Math.min(30_000, 500 * 2 ** failure) };
    });

    for (const { delay, ceiling } of draws) {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(ceiling);
    }
    const capped = draws.filter((d) => d.ceiling === 30_000).map((d) => d.delay);
    expect(Math.min(...capped)).toBeLessThan(10_000);
    expect(Math.max(...capped)).toBeGreaterThan(20_000);
  });

  it('returns zero when random returns zero', () => {
    expect(backoffDelay(5, () => 0, POLICY)).toBe(0);
  });
});

describe('createConnection', () => {
  it('does nothing until started, then connects to the configured URL', () => {
    const { connection, statuses } = harness();

    expect(FakeSocket.instances).toHaveLength(0);
    connection.start();

    expect(FakeSocket.latest().url).toBe(URL);
    expect(statuses).toEqual([{ state: 'connecting', failures: 0, retryInMs: null }]);
  });

  it('subscribes as soon as the socket opens', () => {
    const { connection, statuses } = harness();
    connection.start();

    FakeSocket.latest().serverOpens();

    expect(connection.status.state).toBe('open');
    expect(statuses.at(-1)).toEqual({ state: 'open', failures: 0, retryInMs: null });
    expect(FakeSocket.latest().sent).toEqual([SUBSCRIBE]);
  });

  it('pings while open, so an idle dashboard stays inside the 10-minute idle timeout', () => {
    const { connection, scheduler } = harness({ keepAliveMs: 1000 });
    connection.start();
    FakeSocket.latest().serverOpens();

    scheduler.advance(2500);

    expect(FakeSocket.latest().sent).toEqual([SUBSCRIBE, '{"action":"ping"}', '{"action":"ping"}']);
  });

  it('stops pinging a socket that closed, and after close()', () => {
    const { connection, scheduler } = harness({ keepAliveMs: 1000 });
    connection.start();
    const first = FakeSocket.latest();
    first.serverOpens();
    first.serverCloses();

    scheduler.advance(5000);
    connection.close();
    const sentAfterClose = FakeSocket.latest().sent.length;
    scheduler.advance(5000);

    expect(first.sent).toEqual([SUBSCRIBE]);
    expect(FakeSocket.latest().sent.length).toBe(sentAfterClose);
  });

  it('reconnects after an unexpected close and subscribes again on the new socket', () => {
    // Prepare
    const { connection, scheduler } = harness();
    connection.start();
    const first = FakeSocket.latest();
    first.serverOpens();
    first.serverSends(METRICS_FRAME);

    // Act
    first.serverCloses();
    const waiting = connection.status;
    scheduler.advance(waiting.retryInMs ?? Number.NaN);
    const second = FakeSocket.latest();
    second.serverOpens();

    // Assess
    expect(waiting.state).toBe('closed');
    expect(waiting.failures).toBe(1);
    expect(waiting.retryInMs).toBeGreaterThanOrEqual(0);
    expect(waiting.retryInMs).toBeLessThan(POLICY.baseMs);
    expect(second).not.toBe(first);
    expect(second.sent).toEqual([SUBSCRIBE]);
    expect(connection.status.state).toBe('open');
  });

  it('waits the drawn delay before reconnecting, not less', () => {
    const { connection, scheduler } = harness({ random: ALMOST_ONE });
    connection.start();

    FakeSocket.latest().serverCloses();
    scheduler.advance(498);
    const before = FakeSocket.instances.length;
    scheduler.advance(1);

    expect(before).toBe(1);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('grows the retry delay with each consecutive failure up to the cap', () => {
    const { connection, scheduler, statuses } = harness({ random: ALMOST_ONE });
    connection.start();

    for (let i = 0; i < 9; i++) failAndRetry(scheduler, connection);

    const delays = statuses.filter((s) => s.state === 'closed').map((s) => s.retryInMs);
    expect(delays).toEqual([499, 999, 1999, 3999, 7999, 15_999, 29_999, 29_999, 29_999]);
  });

  it('keeps backing off when the server accepts and drops connections without sending anything', () => {
    const { connection, scheduler } = harness();
    connection.start();

    for (let i = 0; i < 3; i++) {
      FakeSocket.latest().serverOpens();
      failAndRetry(scheduler, connection);
    }

    expect(connection.status.failures).toBe(3);
  });

  it('resets the backoff once a valid message proves the connection healthy', () => {
    const { connection, scheduler } = harness();
    connection.start();
    failAndRetry(scheduler, connection);
    failAndRetry(scheduler, connection);
    FakeSocket.latest().serverOpens();

    FakeSocket.latest().serverSends(METRICS_FRAME);
    const healthy = connection.status.failures;
    FakeSocket.latest().serverCloses();

    expect(healthy).toBe(0);
    expect(connection.status).toMatchObject({ state: 'closed', failures: 1 });
    expect(connection.status.retryInMs).toBeLessThan(POLICY.baseMs);
  });

  it('abandons a socket that does not open within the connect timeout and retries', () => {
    const { connection, scheduler } = harness({ connectTimeoutMs: 5_000 });
    connection.start();
    const stuck = FakeSocket.latest();

    scheduler.advance(5_000);

    expect(stuck.closedByClient).not.toBeNull();
    expect(connection.status).toMatchObject({ state: 'closed', failures: 1 });
  });

  it('ignores events from a socket it has abandoned', () => {
    const { connection, scheduler, messages } = harness({ connectTimeoutMs: 5_000 });
    connection.start();
    const stuck = FakeSocket.latest();
    scheduler.advance(5_000);

    stuck.serverOpens();
    stuck.serverSends(METRICS_FRAME);
    stuck.serverCloses();

    expect(stuck.sent).toEqual([]);
    expect(messages).toEqual([]);
    expect(connection.status).toMatchObject({ state: 'closed', failures: 1 });
  });

  it('counts an error followed by a close as one failure', () => {
    const { connection } = harness();
    connection.start();

    FakeSocket.latest().serverCloses();

    expect(connection.status.failures).toBe(1);
  });

  it('retries after an error that is never followed by a close', () => {
    const { connection, scheduler } = harness();
    connection.start();

    FakeSocket.latest().serverErrors();
    scheduler.advance(connection.status.retryInMs ?? Number.NaN);

    expect(FakeSocket.instances).toHaveLength(2);
    expect(connection.status).toMatchObject({ state: 'connecting', failures: 1 });
  });

  it('schedules a retry when the WebSocket constructor throws', () => {
    class ThrowingSocket extends FakeSocket {
      constructor(url: string) {
        super(url);
        throw new SyntaxError('bad url');
      }
    }
    const { connection, scheduler } = harness({ WebSocket: ThrowingSocket });

    connection.start();

    expect(connection.status).toMatchObject({ state: 'closed', failures: 1 });
    expect(scheduler.pending).toBe(1);
  });

  it('delivers valid messages, reports junk, and ignores unknown types silently', () => {
    const { connection, messages, rejected } = harness();
    connection.start();
    const socket = FakeSocket.latest();
    socket.serverOpens();

    socket.serverSends(METRICS_FRAME);
    socket.serverSends('not json');
    socket.serverSends({ type: 'system_metrics', payload: { host: 'web-1' } });
    socket.serverSends({ type: 'alert', payload: {} });

    expect(messages).toEqual([METRICS_FRAME]);
    expect(rejected).toEqual(['invalid-json', 'invalid-payload']);
  });

  it('never reconnects after close()', () => {
    // Prepare
    const { connection, scheduler } = harness();
    connection.start();
    const socket = FakeSocket.latest();
    socket.serverOpens();

    // Act
    connection.close();
    socket.serverCloses(1000);
    scheduler.advance(10 * 60_000);

    // Assess
    expect(socket.closedByClient).toEqual({ code: 1000, reason: 'client closing' });
    expect(FakeSocket.instances).toHaveLength(1);
    expect(scheduler.pending).toBe(0);
    expect(connection.status).toEqual({ state: 'closed', failures: 0, retryInMs: null });
  });

  it('cancels a scheduled reconnect when closed while waiting', () => {
    const { connection, scheduler } = harness();
    connection.start();
    FakeSocket.latest().serverCloses();

    connection.close();
    scheduler.advance(10 * 60_000);

    expect(FakeSocket.instances).toHaveLength(1);
    expect(connection.status.retryInMs).toBeNull();
  });

  it('cannot be restarted after close()', () => {
    const { connection } = harness();
    connection.start();
    connection.close();

    connection.start();

    expect(FakeSocket.instances).toHaveLength(1);
  });
});
