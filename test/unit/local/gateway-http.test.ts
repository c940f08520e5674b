import { afterEach, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../../local/gateway';
import { matchHttpRoute } from '../../../local/http-gateway';
import { localApiId } from '../../../local/intrinsics';
import type { InvokeOutcome } from '../../../local/types';
import {
  deferred,
  FakeInvoker,
  httpApiResources,
  ok,
  type RouteSpec,
  send,
  startTestGateway,
} from './gateway-test-kit';

let gateway: RunningGateway | undefined;
let release: (() => void) | undefined;

afterEach(async () => {
  release?.();
  release = undefined;
  await gateway?.close();
  gateway = undefined;
});

async function start(
  routes: RouteSpec[],
  invoker: FakeInvoker,
  opts: { cors?: Record<string, unknown>; limits?: Record<string, number>; log?: (m: string) => void } = {},
) {
  gateway = await startTestGateway({ Resources: httpApiResources(routes, opts.cors) }, invoker, {
    limits: opts.limits,
    log: opts.log,
  });
  return gateway;
}

describe('HTTP API payload format 2.0', () => {
  it('passes a POST with query and path parameters to the function as AWS builds the event', async () => {
    // Prepare
    const invoker = new FakeInvoker({ ItemFn: () => ok({ statusCode: 204 }) });
    const { url, port } = await start([{ key: 'POST /items/{id}', fn: 'ItemFn' }], invoker);

    // Act
    const res = await send(`${url}/items/a%20b?tag=x&tag=y&q=hello%20world&empty`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-Multi': ['one', 'two'],
        cookie: 'a=1; b=2',
        'user-agent': 'test-agent/1.0',
      },
      body: '{"n":1}',
    });

    // Assess
    expect(res.status).toBe(204);
    expect(res.headers['apigw-requestid']).toMatch(/^[A-Za-z0-9_-]{15}=$/);
    const [call] = invoker.of('ItemFn');
    const event = call?.event;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /items/{id}',
      rawPath: '/items/a%20b',
      rawQueryString: 'tag=x&tag=y&q=hello%20world&empty',
      cookies: ['a=1', 'b=2'],
      queryStringParameters: { tag: 'x,y', q: 'hello world', empty: '' },
      pathParameters: { id: 'a b' },
      body: '{"n":1}',
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        apiId: localApiId('HttpApi'),
        domainName: `127.0.0.1:${port}`,
        domainPrefix: '127',
        http: {
          method: 'POST',
          path: '/items/a%20b',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'test-agent/1.0',
        },
        routeKey: 'POST /items/{id}',
        stage: '$default',
      },
    });
    expect(event.headers['x-multi']).toBe('one,two');
    expect(event.headers['content-type']).toBe('application/json');
    expect(event.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(event.headers.cookie).toBeUndefined();
    expect(event.requestContext.requestId).toBe(res.headers['apigw-requestid']);
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(typeof event.requestContext.timeEpoch).toBe('number');
  });

  it('omits body, cookies, query and path parameters a request does not have', async () => {
    // Prepare
    const invoker = new FakeInvoker({ ListFn: () => ok({ statusCode: 200 }) });
    const { url } = await start([{ key: 'GET /items', fn: 'ListFn' }], invoker);

    // Act
    await send(`${url}/items`);

    // Assess
    const event = invoker.of('ListFn')[0]?.event;
    expect(event.rawQueryString).toBe('');
    expect(event.isBase64Encoded).toBe(false);
    for (const key of ['body', 'cookies', 'queryStringParameters', 'pathParameters']) {
      expect(event).not.toHaveProperty(key);
    }
  });

  it('base64-encodes a body whose content type is not text', async () => {
    // Prepare
    const invoker = new FakeInvoker({ UploadFn: () => ok({ statusCode: 200 }) });
    const { url } = await start([{ key: 'PUT /blob', fn: 'UploadFn' }], invoker);
    const bytes = Buffer.from([0, 1, 2, 250, 251]);

    // Act
    await send(`${url}/blob`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });

    // Assess
    const event = invoker.of('UploadFn')[0]?.event;
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body, 'base64')).toEqual(bytes);
  });

  it('maps a result with statusCode to status, headers, cookies and a base64 body', async () => {
    // Prepare
    const invoker = new FakeInvoker({
      Fn: () =>
        ok({
          statusCode: 201,
          headers: { 'X-Custom': 'yes', 'content-type': 'text/plain' },
          cookies: ['s=1; Path=/', 't=2'],
          body: Buffer.from('created').toString('base64'),
          isBase64Encoded: true,
        }),
    });
    const { url } = await start([{ key: 'POST /things', fn: 'Fn' }], invoker);

    // Act
    const res = await send(`${url}/things`, { method: 'POST' });

    // Assess
    expect(res.status).toBe(201);
    expect(res.headers['x-custom']).toBe('yes');
    expect(res.headers['set-cookie']).toEqual(['s=1; Path=/', 't=2']);
    expect(res.body).toBe('created');
  });

  it('answers 200 with a JSON body when the result has no statusCode', async () => {
    // Prepare
    const invoker = new FakeInvoker({ Fn: () => ok({ hello: 'world' }) });
    const { url } = await start([{ key: 'GET /hello', fn: 'Fn' }], invoker);

    // Act
    const res = await send(`${url}/hello`);

    // Assess
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body)).toEqual({ hello: 'world' });
  });
});

describe('HTTP API route selection', () => {
  const routes = [
    { routeKey: 'GET /pets/dog/1' },
    { routeKey: 'GET /pets/dog/{id}' },
    { routeKey: 'GET /pets/{proxy+}' },
    { routeKey: 'ANY /pets/dog/{id}' },
    { routeKey: 'ANY /{proxy+}' },
    { routeKey: '$default' },
  ];

  it.each([
    ['GET', '/pets/dog/1', 'GET /pets/dog/1', {}],
    ['GET', '/pets/dog/2', 'GET /pets/dog/{id}', { id: '2' }],
    ['POST', '/pets/dog/2', 'ANY /pets/dog/{id}', { id: '2' }],
    ['GET', '/pets/cat/1', 'GET /pets/{proxy+}', { proxy: 'cat/1' }],
    ['POST', '/pets/cat/1', 'ANY /{proxy+}', { proxy: 'pets/cat/1' }],
    ['GET', '/', '$default', {}],
  ])('routes %s %s to %s', (method, path, expected, params) => {
    // Act
    const match = matchHttpRoute(routes, method, path);

    // Assess
    expect(match?.route.routeKey).toBe(expected);
    expect(match?.pathParameters).toEqual(params);
  });

  it('matches nothing when no route fits and there is no $default', () => {
    expect(matchHttpRoute([{ routeKey: 'GET /a/{id}' }], 'GET', '/a')).toBeUndefined();
    expect(matchHttpRoute([{ routeKey: 'GET /a/{proxy+}' }], 'GET', '/a')).toBeUndefined();
  });

  it('serves the most specific route of a running API', async () => {
    // Prepare
    const invoker = new FakeInvoker({
      Exact: () => ok('exact'),
      Param: () => ok('param'),
      Greedy: () => ok('greedy'),
    });
    const { url } = await start(
      [
        { key: 'ANY /{proxy+}', fn: 'Greedy' },
        { key: 'GET /pets/{id}', fn: 'Param' },
        { key: 'GET /pets/mine', fn: 'Exact' },
      ],
      invoker,
    );

    // Act
    const bodies = await Promise.all(
      ['/pets/mine', '/pets/7', '/else/where'].map(async (p) => (await send(`${url}${p}`)).body),
    );

    // Assess
    expect(bodies).toEqual(['exact', 'param', 'greedy']);
  });
});

describe('HTTP API errors', () => {
  it('answers 404 Not Found when no route matches', async () => {
    // Prepare
    const invoker = new FakeInvoker({});
    const { url } = await start([{ key: 'GET /only', fn: 'Fn' }], invoker);

    // Act
    const res = await send(`${url}/other`, { method: 'POST', body: 'x' });

    // Assess
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toEqual({ message: 'Not Found' });
    expect(invoker.calls).toHaveLength(0);
  });

  it('answers 500 Internal Server Error when the function fails', async () => {
    // Prepare
    const invoker = new FakeInvoker({
      Fn: () => ({ kind: 'error', errorType: 'TypeError', errorMessage: 'boom' }),
    });
    const { url } = await start([{ key: 'GET /fail', fn: 'Fn' }], invoker);

    // Act
    const res = await send(`${url}/fail`);

    // Assess
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ message: 'Internal Server Error' });
  });

  it('answers 500 for a malformed result with a non-string body', async () => {
    // Prepare
    const invoker = new FakeInvoker({ Fn: () => ok({ statusCode: 200, body: { not: 'a string' } }) });
    const { url } = await start([{ key: 'GET /bad', fn: 'Fn' }], invoker);

    // Act
    const res = await send(`${url}/bad`);

    // Assess
    expect(res.status).toBe(500);
  });

  it('answers 503 Service Unavailable when the function times out', async () => {
    // Prepare
    const invoker = new FakeInvoker({ Fn: () => ({ kind: 'timeout' }) });
    const { url } = await start([{ key: 'GET /slow', fn: 'Fn' }], invoker);

    // Act
    const res = await send(`${url}/slow`);

    // Assess
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toEqual({ message: 'Service Unavailable' });
  });

  it('answers 503 when the integration timeout passes before the function answers', async () => {
    // Prepare
    const never = deferred<InvokeOutcome>();
    release = () => never.resolve(ok('late'));
    const invoker = new FakeInvoker({ Fn: () => never.promise });
    const { url } = await start([{ key: 'GET /hang', fn: 'Fn' }], invoker, {
      limits: { integrationTimeoutMs: 20 },
    });

    // Act
    const res = await send(`${url}/hang`);

    // Assess
    expect(res.status).toBe(503);
  });

  it('answers 413 to a body over the payload quota without invoking the function', async () => {
    // Prepare
    const invoker = new FakeInvoker({ Fn: () => ok({ statusCode: 200 }) });
    const { url } = await start([{ key: 'POST /up', fn: 'Fn' }], invoker, {
      limits: { maxRequestBodyBytes: 100 },
    });

    // Act
    const res = await send(`${url}/up`, { method: 'POST', body: 'x'.repeat(101) });

    // Assess
    expect(res.status).toBe(413);
    expect(invoker.calls).toHaveLength(0);
  });

  it('answers 500 and names the missing feature for a route with an authorizer', async () => {
    // Prepare
    const messages: string[] = [];
    const invoker = new FakeInvoker({ Fn: () => ok({ statusCode: 200 }) });
    const { url } = await start([{ key: 'GET /secure', fn: 'Fn', authorizationType: 'JWT' }], invoker, {
      log: (m) => messages.push(m),
    });

    // Act
    const first = await send(`${url}/secure`);
    const second = await send(`${url}/secure`);

    // Assess
    expect([first.status, second.status]).toEqual([500, 500]);
    expect(JSON.parse(first.body)).toEqual({ message: 'Internal Server Error' });
    expect(invoker.calls).toHaveLength(0);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('AuthorizationType JWT');
  });
});

describe('HTTP API CORS', () => {
  const cors = {
    AllowOrigins: ['http://app.test'],
    AllowMethods: ['GET', 'POST'],
    AllowHeaders: ['authorization', 'content-type'],
    ExposeHeaders: ['x-total'],
    MaxAge: 600,
  };

  it('answers a preflight from an allowed origin at the gateway', async () => {
    // Prepare
    const invoker = new FakeInvoker({ Fn: () => ok({ statusCode: 200 }) });
    const { url } = await start([{ key: 'POST /items', fn: 'Fn' }], invoker, { cors });

    // Act
    const res = await send(`${url}/items`, {
      method: 'OPTIONS',
      headers: { origin: 'http://app.test', 'access-control-request-method': 'POST' },
    });

    // Assess
    expect(res.status).toBe(204);
    expect(res.headers).toMatchObject({
      'access-control-allow-origin': 'http://app.test',
      'access-control-allow-methods': 'GET,POST',
      'access-control-allow-headers': 'authorization,content-type',
      'access-control-max-age': '600',
    });
    expect(invoker.calls).toHaveLength(0);
  });

  it('gives no CORS headers to a preflight from another origin', async () => {
    // Prepare
    const invoker = new FakeInvoker({});
    const { url } = await start([{ key: 'POST /items', fn: 'Fn' }], invoker, { cors });

    // Act
    const res = await send(`${url}/items`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.test', 'access-control-request-method': 'POST' },
    });

    // Assess
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('replaces the function’s CORS headers with the API’s on a normal request', async () => {
    // Prepare
    const invoker = new FakeInvoker({
      Fn: () => ok({ statusCode: 200, headers: { 'access-control-allow-origin': '*' }, body: 'ok' }),
    });
    const { url } = await start([{ key: 'GET /items', fn: 'Fn' }], invoker, { cors });

    // Act
    const allowed = await send(`${url}/items`, { headers: { origin: 'http://app.test' } });
    const other = await send(`${url}/items`, { headers: { origin: 'http://evil.test' } });

    // Assess
    expect(allowed.headers['access-control-allow-origin']).toBe('http://app.test');
    expect(allowed.headers['access-control-expose-headers']).toBe('x-total');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
