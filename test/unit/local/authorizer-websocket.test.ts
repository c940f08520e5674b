import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningGateway } from '../../../local/gateway';
import { localApiId } from '../../../local/intrinsics';
import type { CfnResource, InvokeOutcome } from '../../../local/types';
import {
  eventually,
  type FakeFunction,
  FakeInvoker,
  ok,
  type RouteSpec,
  startTestGateway,
  webSocketApiResources,
} from './gateway-test-kit';

const METHOD_ARN = `arn:aws:execute-api:us-east-1:000000000000:${localApiId('WsApi')}/live/$connect`;

let gateway: RunningGateway | undefined;
const clients: WebSocket[] = [];
let logged: string[] = [];

afterEach(async () => {
  logged = [];
  for (const c of clients.splice(0)) c.terminate();
  await gateway?.close();
  gateway = undefined;
});

const ROUTES: RouteSpec[] = [
  { key: '$connect', fn: 'Connect' },
  { key: '$disconnect', fn: 'Disconnect' },
  { key: '$default', fn: 'Default' },
];

/**
 * A WebSocket API as CDK's WebSocketApi with a WebSocketLambdaAuthorizer synthesizes it: the
 * `$connect` route with AuthorizationType CUSTOM and AuthorizerId = the authorizer's Ref.
 */
function authorizedWebSocketApi(identitySource: string[]): Record<string, CfnResource> {
  const resources = webSocketApiResources(ROUTES);
  for (const res of Object.values(resources)) {
    const props = res.Properties as Record<string, unknown>;
    if (res.Type === 'AWS::ApiGatewayV2::Route' && props.RouteKey === '$connect') {
      props.AuthorizationType = 'CUSTOM';
      props.AuthorizerId = { Ref: 'WsAuthorizer' };
    }
  }
  return {
    ...resources,
    AuthFn: {
      Type: 'AWS::Lambda::Function',
      Properties: { Runtime: 'nodejs22.x', Handler: 'index.handler' },
    },
    WsAuthorizer: {
      Type: 'AWS::ApiGatewayV2::Authorizer',
      Properties: {
        ApiId: { Ref: 'WsApi' },
        Name: 'connect-token',
        AuthorizerType: 'REQUEST',
        AuthorizerUri: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':apigateway:us-east-1:lambda:path/2015-03-31/functions/',
              { 'Fn::GetAtt': ['AuthFn', 'Arn'] },
              '/invocations',
            ],
          ],
        },
        IdentitySource: identitySource,
      },
    },
  };
}

const policy = (effect: 'Allow' | 'Deny', resource: string, context?: Record<string, unknown>) => ({
  principalId: 'user-1',
  policyDocument: {
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }],
  },
  ...(context ? { context } : {}),
});

/** Allows token `good` (query string or subprotocol), denies anything else. */
function tokenAuthorizer(event: {
  methodArn: string;
  queryStringParameters?: Record<string, string>;
  headers: Record<string, string>;
}): InvokeOutcome {
  const token =
    event.queryStringParameters?.token ?? event.headers['Sec-WebSocket-Protocol']?.split(',')[1]?.trim();
  return ok(policy(token === 'good' ? 'Allow' : 'Deny', event.methodArn, { tenant: 't1', admin: true }));
}

function invokerWith(authorizer: FakeFunction, connect?: FakeFunction): FakeInvoker {
  return new FakeInvoker({
    AuthFn: authorizer,
    Connect: connect ?? (() => ok({ statusCode: 200 })),
    Default: () => ok({ statusCode: 200 }),
    Disconnect: () => ok({ statusCode: 200 }),
  });
}

async function start(invoker: FakeInvoker, identitySource = ['route.request.querystring.token']) {
  gateway = await startTestGateway({ Resources: authorizedWebSocketApi(identitySource) }, invoker, {
    log: (m) => logged.push(m),
  });
  return gateway;
}

/** Opens a client and waits for the handshake; rejects with the HTTP status of a refused upgrade. */
function connect(url: string, path: string, protocols?: string[]): Promise<WebSocket> {
  const client = new WebSocket(`${url.replace('http', 'ws')}${path}`, protocols);
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

/** A raw upgrade request, to see the handshake response exactly as the gateway sends it. */
function rawUpgrade(url: string, path: string, headers: Record<string, string>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        ...headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res);
    });
    req.on('response', resolve);
    req.on('error', reject);
    req.end();
  });
}

describe('WebSocket $connect Lambda authorizer', () => {
  it('refuses the handshake with 401 and invokes nothing when the identity source is missing', async () => {
    // Prepare
    const invoker = invokerWith(tokenAuthorizer);
    const { url } = await start(invoker);

    // Act
    const attempt = connect(url, '/ws');

    // Assess
    await expect(attempt).rejects.toThrow('status 401');
    expect(invoker.calls).toHaveLength(0);
  });

  it('refuses the handshake with 403 when the policy denies, without running $connect', async () => {
    // Prepare
    const invoker = invokerWith(tokenAuthorizer);
    const { url } = await start(invoker);

    // Act
    const attempt = connect(url, '/ws?token=bad');

    // Assess
    await expect(attempt).rejects.toThrow('status 403');
    expect(invoker.of('AuthFn')).toHaveLength(1);
    expect(invoker.of('Connect')).toHaveLength(0);
  });

  it('refuses with 403 when the only Allow is for another resource', async () => {
    // Prepare
    const invoker = invokerWith(() => ok(policy('Allow', `${METHOD_ARN.replace('/live/', '/other/')}`)));
    const { url } = await start(invoker);

    // Act
    const attempt = connect(url, '/ws?token=good');

    // Assess
    await expect(attempt).rejects.toThrow('status 403');
  });

  it.each([
    ['a function error', { kind: 'error', errorType: 'Error', errorMessage: 'boom' } as InvokeOutcome],
    ['a response without a policy document', ok({ principalId: 'u' })],
    ['a context with a nested object', ok(policy('Allow', '*', { user: { id: 1 } }))],
  ])('refuses the handshake with 500 on %s', async (_label, outcome) => {
    // Prepare
    const invoker = invokerWith(() => outcome);
    const { url } = await start(invoker);

    // Act
    const attempt = connect(url, '/ws?token=good');

    // Assess
    await expect(attempt).rejects.toThrow('status 500');
    expect(invoker.of('Connect')).toHaveLength(0);
    expect(logged.join('\n')).toContain('WsAuthorizer');
  });

  it('sends the REQUEST event with the $connect methodArn, request and connection id', async () => {
    // Prepare
    const invoker = invokerWith(tokenAuthorizer);
    const { url } = await start(invoker);

    // Act
    await connect(url, '/ws?token=good&tag=a&tag=b');

    // Assess
    const event = invoker.of('AuthFn')[0]?.event;
    expect(event).toMatchObject({
      type: 'REQUEST',
      methodArn: METHOD_ARN,
      queryStringParameters: { token: 'good', tag: 'b' },
      multiValueQueryStringParameters: { token: ['good'], tag: ['a', 'b'] },
      stageVariables: {},
      requestContext: { routeKey: '$connect', eventType: 'CONNECT', stage: 'live' },
    });
    expect(event.headers['Sec-WebSocket-Version']).toBe('13');
    expect(event.multiValueHeaders['Sec-WebSocket-Version']).toEqual(['13']);
    const connectEvent = invoker.of('Connect')[0]?.event;
    expect(connectEvent.requestContext.connectionId).toBe(event.requestContext.connectionId);
  });

  it('gives $connect and every later event of the connection the principal and context', async () => {
    // Prepare
    const invoker = invokerWith(tokenAuthorizer);
    const { url } = await start(invoker);

    // Act
    const client = await connect(url, '/ws?token=good');
    client.send('{"action":"anything"}');
    await eventually(() => expect(invoker.of('Default')).toHaveLength(1));
    client.close();
    await eventually(() => expect(invoker.of('Disconnect')).toHaveLength(1));

    // Assess
    const expected = { principalId: 'user-1', tenant: 't1', admin: true };
    for (const fn of ['Connect', 'Default', 'Disconnect']) {
      const authorizer = invoker.of(fn)[0]?.event.requestContext.authorizer;
      expect(authorizer, fn).toMatchObject(expected);
      expect(typeof authorizer.integrationLatency, fn).toBe('number');
    }
  });

  it('always runs an authorizer with no identity sources, and its Allow admits the client', async () => {
    // Prepare
    const invoker = invokerWith((event: { methodArn: string }) => ok(policy('Allow', event.methodArn)));
    const { url } = await start(invoker, []);

    // Act
    const client = await connect(url, '/ws');

    // Assess
    expect(client.readyState).toBe(WebSocket.OPEN);
    expect(invoker.of('AuthFn')).toHaveLength(1);
    expect(invoker.of('Connect')[0]?.event.requestContext.authorizer).toMatchObject({
      principalId: 'user-1',
    });
  });

  it('does not put authorizer context on events of an API without an authorizer', async () => {
    // Prepare
    const invoker = invokerWith(tokenAuthorizer);
    gateway = await startTestGateway({ Resources: webSocketApiResources(ROUTES) }, invoker);

    // Act
    await connect(gateway.url, '/ws');

    // Assess
    expect(invoker.of('AuthFn')).toHaveLength(0);
    expect(invoker.of('Connect')[0]?.event.requestContext).not.toHaveProperty('authorizer');
  });
});

describe('WebSocket subprotocols with a $connect authorizer', () => {
  const identity = ['route.request.header.Sec-WebSocket-Protocol'];
  const echoFirst = () => ok({ statusCode: 200, headers: { 'Sec-WebSocket-Protocol': 'pulseboard.v1' } });

  it('passes the offered subprotocols to the authorizer and echoes the one $connect returns', async () => {
    // Prepare
    const invoker = invokerWith(tokenAuthorizer, echoFirst);
    const { url } = await start(invoker, identity);

    // Act
    const client = await connect(url, '/ws', ['pulseboard.v1', 'good']);

    // Assess
    // The header exactly as the ws client wrote it.
    expect(client.protocol).toBe('pulseboard.v1');
    expect(invoker.of('AuthFn')[0]?.event.headers['Sec-WebSocket-Protocol']).toBe('pulseboard.v1,good');
    expect(invoker.of('Connect')[0]?.event.headers['Sec-WebSocket-Protocol']).toBe('pulseboard.v1,good');
  });

  it('completes the upgrade without the header when $connect returns none, as API Gateway does', async () => {
    // Prepare
    const invoker = invokerWith(tokenAuthorizer);
    const { url } = await start(invoker, identity);

    // Act
    const res = await rawUpgrade(url, '/ws', { 'Sec-WebSocket-Protocol': 'pulseboard.v1, good' });

    // Assess
    expect(res.statusCode).toBe(101);
    expect(res.headers['sec-websocket-protocol']).toBeUndefined();
  });

  it('refuses with 401 when the subprotocol header carrying the token is absent', async () => {
    // Prepare
    const invoker = invokerWith(tokenAuthorizer, echoFirst);
    const { url } = await start(invoker, identity);

    // Act
    const res = await rawUpgrade(url, '/ws', {});

    // Assess
    expect(res.statusCode).toBe(401);
    expect(invoker.calls).toHaveLength(0);
  });
});
