import { afterEach, describe, expect, it } from 'vitest';
import { evaluatePolicy, identityValues } from '../../../local/authorizers';
import { type RunningGateway, startGateway } from '../../../local/gateway';
import { createResolver, localApiId } from '../../../local/intrinsics';
import type { CfnResource, InvokeOutcome } from '../../../local/types';
import {
  deferred,
  type FakeFunction,
  FakeInvoker,
  httpApiResources,
  inlineAssembly,
  ok,
  type RouteSpec,
  send,
  TEST_ENDPOINTS,
} from './gateway-test-kit';

const API_ID = localApiId('HttpApi');
const ROUTE_ARN_PREFIX = `arn:aws:execute-api:us-east-1:000000000000:${API_ID}/$default`;

let gateway: RunningGateway | undefined;
let release: (() => void) | undefined;

afterEach(async () => {
  release?.();
  release = undefined;
  await gateway?.close();
  gateway = undefined;
});

/** A clock the test moves by hand (epoch ms). */
function manualClock(start = Date.UTC(2026, 0, 1)) {
  let now = start;
  return {
    now: () => now,
    advanceSeconds(seconds: number) {
      now += seconds * 1000;
    },
  };
}

interface AuthorizerSpec {
  /** Route keys that use the authorizer (AuthorizationType CUSTOM). */
  readonly protect: readonly string[];
  readonly properties?: Record<string, unknown>;
}

/**
 * An HTTP API as CDK's HttpApi with an HttpLambdaAuthorizer synthesizes it: the authorizer
 * function `AuthFn`, an `AWS::ApiGatewayV2::Authorizer` with the Lambda invocation URI built by
 * Fn::Join, and the protected routes pointing at it with AuthorizerId = its Ref.
 */
function authorizedApi(
  routes: RouteSpec[],
  authorizer: AuthorizerSpec,
  cors?: Record<string, unknown>,
): Record<string, CfnResource> {
  const resources = httpApiResources(routes, cors);
  for (const res of Object.values(resources)) {
    if (res.Type !== 'AWS::ApiGatewayV2::Route') continue;
    const props = res.Properties as Record<string, unknown>;
    if (authorizer.protect.includes(String(props.RouteKey))) {
      props.AuthorizationType = 'CUSTOM';
      props.AuthorizerId = { Ref: 'HttpApiAuthorizer' };
    }
  }
  return {
    ...resources,
    AuthFn: {
      Type: 'AWS::Lambda::Function',
      Properties: { Runtime: 'nodejs22.x', Handler: 'index.handler' },
    },
    HttpApiAuthorizer: {
      Type: 'AWS::ApiGatewayV2::Authorizer',
      Properties: {
        ApiId: { Ref: 'HttpApi' },
        Name: 'token',
        AuthorizerType: 'REQUEST',
        AuthorizerUri: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':apigateway:',
              { Ref: 'AWS::Region' },
              ':lambda:path/2015-03-31/functions/',
              { 'Fn::GetAtt': ['AuthFn', 'Arn'] },
              '/invocations',
            ],
          ],
        },
        AuthorizerPayloadFormatVersion: '2.0',
        EnableSimpleResponses: true,
        IdentitySource: ['$request.header.Authorization'],
        AuthorizerResultTtlInSeconds: 300,
        ...authorizer.properties,
      },
    },
  };
}

async function start(
  resources: Record<string, CfnResource>,
  invoker: FakeInvoker,
  opts: { now?: () => number; log?: (m: string) => void; limits?: Record<string, number> } = {},
) {
  const template = { Resources: resources };
  gateway = await startGateway({
    port: 0,
    assembly: inlineAssembly(template),
    resolver: createResolver({ template, stackName: 'TestStack', endpoints: TEST_ENDPOINTS }),
    invoker,
    limits: opts.limits,
    log: opts.log ?? (() => {}),
    now: opts.now,
  });
  return gateway;
}

const ROUTES: RouteSpec[] = [
  { key: 'GET /secure', fn: 'SecureFn' },
  { key: 'POST /other', fn: 'OtherFn' },
  { key: 'GET /public', fn: 'PublicFn' },
];
const PROTECT = ['GET /secure', 'POST /other'];

/** A FakeInvoker whose integrations answer 200 and whose authorizer is the given function. */
function invokerWith(authorizer: FakeFunction): FakeInvoker {
  return new FakeInvoker({
    AuthFn: authorizer,
    SecureFn: () => ok({ statusCode: 200, body: 'secure' }),
    OtherFn: () => ok({ statusCode: 200, body: 'other' }),
    PublicFn: () => ok({ statusCode: 200, body: 'public' }),
  });
}

const allowWhenGood = (event: { identitySource: string[] }) =>
  ok(
    event.identitySource[0] === 'Bearer good'
      ? { isAuthorized: true, context: { userId: 'u-1', roles: ['admin'] } }
      : { isAuthorized: false },
  );

describe('HTTP API Lambda authorizer (simple responses)', () => {
  it('runs the integration with requestContext.authorizer.lambda set to the authorizer context', async () => {
    // Prepare
    const invoker = invokerWith(allowWhenGood);
    const { url } = await start(authorizedApi(ROUTES, { protect: PROTECT }), invoker);

    // Act
    const res = await send(`${url}/secure?x=1`, { headers: { authorization: 'Bearer good' } });

    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toBe('secure');
    const integration = invoker.of('SecureFn')[0]?.event;
    expect(integration.requestContext.authorizer).toEqual({ lambda: { userId: 'u-1', roles: ['admin'] } });
  });

  it('sends the payload 2.0 REQUEST event with routeArn and identity source values', async () => {
    // Prepare
    const invoker = invokerWith(allowWhenGood);
    const { url } = await start(authorizedApi(ROUTES, { protect: PROTECT }), invoker);

    // Act
    await send(`${url}/other?q=1`, {
      method: 'POST',
      headers: { authorization: 'Bearer good', cookie: 'a=1', 'content-type': 'application/json' },
      body: '{"secret":"body"}',
    });

    // Assess
    const event = invoker.of('AuthFn')[0]?.event;
    expect(event).toMatchObject({
      version: '2.0',
      type: 'REQUEST',
      routeArn: `${ROUTE_ARN_PREFIX}/POST/other`,
      identitySource: ['Bearer good'],
      routeKey: 'POST /other',
      rawPath: '/other',
      rawQueryString: 'q=1',
      cookies: ['a=1'],
      queryStringParameters: { q: '1' },
      requestContext: { apiId: API_ID, routeKey: 'POST /other', stage: '$default', http: { method: 'POST' } },
    });
    expect(event.headers.authorization).toBe('Bearer good');
    expect(event).not.toHaveProperty('body');
    expect(event).not.toHaveProperty('isBase64Encoded');
    const integration = invoker.of('OtherFn')[0]?.event;
    expect(integration.requestContext.requestId).toBe(event.requestContext.requestId);
    expect(integration.body).toBe('{"secret":"body"}');
  });

  it('answers 403 Forbidden and skips the integration when isAuthorized is false', async () => {
    // Prepare
    const invoker = invokerWith(allowWhenGood);
    const { url } = await start(authorizedApi(ROUTES, { protect: PROTECT }), invoker);

    // Act
    const res = await send(`${url}/secure`, { headers: { authorization: 'Bearer bad' } });

    // Assess
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toEqual({ message: 'Forbidden' });
    expect(invoker.of('SecureFn')).toHaveLength(0);
  });

  it.each([
    ['is missing', {}],
    ['is empty', { authorization: '' }],
  ])(
    'answers 401 Unauthorized without invoking the authorizer when the identity header %s',
    async (_l, headers) => {
      // Prepare
      const invoker = invokerWith(allowWhenGood);
      const { url } = await start(authorizedApi(ROUTES, { protect: PROTECT }), invoker);

      // Act
      const res = await send(`${url}/secure`, { headers });

      // Assess
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body)).toEqual({ message: 'Unauthorized' });
      expect(invoker.calls).toHaveLength(0);
    },
  );

  it('requires every identity source and passes their values in template order', async () => {
    // Prepare
    const invoker = invokerWith(() => ok({ isAuthorized: true }));
    const resources = authorizedApi(ROUTES, {
      protect: PROTECT,
      properties: {
        IdentitySource: ['$request.querystring.tenant', '$request.header.X-Api-Key', '$context.routeKey'],
      },
    });
    const { url } = await start(resources, invoker);

    // Act
    const withoutQuery = await send(`${url}/secure`, { headers: { 'x-api-key': 'k1' } });
    const withBoth = await send(`${url}/secure?tenant=t1`, { headers: { 'x-api-key': 'k1' } });

    // Assess
    expect(withoutQuery.status).toBe(401);
    expect(withBoth.status).toBe(200);
    expect(invoker.of('AuthFn').map((c) => c.event.identitySource)).toEqual([['t1', 'k1', 'GET /secure']]);
  });

  it('never invokes the authorizer for a public route', async () => {
    // Prepare
    const invoker = invokerWith(allowWhenGood);
    const { url } = await start(authorizedApi(ROUTES, { protect: PROTECT }), invoker);

    // Act
    const res = await send(`${url}/public`);

    // Assess
    expect(res.status).toBe(200);
    expect(invoker.of('AuthFn')).toHaveLength(0);
    expect(invoker.of('PublicFn')[0]?.event.requestContext).not.toHaveProperty('authorizer');
  });

  it.each([
    ['a function error', { kind: 'error', errorType: 'Error', errorMessage: 'boom' } as InvokeOutcome],
    ['a response without a boolean isAuthorized', ok({ isAuthorized: 'yes' })],
    ['a context that is not an object', ok({ isAuthorized: true, context: 'u-1' })],
  ])('answers 500 for %s and does not cache it', async (_label, outcome) => {
    // Prepare
    const logged: string[] = [];
    const invoker = invokerWith(() => outcome);
    const { url } = await start(authorizedApi(ROUTES, { protect: PROTECT }), invoker, {
      log: (m) => logged.push(m),
    });

    // Act
    const first = await send(`${url}/secure`, { headers: { authorization: 'Bearer good' } });
    const second = await send(`${url}/secure`, { headers: { authorization: 'Bearer good' } });

    // Assess
    expect([first.status, second.status]).toEqual([500, 500]);
    expect(JSON.parse(first.body)).toEqual({ message: 'Internal Server Error' });
    expect(invoker.of('AuthFn')).toHaveLength(2);
    expect(invoker.of('SecureFn')).toHaveLength(0);
    expect(logged[0]).toContain('HttpApiAuthorizer');
  });

  it('answers 500 when the authorizer times out', async () => {
    // Prepare
    const never = deferred<InvokeOutcome>();
    release = () => never.resolve(ok({ isAuthorized: true }));
    const invoker = invokerWith(() => never.promise);
    const { url } = await start(authorizedApi(ROUTES, { protect: PROTECT }), invoker, {
      limits: { integrationTimeoutMs: 50 },
    });

    // Act
    const res = await send(`${url}/secure`, { headers: { authorization: 'Bearer good' } });

    // Assess
    expect(res.status).toBe(500);
    expect(invoker.of('SecureFn')).toHaveLength(0);
  });

  it('keeps CORS preflights unauthenticated and adds CORS headers to its 401', async () => {
    // Prepare
    const invoker = invokerWith(allowWhenGood);
    const cors = {
      AllowOrigins: ['https://app.example'],
      AllowMethods: ['GET'],
      AllowHeaders: ['authorization'],
    };
    const { url } = await start(authorizedApi(ROUTES, { protect: PROTECT }, cors), invoker);

    // Act
    const preflight = await send(`${url}/secure`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
    });
    const unauthorized = await send(`${url}/secure`, { headers: { origin: 'https://app.example' } });

    // Assess
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(invoker.of('AuthFn')).toHaveLength(0);
  });

  it('reports an authorizer payload format it does not implement and answers 500', async () => {
    // Prepare
    const logged: string[] = [];
    const invoker = invokerWith(allowWhenGood);
    const resources = authorizedApi(ROUTES, {
      protect: PROTECT,
      properties: { AuthorizerPayloadFormatVersion: '1.0', EnableSimpleResponses: false },
    });
    const { url } = await start(resources, invoker, { log: (m) => logged.push(m) });

    // Act
    const res = await send(`${url}/secure`, { headers: { authorization: 'Bearer good' } });

    // Assess
    expect(res.status).toBe(500);
    expect(invoker.calls).toHaveLength(0);
    expect(logged.join('\n')).toContain('AuthorizerPayloadFormatVersion 1.0');
  });
});

describe('HTTP API Lambda authorizer caching', () => {
  it('reuses a cached answer for the same identity within the TTL and asks again after it', async () => {
    // Prepare
    const clock = manualClock();
    const invoker = invokerWith(allowWhenGood);
    const { url } = await start(authorizedApi(ROUTES, { protect: PROTECT }), invoker, { now: clock.now });
    const call = () => send(`${url}/secure`, { headers: { authorization: 'Bearer good' } });

    // Act
    const first = await call();
    clock.advanceSeconds(299);
    const withinTtl = await call();
    const callsWithinTtl = invoker.of('AuthFn').length;
    clock.advanceSeconds(2);
    const afterTtl = await call();

    // Assess
    expect([first.status, withinTtl.status, afterTtl.status]).toEqual([200, 200, 200]);
    expect(callsWithinTtl).toBe(1);
    expect(invoker.of('AuthFn')).toHaveLength(2);
    expect(invoker.of('SecureFn')[1]?.event.requestContext.authorizer).toEqual({
      lambda: { userId: 'u-1', roles: ['admin'] },
    });
  });

  it('asks again for another identity value', async () => {
    // Prepare
    const invoker = invokerWith(allowWhenGood);
    const { url } = await start(authorizedApi(ROUTES, { protect: PROTECT }), invoker, { now: () => 0 });

    // Act
    const good = await send(`${url}/secure`, { headers: { authorization: 'Bearer good' } });
    const bad = await send(`${url}/secure`, { headers: { authorization: 'Bearer bad' } });

    // Assess
    expect([good.status, bad.status]).toEqual([200, 403]);
    expect(invoker.of('AuthFn')).toHaveLength(2);
  });

  it('keys the cache on every identity source value', async () => {
    // Prepare
    const invoker = invokerWith(() => ok({ isAuthorized: true }));
    const resources = authorizedApi(ROUTES, {
      protect: PROTECT,
      properties: { IdentitySource: ['$request.header.Authorization', '$request.querystring.tenant'] },
    });
    const { url } = await start(resources, invoker, { now: () => 0 });
    const headers = { authorization: 'Bearer good' };

    // Act
    await send(`${url}/secure?tenant=a`, { headers });
    await send(`${url}/secure?tenant=b`, { headers });
    await send(`${url}/secure?tenant=a`, { headers });

    // Assess
    expect(invoker.of('AuthFn').map((c) => c.event.identitySource)).toEqual([
      ['Bearer good', 'a'],
      ['Bearer good', 'b'],
    ]);
  });

  it('shares a cached answer across the routes of the same authorizer, denials included', async () => {
    // Prepare
    const invoker = invokerWith(allowWhenGood);
    const { url } = await start(authorizedApi(ROUTES, { protect: PROTECT }), invoker, { now: () => 0 });

    // Act
    const secure = await send(`${url}/secure`, { headers: { authorization: 'Bearer good' } });
    const other = await send(`${url}/other`, { method: 'POST', headers: { authorization: 'Bearer good' } });
    const denied = await send(`${url}/secure`, { headers: { authorization: 'Bearer bad' } });
    const deniedAgain = await send(`${url}/other`, {
      method: 'POST',
      headers: { authorization: 'Bearer bad' },
    });

    // Assess
    expect([secure.status, other.status, denied.status, deniedAgain.status]).toEqual([200, 200, 403, 403]);
    expect(invoker.of('AuthFn')).toHaveLength(2);
  });

  it('never caches with AuthorizerResultTtlInSeconds 0', async () => {
    // Prepare
    const invoker = invokerWith(allowWhenGood);
    const resources = authorizedApi(ROUTES, {
      protect: PROTECT,
      properties: { AuthorizerResultTtlInSeconds: 0 },
    });
    const { url } = await start(resources, invoker, { now: () => 0 });

    // Act
    for (let i = 0; i < 3; i++) await send(`${url}/secure`, { headers: { authorization: 'Bearer good' } });

    // Assess
    expect(invoker.of('AuthFn')).toHaveLength(3);
    expect(invoker.of('SecureFn')).toHaveLength(3);
  });
});

describe('HTTP API Lambda authorizer (IAM policy responses)', () => {
  const policy = (effect: 'Allow' | 'Deny', resource: string | string[]) => ({
    principalId: 'user-1',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }],
    },
    context: { tenant: 't1' },
  });
  const policyApi = (ttl = 300) =>
    authorizedApi(ROUTES, {
      protect: PROTECT,
      properties: { EnableSimpleResponses: false, AuthorizerResultTtlInSeconds: ttl },
    });

  it('allows a request whose routeArn the policy allows and passes the context', async () => {
    // Prepare
    const invoker = invokerWith((event) => ok(policy('Allow', event.routeArn)));
    const { url } = await start(policyApi(), invoker);

    // Act
    const res = await send(`${url}/secure`, { headers: { authorization: 'Bearer good' } });

    // Assess
    expect(res.status).toBe(200);
    expect(invoker.of('SecureFn')[0]?.event.requestContext.authorizer).toEqual({ lambda: { tenant: 't1' } });
  });

  it.each([
    ['an explicit Deny', policy('Deny', '*')],
    ['an Allow for another route only', policy('Allow', `${ROUTE_ARN_PREFIX}/GET/public`)],
    [
      'a Deny that overrides a wildcard Allow',
      {
        principalId: 'u',
        policyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: '*' },
            { Action: 'execute-api:Invoke', Effect: 'Deny', Resource: `${ROUTE_ARN_PREFIX}/GET/*` },
          ],
        },
      },
    ],
  ])('answers 403 for %s', async (_label, response) => {
    // Prepare
    const invoker = invokerWith(() => ok(response));
    const { url } = await start(policyApi(), invoker);

    // Act
    const res = await send(`${url}/secure`, { headers: { authorization: 'Bearer good' } });

    // Assess
    expect(res.status).toBe(403);
    expect(invoker.of('SecureFn')).toHaveLength(0);
  });

  it('evaluates a cached policy again against each route', async () => {
    // Prepare
    const invoker = invokerWith(() => ok(policy('Allow', `${ROUTE_ARN_PREFIX}/GET/secure`)));
    const { url } = await start(policyApi(), invoker, { now: () => 0 });

    // Act
    const allowed = await send(`${url}/secure`, { headers: { authorization: 'Bearer good' } });
    const denied = await send(`${url}/other`, { method: 'POST', headers: { authorization: 'Bearer good' } });

    // Assess
    expect([allowed.status, denied.status]).toEqual([200, 403]);
    expect(invoker.of('AuthFn')).toHaveLength(1);
  });

  it('answers 500 for a response without a policy document', async () => {
    // Prepare
    const invoker = invokerWith(() => ok({ principalId: 'u', isAuthorized: true }));
    const { url } = await start(policyApi(), invoker);

    // Act
    const res = await send(`${url}/secure`, { headers: { authorization: 'Bearer good' } });

    // Assess
    expect(res.status).toBe(500);
  });
});

describe('evaluatePolicy', () => {
  const arn = 'arn:aws:execute-api:us-east-1:1:abc/$default/GET/items/1';
  const doc = (...Statement: unknown[]) => ({ Version: '2012-10-17', Statement });

  it('allows on a matching Allow with IAM wildcards in actions and resources', () => {
    expect(evaluatePolicy(doc({ Effect: 'Allow', Action: '*', Resource: '*' }), arn)).toBe('allow');
    expect(
      evaluatePolicy(
        doc({
          Effect: 'Allow',
          Action: ['execute-api:*'],
          Resource: ['arn:aws:execute-api:*:*:abc/*/GET/items/?'],
        }),
        arn,
      ),
    ).toBe('allow');
    expect(
      evaluatePolicy({ Statement: { Effect: 'Allow', Action: 'execute-api:Invoke', Resource: arn } }, arn),
    ).toBe('allow');
  });

  it('denies without a matching Allow, and on any matching Deny', () => {
    expect(evaluatePolicy(doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }), arn)).toBe('deny');
    expect(evaluatePolicy(doc({ Effect: 'Allow', Action: '*', Resource: `${arn}/more` }), arn)).toBe('deny');
    expect(
      evaluatePolicy(
        doc({ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: '*', Resource: arn }),
        arn,
      ),
    ).toBe('deny');
  });

  it('calls anything that is not a policy invalid', () => {
    expect(evaluatePolicy(undefined, arn)).toBe('invalid');
    expect(evaluatePolicy({ Version: '2012-10-17' }, arn)).toBe('invalid');
    expect(evaluatePolicy(doc({ Effect: 'Maybe', Action: '*', Resource: '*' }), arn)).toBe('invalid');
    expect(evaluatePolicy(doc({ Effect: 'Allow', Resource: '*' }), arn)).toBe('invalid');
  });
});

describe('identityValues', () => {
  const lookup = {
    header: (name: string) => ({ authorization: 'Bearer t' })[name.toLowerCase()],
    query: (name: string) => ({ token: 'q' })[name],
    stageVariable: (name: string) => ({ env: 'dev' })[name],
    context: (name: string) => ({ routeKey: '$connect', identity: { sourceIp: '1.2.3.4' } })[name],
  };

  it('reads HTTP and WebSocket expressions of headers, query strings, stage variables and context', () => {
    expect(
      identityValues(
        [
          '$request.header.Authorization',
          'route.request.querystring.token',
          '$stageVariables.env',
          'context.routeKey',
        ],
        lookup,
      ),
    ).toEqual(['Bearer t', 'q', 'dev', '$connect']);
    expect(identityValues([], lookup)).toEqual([]);
  });

  it('is undefined when any value is missing or the expression is unknown', () => {
    expect(
      identityValues(['$request.header.Authorization', '$request.querystring.nope'], lookup),
    ).toBeUndefined();
    expect(identityValues(['$context.identity'], lookup)).toBeUndefined();
    expect(identityValues(['$body.token'], lookup)).toBeUndefined();
  });
});
