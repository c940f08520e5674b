import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import { principalContext, principalOf } from '../../../functions/shared/auth-context';
import {
  type Access,
  allows,
  isRole,
  type Principal,
  ROLES,
  ROUTE_ACCESS,
  WEBSOCKET_ACCESS,
} from '../../../functions/shared/domain/auth/roles';
import { httpRoute } from '../../../functions/shared/handler-kit';
import { json } from '../../../functions/shared/http';
import { logger } from '../../../functions/shared/logger';

type Caller = 'viewer' | 'editor' | 'admin' | 'api_key' | 'alerts_key' | 'nobody';

const CALLERS: Record<Caller, Principal | undefined> = {
  viewer: { kind: 'user', subject: 'vera', role: 'viewer' },
  editor: { kind: 'user', subject: 'ed', role: 'editor' },
  admin: { kind: 'user', subject: 'ada', role: 'admin' },
  api_key: { kind: 'api_key', subject: '0123456789ab', scope: 'ingest' },
  alerts_key: { kind: 'api_key', subject: 'ba9876543210', scope: 'alerts' },
  nobody: undefined,
};

/** Who each access level lets in, written out by hand rather than computed from `allows`. */
const ALLOWED: Record<Access, readonly Caller[]> = {
  public: ['viewer', 'editor', 'admin', 'api_key', 'alerts_key', 'nobody'],
  viewer: ['viewer', 'editor', 'admin'],
  editor: ['editor', 'admin'],
  admin: ['admin'],
  ingest: ['editor', 'admin', 'api_key'],
  alerts: ['editor', 'admin', 'alerts_key'],
  alerts_read: ['viewer', 'editor', 'admin', 'alerts_key'],
};

const CASES = Object.entries(ROUTE_ACCESS).flatMap(([routeKey, access]) =>
  (Object.keys(CALLERS) as Caller[]).map((caller) => ({
    routeKey,
    access,
    caller,
    allowed: ALLOWED[access].includes(caller),
  })),
);

const CONTEXT = {
  functionName: 'test',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test',
  memoryLimitInMB: '128',
  awsRequestId: 'r',
  getRemainingTimeInMillis: () => 1000,
} as unknown as Context;

/** An HTTP API (payload 2.0) event as API Gateway hands it over behind the Lambda authorizer. */
function event(routeKey: string, authorizer?: Record<string, unknown>): APIGatewayProxyEventV2 {
  const [method = 'GET', path = '/'] = routeKey.split(' ');
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: {},
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'api',
      domainName: 'api.example.test',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'vitest' },
      requestId: 'req',
      routeKey,
      stage: '$default',
      time: '01/May/2026:12:00:00 +0000',
      timeEpoch: 0,
      ...(authorizer ? { authorizer: { lambda: authorizer } } : {}),
    },
  } as APIGatewayProxyEventV2;
}

const route = vi.fn(async () => json(200, { ok: true }));
const handler = httpRoute(route);

async function invoke(routeKey: string, principal: Principal | undefined) {
  const response = await handler(event(routeKey, principal && principalContext(principal)), CONTEXT);
  return {
    status: response.statusCode,
    body: JSON.parse(response.body as string) as Record<string, unknown>,
  };
}

let quiet: MockInstance[] = [];
beforeAll(() => {
  quiet = [
    vi.spyOn(logger, 'info').mockImplementation(() => undefined),
    vi.spyOn(logger, 'error').mockImplementation(() => undefined),
  ];
});
afterAll(() => {
  for (const spy of quiet) spy.mockRestore();
});

describe('the route table', () => {
  it('names every route as "METHOD /path" with a known access level', () => {
    // Act / Assess
    for (const [routeKey, access] of Object.entries(ROUTE_ACCESS)) {
      expect(routeKey).toMatch(/^(GET|POST|PUT|DELETE|PATCH) \/\S*$/);
      expect(Object.keys(ALLOWED)).toContain(access);
    }
    expect(new Set(Object.values(ROUTE_ACCESS))).toEqual(new Set(Object.keys(ALLOWED)));
  });

  it('lets any signed-in person open a WebSocket, but not an API key', () => {
    // Act / Assess
    expect(WEBSOCKET_ACCESS).toBe('viewer');
    expect(allows(CALLERS.viewer, WEBSOCKET_ACCESS)).toBe(true);
    expect(allows(CALLERS.api_key, WEBSOCKET_ACCESS)).toBe(false);
    expect(allows(undefined, WEBSOCKET_ACCESS)).toBe(false);
  });

  it('knows the three roles and nothing else', () => {
    // Act / Assess
    expect(ROLES.filter(isRole)).toEqual(['viewer', 'editor', 'admin']);
    for (const value of [
      'Admin',
      'root',
      '',
      'api_key',
      'ingest',
      undefined,
      null,
      2,
      ['admin'],
      'constructor',
    ]) {
      expect(isRole(value)).toBe(false);
    }
  });
});

describe('allows', () => {
  it.each(CASES)('$routeKey ($access) for $caller: $allowed', ({ access, caller, allowed }) => {
    // Act / Assess
    expect(allows(CALLERS[caller], access)).toBe(allowed);
  });

  it('never lets an API key of an unknown scope in, even to ingest', () => {
    // Prepare
    const odd = { kind: 'api_key', subject: 'k', scope: 'admin' } as unknown as Principal;

    // Act / Assess
    expect(allows(odd, 'ingest')).toBe(false);
    expect(allows(odd, 'admin')).toBe(false);
  });
});

describe('requireAccess through httpRoute', () => {
  it.each(CASES)('$routeKey ($access) for $caller', async ({ routeKey, access, caller, allowed }) => {
    // Prepare
    route.mockClear();

    // Act
    const { status, body } = await invoke(routeKey, CALLERS[caller]);

    // Assess
    if (allowed) {
      expect(status).toBe(200);
      expect(body).toEqual({ ok: true });
      expect(route).toHaveBeenCalledOnce();
      return;
    }
    expect(route).not.toHaveBeenCalled();
    if (caller === 'nobody') {
      expect(status).toBe(401);
      expect(body).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
    } else {
      expect(status).toBe(403);
      expect(body).toEqual({ error: { code: 'FORBIDDEN', message: expect.stringContaining(access) } });
    }
  });

  it.each([
    ['a route missing from the table', 'GET /api/secret-admin-panel'],
    ['the $default route', '$default'],
    ['a known path with another method', 'PATCH /api/users/{username}'],
  ])('refuses %s with 403, whoever calls', async (_, routeKey) => {
    // Prepare
    route.mockClear();

    // Act
    const answers = await Promise.all(
      (Object.keys(CALLERS) as Caller[]).map((caller) => invoke(routeKey, CALLERS[caller])),
    );

    // Assess
    for (const { status, body } of answers) {
      expect(status).toBe(403);
      expect(body).toEqual({ error: { code: 'FORBIDDEN', message: `${routeKey} has no access rule` } });
    }
    expect(route).not.toHaveBeenCalled();
  });

  // Regression: without an own-property check, ROUTE_ACCESS[routeKey] finds a function or object for
  // a key naming an Object.prototype member (constructor, __proto__ …) instead of undefined: a 401
  // for anonymous callers and a 403 whose message prints the function source, not "no access rule".
  it.each(['constructor', '__proto__'])(
    'treats the inherited name %s as a route missing from the table',
    async (routeKey) => {
      // Act
      const anonymous = await invoke(routeKey, undefined);
      const admin = await invoke(routeKey, CALLERS.admin);

      // Assess
      for (const { status, body } of [anonymous, admin]) {
        expect(status).toBe(403);
        expect(body).toEqual({ error: { code: 'FORBIDDEN', message: `${routeKey} has no access rule` } });
      }
    },
  );

  it.each([
    ['an unknown role', { kind: 'user', subject: 'x', role: 'root' }],
    ['an empty subject', { kind: 'user', subject: '', role: 'admin' }],
    ['an API key of another scope', { kind: 'api_key', subject: 'k', scope: 'admin' }],
    ['an unknown kind', { kind: 'service', subject: 'x', role: 'admin' }],
    ['a non-string subject', { kind: 'user', subject: 7, role: 'admin' }],
  ])('answers 401 when the authorizer context has %s', async (_, context) => {
    // Prepare
    route.mockClear();

    // Act
    const response = await handler(event('GET /api/alerts', context), CONTEXT);

    // Assess
    expect(response.statusCode).toBe(401);
    expect(route).not.toHaveBeenCalled();
  });

  it('reads the principal back exactly as the authorizer wrote it', () => {
    // Act / Assess
    for (const principal of Object.values(CALLERS)) {
      if (!principal) continue;
      expect(principalOf({ authorizer: { lambda: principalContext(principal) } })).toEqual(principal);
      expect(principalOf({ authorizer: principalContext(principal) })).toEqual(principal);
    }
    expect(principalOf(undefined)).toBeUndefined();
    expect(principalOf({ authorizer: null })).toBeUndefined();
  });
});
