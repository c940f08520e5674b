import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningGateway } from '../../../local/gateway';
import { localApiId } from '../../../local/intrinsics';
import type { InvokeOutcome } from '../../../local/types';
import { selectRouteKey } from '../../../local/websocket-gateway';
import {
  deferred,
  eventually,
  FakeInvoker,
  ok,
  type RouteSpec,
  startTestGateway,
  webSocketApiResources,
} from './gateway-test-kit';

const CONNECTION_ID = /^[A-Za-z0-9_-]{15}=$/;

let gateway: RunningGateway | undefined;
const clients: WebSocket[] = [];
let release: (() => void) | undefined;
let logged: string[] = [];

afterEach(async () => {
  logged = [];
  release?.();
  release = undefined;
  for (const c of clients.splice(0)) c.terminate();
  await gateway?.close();
  gateway = undefined;
});

const ROUTES: RouteSpec[] = [
  { key: '$connect', fn: 'Connect' },
  { key: '$disconnect', fn: 'Disconnect' },
  { key: '$default', fn: 'Default' },
  { key: 'subscribe', fn: 'Subscribe', returnResponse: true },
  { key: 'ping', fn: 'Ping' },
];

/** A FakeInvoker whose $connect accepts unless the test gives its own. */
function withConnect(functions: ConstructorParameters<typeof FakeInvoker>[0]): FakeInvoker {
  return new FakeInvoker({ Connect: () => ok({ statusCode: 200 }), ...functions });
}

async function start(
  invoker: FakeInvoker,
  routes: RouteSpec[] = ROUTES,
  limits: Record<string, number> = {},
) {
  gateway = await startTestGateway({ Resources: webSocketApiResources(routes) }, invoker, {
    limits,
    log: (m) => logged.push(m),
  });
  return gateway;
}

/** Opens a client and waits for the handshake; rejects with the HTTP status of a refused upgrade. */
function connect(url: string, path = '/ws', headers: Record<string, string> = {}): Promise<WebSocket> {
  const client = new WebSocket(`${url.replace('http', 'ws')}${path}`, { headers });
  clients.push(client);
  return new Promise((resolve, reject) => {
    client.once('open', () => resolve(client));
    client.once('unexpected-response', (req, res) => {
      req.destroy();
      reject(new Error(`status ${res.statusCode}`));
    });
    client.once('error', reject);
  });
}

function nextMessage(client: WebSocket): Promise<string> {
  return new Promise((resolve) => client.once('message', (data) => resolve(data.toString())));
}

function closed(client: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    client.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

describe('WebSocket $connect', () => {
  it('accepts the connection after a 2xx and passes AWS’s connect event', async () => {
    // Prepare
    const invoker = new FakeInvoker({ Connect: () => ok({ statusCode: 200 }) });
    const { url } = await start(invoker);

    // Act
    await connect(url, '/ws?token=abc&tag=a&tag=b', { 'X-Client': 'tests', 'User-Agent': 'ws-test' });

    // Assess
    const event = invoker.of('Connect')[0]?.event;
    expect(event.headers['X-Client']).toBe('tests');
    expect(event.headers['Sec-WebSocket-Version']).toBe('13');
    expect(event.multiValueHeaders['X-Client']).toEqual(['tests']);
    expect(event.queryStringParameters).toEqual({ token: 'abc', tag: 'b' });
    expect(event.multiValueQueryStringParameters).toEqual({ token: ['abc'], tag: ['a', 'b'] });
    expect(event.isBase64Encoded).toBe(false);
    expect(event.requestContext).toMatchObject({
      routeKey: '$connect',
      eventType: 'CONNECT',
      messageDirection: 'IN',
      stage: 'live',
      apiId: localApiId('WsApi'),
      identity: { sourceIp: '127.0.0.1', userAgent: 'ws-test' },
    });
    expect(event.requestContext.connectionId).toMatch(CONNECTION_ID);
    expect(typeof event.requestContext.connectedAt).toBe('number');
    expect(event.requestContext).not.toHaveProperty('messageId');
  });

  it.each([
    ['a non-2xx statusCode', ok({ statusCode: 403 }), 'status 403'],
    [
      'a function error',
      { kind: 'error', errorType: 'Error', errorMessage: 'no' } as InvokeOutcome,
      'status 500',
    ],
    ['a function timeout', { kind: 'timeout' } as InvokeOutcome, 'status 500'],
  ])('refuses the upgrade on %s', async (_label, outcome, expected) => {
    // Prepare
    const invoker = new FakeInvoker({ Connect: () => outcome });
    const { url } = await start(invoker);

    // Act
    const attempt = connect(url);

    // Assess
    await expect(attempt).rejects.toThrow(expected);
  });

  it('fails PostToConnection with GoneException while $connect is running', async () => {
    // Prepare
    let postError: unknown;
    const invoker = new FakeInvoker({
      Connect: async (event) => {
        const sdk = new ApiGatewayManagementApiClient({
          endpoint: `${gateway?.url}/ws`,
          region: 'us-east-1',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        });
        try {
          await sdk.send(
            new PostToConnectionCommand({
              ConnectionId: event.requestContext.connectionId,
              Data: 'too early',
            }),
          );
        } catch (err) {
          postError = err;
        } finally {
          sdk.destroy();
        }
        return ok({ statusCode: 200 });
      },
    });
    const { url } = await start(invoker);

    // Act
    await connect(url);

    // Assess
    expect(postError).toBeInstanceOf(GoneException);
  });

  it('answers the subprotocol $connect chose', async () => {
    // Prepare
    const invoker = new FakeInvoker({
      Connect: () => ok({ statusCode: 200, headers: { 'Sec-WebSocket-Protocol': 'pulse.v1' } }),
    });
    const { url } = await start(invoker);
    const client = new WebSocket(`${url.replace('http', 'ws')}/ws`, ['pulse.v1', 'other']);
    clients.push(client);

    // Act
    await new Promise((resolve, reject) => {
      client.once('open', resolve);
      client.once('error', reject);
    });

    // Assess
    expect(client.protocol).toBe('pulse.v1');
  });
});

describe('WebSocket messages', () => {
  it.each([
    ['{"action":"ping"}', 'Ping', 'ping'],
    ['{"action":"nothing-here"}', 'Default', '$default'],
    ['not json', 'Default', '$default'],
    ['{"other":"ping"}', 'Default', '$default'],
  ])('routes %s to %s', async (message, fn, routeKey) => {
    // Prepare
    const invoker = withConnect({
      Ping: () => ok({ statusCode: 200 }),
      Default: () => ok({ statusCode: 200 }),
    });
    const { url } = await start(invoker);
    const client = await connect(url);

    // Act
    client.send(message);

    // Assess
    const call = await eventually(() => {
      const [c] = invoker.of(fn);
      if (!c) throw new Error(`${fn} not invoked yet`);
      return c;
    });
    expect(call.event).toMatchObject({
      body: message,
      isBase64Encoded: false,
      requestContext: { routeKey, eventType: 'MESSAGE', messageDirection: 'IN', stage: 'live' },
    });
    expect(call.event.requestContext.messageId).toMatch(CONNECTION_ID);
  });

  it('sends the route response body back when the route returns a response', async () => {
    // Prepare
    const invoker = withConnect({ Subscribe: () => ok({ statusCode: 200, body: '{"subscribed":true}' }) });
    const { url } = await start(invoker);
    const client = await connect(url);
    const reply = nextMessage(client);

    // Act
    client.send('{"action":"subscribe"}');

    // Assess
    expect(await reply).toBe('{"subscribed":true}');
  });

  it('sends Forbidden when no route matches and there is no $default', async () => {
    // Prepare
    const invoker = withConnect({});
    const { url } = await start(invoker, [{ key: 'ping', fn: 'Ping' }]);
    const client = await connect(url);
    const reply = nextMessage(client);

    // Act
    client.send('{"action":"unknown"}');

    // Assess
    const body = JSON.parse(await reply);
    expect(body.message).toBe('Forbidden');
    expect(body.connectionId).toMatch(CONNECTION_ID);
    expect(body.requestId).toMatch(CONNECTION_ID);
    expect(invoker.calls).toHaveLength(0);
  });

  it('tells the client about a failed and a timed-out integration', async () => {
    // Prepare
    const hang = deferred<InvokeOutcome>();
    release = () => hang.resolve(ok({}));
    const invoker = withConnect({
      Ping: () => ({ kind: 'error', errorType: 'Error', errorMessage: 'x' }),
      Default: () => hang.promise,
    });
    const { url } = await start(invoker, ROUTES, { integrationTimeoutMs: 30 });
    const client = await connect(url);

    // Act
    let reply = nextMessage(client);
    client.send('{"action":"ping"}');
    const failed = JSON.parse(await reply);
    reply = nextMessage(client);
    client.send('{"action":"slow"}');
    const timedOut = JSON.parse(await reply);

    // Assess
    expect(failed.message).toBe('Internal server error');
    expect(timedOut.message).toBe('Endpoint request timed out');
  });

  it('closes with 1009 a message over the size quota', async () => {
    // Prepare
    const invoker = withConnect({ Default: () => ok({ statusCode: 200 }) });
    const { url } = await start(invoker, ROUTES, { maxMessageBytes: 1024 });
    const client = await connect(url);
    const done = closed(client);

    // Act
    client.send('x'.repeat(1025));

    // Assess
    expect(await done).toEqual({ code: 1009, reason: 'Message too big' });
    expect(invoker.of('Default')).toHaveLength(0);
  });

  it('closes an idle connection with 1001 Going away', async () => {
    // Prepare
    const invoker = withConnect({});
    const { url } = await start(invoker, [], { idleTimeoutMs: 50 });
    const client = await connect(url);

    // Act
    const result = await closed(client);

    // Assess
    expect(result).toEqual({ code: 1001, reason: 'Going away' });
  });

  it('closes a connection at the end of its maximum life', async () => {
    // Prepare
    const invoker = withConnect({});
    const { url } = await start(invoker, [], { maxConnectionLifeMs: 50 });
    const client = await connect(url);

    // Act
    const result = await closed(client);

    // Assess
    expect(result).toEqual({ code: 1001, reason: 'Going away' });
  });
});

describe('WebSocket $disconnect', () => {
  it('invokes $disconnect with the close code and reason after the client closes', async () => {
    // Prepare
    const invoker = withConnect({ Disconnect: () => ok({ statusCode: 200 }) });
    const { url } = await start(invoker);
    const client = await connect(url);

    // Act
    client.close(1000, 'bye');

    // Assess
    const call = await eventually(() => {
      const [c] = invoker.of('Disconnect');
      if (!c) throw new Error('not yet');
      return c;
    });
    expect(call.event.requestContext).toMatchObject({
      routeKey: '$disconnect',
      eventType: 'DISCONNECT',
      disconnectStatusCode: 1000,
      disconnectReason: 'bye',
      connectionId: invoker.of('Connect')[0]?.event.requestContext.connectionId,
    });
  });

  it('ignores a failing $disconnect and logs it', async () => {
    // Prepare
    const invoker = withConnect({
      Disconnect: () => ({ kind: 'error', errorType: 'Error', errorMessage: 'db down' }),
    });
    const { url } = await start(invoker);
    const client = await connect(url);

    // Act
    client.terminate();

    // Assess
    const call = await eventually(() => {
      const [c] = invoker.of('Disconnect');
      if (!c) throw new Error('not yet');
      return c;
    });
    expect(call.event.requestContext.disconnectStatusCode).toBe(1006);
    await eventually(() => expect(logged.join('\n')).toContain('db down'));
  });
});

describe('route selection expression', () => {
  it.each([
    ['$request.body.action', '{"action":"a"}', 'a'],
    ['$request.body.meta.kind', '{"meta":{"kind":"k"}}', 'k'],
    ['$request.body.action', '{"action":{"nested":1}}', undefined],
    ['$request.body.action', '[1,2]', undefined],
    ['$request.body.action', 'plain text', undefined],
  ])('evaluates %s on %s to %s', (expression, body, expected) => {
    expect(selectRouteKey(expression, body)).toBe(expected);
  });
});
