import { calculateJwkThumbprint, createLocalJWKSet, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { authenticate } from '../../../functions/authorizer/authorize';
import {
  issueToken,
  jwks,
  keyFromSeed,
  TOKEN_AUDIENCE,
  TokenRejected,
  verifyToken,
} from '../../../functions/shared/domain/auth/tokens';
import { MemoryApiKeyStore, StaticKeySource } from './memory-stores';

const ISSUER = 'https://auth.pulseboard.test';
const NOW = Date.parse('2026-05-01T12:00:00Z');
const NOW_S = Math.floor(NOW / 1000);

const current = keyFromSeed('current-signing-seed');
const previous = keyFromSeed('previous-signing-seed');
const stranger = keyFromSeed('an-attacker-seed');

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const utf8 = (text: string) => new TextEncoder().encode(text);

/** Every claim a valid Pulseboard token carries, with overrides. */
function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  return {
    sub: 'alice',
    role: 'viewer',
    iss: ISSUER,
    aud: TOKEN_AUDIENCE,
    iat: NOW_S,
    nbf: NOW_S,
    exp: NOW_S + 3600,
    ...overrides,
  };
}

/** A JWT signed by hand, so a test controls every header field and claim. */
function sign(
  payload: JWTPayload,
  options: { header?: Record<string, unknown>; key?: Parameters<SignJWT['sign']>[0] } = {},
): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'EdDSA', kid: current.kid, typ: 'JWT', ...options.header } as { alg: string })
    .sign(options.key ?? current.privateKey);
}

function authDeps(keys = new StaticKeySource(current, previous)) {
  return { keys, apiKeys: new MemoryApiKeyStore(), issuer: ISSUER, clock: () => NOW };
}

const verify = (token: string, keys = [current, previous]) =>
  verifyToken(token, keys, { issuer: ISSUER, now: NOW });

/** The token is refused both by the verifier and by the authorizer's authenticate (bare and as Bearer). */
async function expectRefused(token: string): Promise<void> {
  await expect(verify(token)).rejects.toBeInstanceOf(TokenRejected);
  expect(await authenticate(token, authDeps())).toBeUndefined();
  expect(await authenticate(`Bearer ${token}`, authDeps())).toBeUndefined();
}

describe('verifyToken: attacks from the issue list', () => {
  it('refuses alg "none" with an empty signature', async () => {
    // Prepare
    const withKid = `${b64({ alg: 'none', typ: 'JWT', kid: current.kid })}.${b64(claims({ role: 'admin' }))}.`;
    const bare = `${b64({ alg: 'none' })}.${b64(claims({ role: 'admin' }))}.`;
    const capitalised = `${b64({ alg: 'None', kid: current.kid })}.${b64(claims())}.`;

    // Act / Assess
    await expectRefused(withKid);
    await expectRefused(bare);
    await expectRefused(capitalised);
  });

  const publicSecrets: [string, () => Uint8Array][] = [
    ['the raw public key bytes (JWK x)', () => Buffer.from(current.publicJwk.x as string, 'base64url')],
    ['the public JWK as JSON', () => utf8(JSON.stringify(current.publicJwk))],
    [
      'the public key as PEM',
      () => utf8(current.publicKey.export({ type: 'spki', format: 'pem' }) as string),
    ],
    [
      'the public key as DER',
      () => new Uint8Array(current.publicKey.export({ type: 'spki', format: 'der' })),
    ],
  ];

  it.each(publicSecrets)(
    'refuses an HS256 token whose HMAC secret is %s (key confusion)',
    async (_, secret) => {
      // Prepare
      const hs256 = await sign(claims({ role: 'admin' }), { header: { alg: 'HS256' }, key: secret() });
      const hs512 = await sign(claims({ role: 'admin' }), { header: { alg: 'HS512' }, key: secret() });

      // Act / Assess
      await expectRefused(hs256);
      await expectRefused(hs512);
    },
  );

  it('refuses an expired token', async () => {
    // Prepare: issued two hours ago with the one-hour lifetime.
    const token = await issueToken(
      current,
      { subject: 'alice', role: 'viewer' },
      { issuer: ISSUER, now: NOW - 7_200_000 },
    );

    // Act / Assess
    await expectRefused(token);
  });

  it('allows 5 s of clock skew on exp but no more', async () => {
    // Prepare
    const justExpired = await sign(claims({ exp: NOW_S - 3 }));
    const wellExpired = await sign(claims({ exp: NOW_S - 10 }));

    // Act / Assess
    await expect(verify(justExpired)).resolves.toEqual({ subject: 'alice', role: 'viewer' });
    await expectRefused(wellExpired);
  });

  it('refuses a token that is not valid yet (nbf beyond the tolerance)', async () => {
    // Prepare
    const handmade = await sign(claims({ nbf: NOW_S + 60 }));
    const issuedInTheFuture = await issueToken(
      current,
      { subject: 'alice', role: 'viewer' },
      { issuer: ISSUER, now: NOW + 120_000 },
    );
    const withinTolerance = await sign(claims({ nbf: NOW_S + 3 }));

    // Act / Assess
    await expectRefused(handmade);
    await expectRefused(issuedInTheFuture);
    await expect(verify(withinTolerance)).resolves.toEqual({ subject: 'alice', role: 'viewer' });
  });

  it('refuses a token from another issuer', async () => {
    // Prepare
    const handmade = await sign(claims({ iss: 'https://evil.example' }));
    const issued = await issueToken(
      current,
      { subject: 'alice', role: 'admin' },
      { issuer: 'https://other', now: NOW },
    );
    const noIssuer = await sign(claims({ iss: undefined }));

    // Act / Assess
    await expectRefused(handmade);
    await expectRefused(issued);
    await expectRefused(noIssuer);
  });

  it('refuses a token for another audience', async () => {
    // Prepare
    const other = await sign(claims({ aud: 'some-other-api' }));
    const none = await sign(claims({ aud: undefined }));

    // Act / Assess
    await expectRefused(other);
    await expectRefused(none);
  });

  it('refuses a tampered payload that keeps the original signature', async () => {
    // Prepare
    const token = await issueToken(
      current,
      { subject: 'alice', role: 'viewer' },
      { issuer: ISSUER, now: NOW },
    );
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const promoted = `${header}.${b64({ ...decoded, role: 'admin' })}.${signature}`;
    const renamed = `${header}.${b64({ ...decoded, sub: 'root' })}.${signature}`;
    const unsigned = `${header}.${payload}.`;

    // Act / Assess
    await expect(verify(token)).resolves.toEqual({ subject: 'alice', role: 'viewer' });
    await expectRefused(promoted);
    await expectRefused(renamed);
    await expectRefused(unsigned);
  });

  it('refuses an unknown kid and a missing kid, even when the signature is good', async () => {
    // Prepare
    const unknown = await sign(claims(), { header: { kid: 'not-a-known-kid' } });
    const missing = await sign(claims(), { header: { kid: undefined } });

    // Act / Assess
    await expectRefused(unknown);
    await expectRefused(missing);
  });

  it('refuses a token signed by another Ed25519 key that claims the right kid', async () => {
    // Prepare
    const forged = await sign(claims({ role: 'admin' }), { key: stranger.privateKey });

    // Act / Assess
    await expectRefused(forged);
  });

  it('refuses another allowed-looking algorithm name for the same key (Ed25519 instead of EdDSA)', async () => {
    // Prepare
    const token = await sign(claims(), { header: { alg: 'Ed25519' } });

    // Act / Assess
    await expectRefused(token);
  });

  it.each([
    ['sub', { sub: undefined }],
    ['exp', { exp: undefined }],
    ['nbf', { nbf: undefined }],
    ['iat', { iat: undefined }],
  ])('refuses a token without %s', async (_, overrides) => {
    // Prepare
    const token = await sign(claims(overrides));

    // Act / Assess
    await expectRefused(token);
  });

  it.each([
    ['an unknown role', { role: 'root' }],
    ['a missing role', { role: undefined }],
    ['a role list', { role: ['admin'] }],
    ['a role of another case', { role: 'Admin' }],
    ['a role object', { role: { toString: 'admin' } }],
    ['a numeric subject', { sub: 42 }],
  ])('refuses %s', async (_, overrides) => {
    // Prepare
    const token = await sign(claims(overrides));

    // Act / Assess
    await expectRefused(token);
  });

  it.each([
    '',
    ' ',
    'null',
    'undefined',
    'not a token',
    'a.b.c',
    '...',
    'a.b',
    'a.b.c.d.e',
    'eyJ.eyJ.',
    `${b64({ alg: 'EdDSA', kid: current.kid })}.not-base64!.sig`,
    `${b64({ alg: 'EdDSA', kid: current.kid })}.${Buffer.from('not json').toString('base64url')}.c2ln`,
    `${b64('just a string')}.${b64(claims())}.c2ln`,
    `${b64({ alg: 'EdDSA', kid: current.kid })}.${b64([1, 2, 3])}.c2ln`,
    '\u0000\u0001\u0002',
    '🔑.🔑.🔑',
  ])('refuses the garbage %j', async (garbage) => {
    // Act / Assess
    await expectRefused(garbage);
  });

  it('refuses a huge token in the authorizer before any crypto, and as garbage in the verifier', async () => {
    // Prepare: a correctly signed token padded past 4096 characters, and plain junk.
    const padded = await sign(claims({ padding: 'x'.repeat(5000) }));
    const junk = 'A'.repeat(10_000);
    const keys = new StaticKeySource(current, previous);

    // Act
    const fromPadded = await authenticate(`Bearer ${padded}`, authDeps(keys));
    const fromJunk = await authenticate(junk, authDeps(keys));

    // Assess
    expect(padded.length).toBeGreaterThan(4096);
    expect(fromPadded).toBeUndefined();
    expect(fromJunk).toBeUndefined();
    expect(keys.allCalls).toBe(0);
    await expect(verify(junk)).rejects.toBeInstanceOf(TokenRejected);
  });

  it('refuses no credential at all', async () => {
    // Act / Assess
    expect(await authenticate(undefined, authDeps())).toBeUndefined();
    expect(await authenticate('Bearer ', authDeps())).toBeUndefined();
  });
});

describe('verifyToken: valid tokens', () => {
  it('accepts a token it issued and returns its subject and role', async () => {
    // Prepare
    const token = await issueToken(
      current,
      { subject: 'alice', role: 'editor' },
      { issuer: ISSUER, now: NOW },
    );

    // Act
    const verified = await verify(token);
    const principal = await authenticate(`bearer   ${token}`, authDeps());

    // Assess
    expect(verified).toEqual({ subject: 'alice', role: 'editor' });
    expect(principal).toEqual({ kind: 'user', subject: 'alice', role: 'editor' });
  });

  it('issues EdDSA tokens with kid, typ and every required claim', async () => {
    // Prepare
    const token = await issueToken(current, { subject: 'bob', role: 'admin' }, { issuer: ISSUER, now: NOW });
    const [header, payload] = token.split('.') as [string, string];

    // Act
    const decodedHeader = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    const decodedPayload = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));

    // Assess
    expect(decodedHeader).toEqual({ alg: 'EdDSA', kid: current.kid, typ: 'JWT' });
    expect(decodedPayload).toEqual(claims({ sub: 'bob', role: 'admin' }));
  });

  it('still accepts a token signed with the previous key after a rotation', async () => {
    // Prepare
    const token = await issueToken(
      previous,
      { subject: 'alice', role: 'viewer' },
      { issuer: ISSUER, now: NOW },
    );

    // Act / Assess
    await expect(verify(token, [current, previous])).resolves.toEqual({ subject: 'alice', role: 'viewer' });
    expect(await authenticate(token, authDeps())).toEqual({ kind: 'user', subject: 'alice', role: 'viewer' });
    await expect(verify(token, [current])).rejects.toBeInstanceOf(TokenRejected);
  });

  it('derives the same key and kid from the same seed, and a different one from another seed', async () => {
    // Prepare
    const again = keyFromSeed('current-signing-seed');

    // Act
    const thumbprint = await calculateJwkThumbprint(current.publicJwk, 'sha256');

    // Assess
    expect(again.kid).toBe(current.kid);
    expect(again.publicJwk.x).toBe(current.publicJwk.x);
    expect(previous.kid).not.toBe(current.kid);
    expect(current.kid).toBe(thumbprint);
  });
});

describe('jwks', () => {
  it('publishes the public halves of every key, never the private part', () => {
    // Act
    const set = jwks([current, previous]);

    // Assess
    expect(set.keys).toHaveLength(2);
    for (const [index, key] of set.keys.entries()) {
      const source = [current, previous][index];
      expect(key).toEqual({
        kty: 'OKP',
        crv: 'Ed25519',
        x: source?.publicJwk.x,
        kid: source?.kid,
        alg: 'EdDSA',
        use: 'sig',
      });
      expect(key).not.toHaveProperty('d');
    }
    expect(JSON.stringify(set)).not.toMatch(/"d"/);
  });

  it('lets a standard JOSE client verify Pulseboard tokens from the published set', async () => {
    // Prepare
    const token = await issueToken(
      previous,
      { subject: 'alice', role: 'viewer' },
      { issuer: ISSUER, now: NOW },
    );
    const set = createLocalJWKSet(JSON.parse(JSON.stringify(jwks([current, previous]))));

    // Act
    const { payload } = await jwtVerify(token, set, {
      issuer: ISSUER,
      audience: TOKEN_AUDIENCE,
      currentDate: new Date(NOW),
    });

    // Assess
    expect(payload).toMatchObject({ sub: 'alice', role: 'viewer' });
  });
});
