import { randomUUID } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { ROUTE_ACCESS, type Role } from '../../functions/shared/domain/auth/roles';
import { issueToken, keyFromSeed, type SigningKey } from '../../functions/shared/domain/auth/tokens';
import { loadStackAssembly } from '../../local/assembly';
import type { LocalRuntime } from '../../local/runtime';
import { postJson, useToken } from '../support/clients';
import { createIngestKey, signIn, startTestRuntime } from '../support/runtime';

/** A request with exactly these headers (no token unless given). */
const call = async (url: string, method: string, headers: Record<string, string> = {}, body?: unknown) => {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: response.status, headers: response.headers, body: parsed as Record<string, unknown> };
};
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Opens a WebSocket and resolves with the handshake outcome: 101 (open) or the refusal status. */
const handshake = (url: string, options: { headers?: Record<string, string>; protocols?: string[] } = {}) =>
  new Promise<{ status: number; protocol: string }>((resolve, reject) => {
    const socket = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
    socket.on('open', () => {
      resolve({ status: 101, protocol: socket.protocol });
      socket.close();
    });
    socket.on('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode ?? 0, protocol: '' });
      socket.terminate();
    });
    socket.on('error', (error) => reject(error));
  });

describe('authentication and authorization through the local runtime', () => {
  let runtime: LocalRuntime;
  let api: string;
  let key: SigningKey;
  let issuer: string;
  const tokens: Partial<Record<Role, string>> = {};
  let ingestKey: string;

  beforeAll(async () => {
    runtime = await startTestRuntime();
    api = runtime.urls.HttpApiUrl;
    issuer = `pulseboard:${runtime.stackName}`;
    // The stage's real signing seed, read from the local Secrets Manager as the functions read it:
    // so the attack tokens below differ from a valid one in exactly one respect.
    const secrets = new SecretsManagerClient({
      endpoint: runtime.engines.secretsManager,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const { template } = loadStackAssembly(inject('assemblyDir'));
    const secretId = Object.keys(template.Resources).find(
      (id) => template.Resources[id]?.Type === 'AWS::SecretsManager::Secret',
    );
    const arn = runtime.resolver.resolveString({ Ref: secretId });
    const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: arn }));
    secrets.destroy();
    key = keyFromSeed(SecretString as string);
    tokens.admin = await signIn(runtime);
    for (const role of ['viewer', 'editor'] as const) {
      const username = `${role}-${randomUUID().slice(0, 8)}`;
      const password = `${randomUUID()}-pw`;
      const created = await postJson(`${api}/api/users`, { username, password, role });
      expect(created.status).toBe(201);
      tokens[role] = await signIn(runtime, { username, password });
    }
    ingestKey = await createIngestKey(runtime);
  });

  afterAll(async () => {
    useToken(undefined);
    await runtime?.stop();
  });

  describe('login', () => {
    it('answers a token for the right password, and /auth/me names the caller', async () => {
      const admin = runtime.admin as { username: string; password: string };
      const login = await call(`${api}/auth/login`, 'POST', {}, admin);
      expect(login.status).toBe(200);
      expect(login.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
      const me = await call(`${api}/auth/me`, 'GET', bearer(login.body.access_token as string));
      expect(me.body).toEqual({ kind: 'user', username: 'admin', role: 'admin' });
    });

    it('gives an unknown user and a wrong password the same 401', async () => {
      const wrong = await call(
        `${api}/auth/login`,
        'POST',
        {},
        { username: 'admin', password: 'not-the-password' },
      );
      const unknown = await call(
        `${api}/auth/login`,
        'POST',
        {},
        { username: `nobody-${randomUUID()}`, password: 'x' },
      );
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(unknown.body).toEqual(wrong.body);
    });

    it('locks a user out after repeated failures, even for the right password, with Retry-After', async () => {
      const username = `locked-${randomUUID().slice(0, 8)}`;
      const password = `${randomUUID()}-pw`;
      await postJson(`${api}/api/users`, { username, password, role: 'viewer' });
      // Five failures are free; the sixth locks the user for a second, doubling with each later one.
      const statuses: number[] = [];
      for (let i = 0; i < 20 && !statuses.includes(429); i++) {
        statuses.push(
          (await call(`${api}/auth/login`, 'POST', {}, { username, password: 'wrong-password' })).status,
        );
      }
      expect(statuses.slice(0, 6)).toEqual([401, 401, 401, 401, 401, 401]);
      expect(statuses.at(-1)).toBe(429);
      const locked = await call(`${api}/auth/login`, 'POST', {}, { username, password });
      expect(locked.status).toBe(429);
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(locked.body).toMatchObject({ error: { code: 'TOO_MANY_ATTEMPTS' } });
    });

    it('serves the public keys as a JWKS, without private parts', async () => {
      const jwks = await call(`${api}/.well-known/jwks.json`, 'GET');
      expect(jwks.body.keys).toEqual([
        expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', kid: key.kid, alg: 'EdDSA' }),
      ]);
      expect(JSON.stringify(jwks.body)).not.toContain('"d"');
    });
  });

  describe('token attacks: each answered 401', () => {
    const now = () => Date.now();
    const valid = () => issueToken(key, { subject: 'admin', role: 'admin' }, { issuer, now: now() });
    const forged = async (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
      new SignJWT({ role: 'admin', ...claims })
        .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, ...header })
        .sign(key.privateKey);
    const iat = () => Math.floor(now() / 1000);
    const attacks: [string, () => Promise<string>][] = [
      [
        'alg none',
        async () =>
          `${b64({ alg: 'none', kid: key.kid })}.${b64({ sub: 'admin', role: 'admin', iss: issuer, aud: 'pulseboard-api', iat: iat(), nbf: iat(), exp: iat() + 600 })}.`,
      ],
      [
        'HS256 with the public key as the secret',
        async () =>
          new SignJWT({ role: 'admin' })
            .setProtectedHeader({ alg: 'HS256', kid: key.kid })
            .setSubject('admin')
            .setIssuer(issuer)
            .setAudience('pulseboard-api')
            .setIssuedAt()
            .setNotBefore(iat())
            .setExpirationTime('10m')
            .sign(new TextEncoder().encode(JSON.stringify(key.publicJwk))),
      ],
      [
        'expired',
        () =>
          forged({
            sub: 'admin',
            iss: issuer,
            aud: 'pulseboard-api',
            iat: iat() - 7200,
            nbf: iat() - 7200,
            exp: iat() - 3600,
          }),
      ],
      [
        'not yet valid',
        () =>
          forged({
            sub: 'admin',
            iss: issuer,
            aud: 'pulseboard-api',
            iat: iat(),
            nbf: iat() + 3600,
            exp: iat() + 7200,
          }),
      ],
      [
        'wrong issuer',
        () =>
          forged({
            sub: 'admin',
            iss: 'pulseboard:another-stage',
            aud: 'pulseboard-api',
            iat: iat(),
            nbf: iat(),
            exp: iat() + 600,
          }),
      ],
      [
        'wrong audience',
        () =>
          forged({
            sub: 'admin',
            iss: issuer,
            aud: 'someone-else',
            iat: iat(),
            nbf: iat(),
            exp: iat() + 600,
          }),
      ],
      [
        'tampered payload',
        async () => {
          const viewer = await issueToken(
            key,
            { subject: 'mallory', role: 'viewer' },
            { issuer, now: now() },
          );
          const [header, payload, signature] = viewer.split('.');
          const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString());
          return `${header}.${b64({ ...claims, role: 'admin' })}.${signature}`;
        },
      ],
      [
        'unknown kid',
        () =>
          forged(
            { sub: 'admin', iss: issuer, aud: 'pulseboard-api', iat: iat(), nbf: iat(), exp: iat() + 600 },
            { kid: 'not-a-key' },
          ),
      ],
      [
        'signed by another key',
        async () => {
          const other = keyFromSeed(`attacker-${randomUUID()}`);
          return new SignJWT({ role: 'admin' })
            .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
            .setSubject('admin')
            .setIssuer(issuer)
            .setAudience('pulseboard-api')
            .setIssuedAt()
            .setNotBefore(iat())
            .setExpirationTime('10m')
            .sign(other.privateKey);
        },
      ],
    ];

    it('accepts the unaltered token these attacks start from', async () => {
      expect((await call(`${api}/auth/me`, 'GET', bearer(await valid()))).status).toBe(200);
    });

    for (const [name, make] of attacks) {
      it(`refuses ${name}`, async () => {
        const response = await call(`${api}/api/users`, 'GET', bearer(await make()));
        expect(response.status).toBe(401);
      });
    }

    it('refuses a request with no token at all', async () => {
      expect((await call(`${api}/api/alerts`, 'GET')).status).toBe(401);
    });
  });

  describe('the route table (every route × every role, and no token)', () => {
    const principals = ['none', 'viewer', 'editor', 'admin', 'api key'] as const;
    const rank = { viewer: 0, editor: 1, admin: 2 } as const;
    const expected = (access: string, who: (typeof principals)[number]): 'allowed' | 401 | 403 => {
      if (access === 'public') return 'allowed';
      if (who === 'none') return 401;
      if (who === 'api key') return access === 'ingest' ? 'allowed' : 403;
      if (access === 'alerts_read') return 'allowed';
      if (access === 'ingest' || access === 'alerts') return rank[who] >= rank.editor ? 'allowed' : 403;
      return rank[who] >= rank[access as Role] ? 'allowed' : 403;
    };
    for (const [routeKey, access] of Object.entries(ROUTE_ACCESS)) {
      it(`${routeKey} needs ${access}`, async () => {
        const [method, template] = routeKey.split(' ') as [string, string];
        // Unknown ids and empty bodies: an allowed call reaches the function and changes nothing that matters.
        const path = template.replace(/\{[^}]+\}/g, `zz-${randomUUID().slice(0, 8)}`);
        for (const who of principals) {
          const headers =
            who === 'none' ? {} : who === 'api key' ? bearer(ingestKey) : bearer(tokens[who] as string);
          const response = await call(`${api}${path}`, method, headers, method === 'GET' ? undefined : {});
          const want = expected(access, who);
          if (want === 'allowed')
            expect([401, 403], `${who}: ${response.status}`).not.toContain(response.status);
          else expect(response.status, who).toBe(want);
        }
      });
    }
  });

  describe('API keys', () => {
    it('lets an ingest key send metrics, and a revoked key nothing', async () => {
      const created = await postJson(`${api}/api/api-keys`, { name: 'revocation test' });
      const metrics = { metrics: [{ name: 'auth_test', value: 1 }] };
      expect((await call(`${api}/api/metrics`, 'POST', bearer(created.body.key), metrics)).status).toBe(202);
      const other = await postJson(`${api}/api/api-keys`, { name: 'revoked before use' });
      const revoked = await call(
        `${api}/api/api-keys/${other.body.id}`,
        'DELETE',
        bearer(tokens.admin as string),
      );
      expect(revoked.status).toBe(204);
      expect((await call(`${api}/api/metrics`, 'POST', bearer(other.body.key), metrics)).status).toBe(401);
      const listed = await call(`${api}/api/api-keys`, 'GET', bearer(tokens.admin as string));
      expect(JSON.stringify(listed.body)).not.toContain(other.body.key);
      expect(listed.body.keys).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ id: other.body.id, revokedAt: expect.any(String) }),
        ]),
      );
    });
  });

  describe('WebSocket $connect', () => {
    it('refuses a connection without a token', async () => {
      expect((await handshake(runtime.urls.WebSocketUrl)).status).toBe(401);
    });

    it('refuses a forged token and an API key', async () => {
      const forged = keyFromSeed('attacker');
      const token = await issueToken(
        { ...forged, kid: key.kid },
        { subject: 'admin', role: 'admin' },
        { issuer, now: Date.now() },
      );
      expect((await handshake(`${runtime.urls.WebSocketUrl}?token=${token}`)).status).toBe(401);
      expect((await handshake(`${runtime.urls.WebSocketUrl}?token=${ingestKey}`)).status).toBe(403);
    });

    it('accepts a token in the query string, in the subprotocol (echoing pulseboard) or in Authorization', async () => {
      const token = tokens.viewer as string;
      expect((await handshake(`${runtime.urls.WebSocketUrl}?token=${token}`)).status).toBe(101);
      expect(await handshake(runtime.urls.WebSocketUrl, { protocols: ['pulseboard', token] })).toEqual({
        status: 101,
        protocol: 'pulseboard',
      });
      expect((await handshake(runtime.urls.WebSocketUrl, { headers: bearer(token) })).status).toBe(101);
    });
  });
});
