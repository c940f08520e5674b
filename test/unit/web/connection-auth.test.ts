import { beforeEach, describe, expect, it } from 'vitest';
import { type ConnectionOptions, createConnection } from '../../../web/src/connection';
import { FakeSocket, ManualScheduler, seededRandom } from './fakes';

/** A FakeSocket that also records the subprotocols it was offered. */
class ProtocolSocket extends FakeSocket {
  constructor(
    url: string,
    readonly protocols?: string[],
  ) {
    super(url);
  }
}

const latest = () => FakeSocket.latest() as ProtocolSocket;

function harness(overrides: Partial<ConnectionOptions> = {}) {
  const scheduler = new ManualScheduler();
  let openFailures = 0;
  const connection = createConnection({
    url: 'wss://ws.example/dev',
    protocols: ['pulseboard', 'eyJ.a.b'],
    channels: ['system_metrics'],
    WebSocket: ProtocolSocket,
    scheduler,
    random: seededRandom(3),
    onMessage: () => {},
    onStatus: () => {},
    onOpenFailed: () => openFailures++,
    ...overrides,
  });
  return { connection, scheduler, openFailures: () => openFailures };
}

beforeEach(() => FakeSocket.reset());

describe('createConnection with credentials', () => {
  it('offers the token as a subprotocol next to "pulseboard", never in the URL', () => {
    const { connection } = harness();

    connection.start();

    expect(latest().protocols).toEqual(['pulseboard', 'eyJ.a.b']);
    expect(latest().url).toBe('wss://ws.example/dev');
  });

  it('offers the subprotocols again on every reconnect', () => {
    const { connection, scheduler } = harness();
    connection.start();

    latest().serverCloses();
    scheduler.advance(connection.status.retryInMs ?? Number.NaN);

    expect(FakeSocket.instances).toHaveLength(2);
    expect(latest().protocols).toEqual(['pulseboard', 'eyJ.a.b']);
  });

  it('offers no subprotocol when given none', () => {
    const { connection } = harness({ protocols: undefined });

    connection.start();

    expect(latest().protocols).toBeUndefined();
  });

  it('reports a socket that failed before opening (a refused handshake looks like this)', () => {
    const { connection, openFailures } = harness();
    connection.start();

    latest().serverCloses();

    expect(openFailures()).toBe(1);
    expect(connection.status).toMatchObject({ state: 'closed', failures: 1 });
  });

  it('reports a socket that never opened within the connect timeout', () => {
    const { connection, scheduler, openFailures } = harness({ connectTimeoutMs: 5_000 });
    connection.start();

    scheduler.advance(5_000);

    expect(openFailures()).toBe(1);
  });

  it('does not report a socket that opened and later closed', () => {
    const { connection, openFailures } = harness();
    connection.start();
    latest().serverOpens();

    latest().serverCloses(1001);

    expect(openFailures()).toBe(0);
    expect(connection.status.state).toBe('closed');
  });

  it('stops reconnecting when the listener closes the connection (the session is over)', () => {
    // Prepare
    const scheduler = new ManualScheduler();
    const connection = createConnection({
      url: 'wss://ws.example/dev',
      protocols: ['pulseboard', 'expired'],
      channels: ['system_metrics'],
      WebSocket: ProtocolSocket,
      scheduler,
      random: seededRandom(3),
      onMessage: () => {},
      onStatus: () => {},
      onOpenFailed: () => connection.close(),
    });
    connection.start();

    // Act
    latest().serverCloses();
    scheduler.advance(10 * 60_000);

    // Assess
    expect(FakeSocket.instances).toHaveLength(1);
    expect(scheduler.pending).toBe(0);
    expect(connection.status).toMatchObject({ state: 'closed', retryInMs: null });
  });
});
