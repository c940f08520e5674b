import { beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin, login, me, publicKeys } from '../../../functions/auth/auth-api';
import { hashPassword, verifyPassword } from '../../../functions/shared/domain/auth/passwords';
import type { User } from '../../../functions/shared/domain/auth/stores';
import {
  afterFailure,
  type FailureRecord,
  lockout,
  SOURCE_POLICY,
  USER_POLICY,
} from '../../../functions/shared/domain/auth/throttle';
import { jwks, keyFromSeed, TokenRejected, verifyToken } from '../../../functions/shared/domain/auth/tokens';
import {
  PulseboardError,
  TooManyAttemptsError,
  UnauthorizedError,
  ValidationError,
} from '../../../functions/shared/errors';
import { errorResponse } from '../../../functions/shared/http';
import { MemoryThrottleStore, MemoryUserStore, manualClock, StaticKeySource } from './memory-stores';

const ISSUER = 'https://auth.pulseboard.test';
const PASSWORD = 'correct horse battery staple';
const WRONG = 'incorrect horse battery staple';
const IP = '203.0.113.7';
const current = keyFromSeed('login-current');
const previous = keyFromSeed('login-previous');

// One real scrypt hash, shared by every stored user: each failed attempt still costs one
// verification (tens of ms), so the tests below keep their attempt counts to what they prove.
let passwordHash: string;
beforeAll(async () => {
  passwordHash = await hashPassword(PASSWORD);
});

function setup(users: Partial<User>[] = [{ username: 'alice', role: 'editor' }]) {
  const time = manualClock();
  const store = new MemoryUserStore();
  for (const user of users) {
    store.items.set(user.username as string, {
      username: user.username as string,
      role: user.role ?? 'viewer',
      passwordHash: user.passwordHash ?? passwordHash,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    });
  }
  const throttle = new MemoryThrottleStore();
  const keys = new StaticKeySource(current, previous);
  const deps = { users: store, throttle, keys, issuer: ISSUER, clock: time.clock };
  const attempt = (username: string, password: string, ip = IP) => login({ username, password }, ip, deps);
  return { time, store, throttle, keys, deps, attempt };
}

/** The rejection of a call; fails the test when it resolves. */
async function rejectionOf(call: Promise<unknown>): Promise<unknown> {
  const outcome = await call.then(
    () => ({ resolved: true as const }),
    (error: unknown) => ({ resolved: false as const, error }),
  );
  if (outcome.resolved) throw new Error('expected the call to be refused');
  return outcome.error;
}

async function failTimes(attempt: () => Promise<unknown>, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    expect(await rejectionOf(attempt())).toBeInstanceOf(UnauthorizedError);
  }
}

describe('throttle policy', () => {
  it('lets five failures per user go free, then locks for 1 s, 2 s, 4 s … capped at 15 min', () => {
    // Prepare
    let record: FailureRecord | undefined;
    const locks: number[] = [];

    // Act
    for (let i = 0; i < 20; i++) {
      record = afterFailure(record, 1_000_000, USER_POLICY);
      locks.push(record.lockedUntil === 0 ? 0 : record.lockedUntil - 1_000_000);
    }

    // Assess
    expect(locks.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(locks.slice(5, 11)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000]);
    expect(locks.at(-1)).toBe(15 * 60_000);
    expect(record?.failures).toBe(20);
  });

  it('lets a source fail twenty times before it locks', () => {
    // Prepare
    let record: FailureRecord | undefined;

    // Act
    for (let i = 0; i < 20; i++) record = afterFailure(record, 0, SOURCE_POLICY);
    const twentieth = record;
    record = afterFailure(record, 0, SOURCE_POLICY);

    // Assess
    expect(twentieth?.lockedUntil).toBe(0);
    expect(record.lockedUntil).toBe(1_000);
  });

  it('forgets failures older than the window', () => {
    // Prepare
    const old: FailureRecord = { failures: 9, lastFailureAt: 0, lockedUntil: 0 };

    // Act
    const within = afterFailure(old, USER_POLICY.windowMs, USER_POLICY);
    const after = afterFailure(old, USER_POLICY.windowMs + 1, USER_POLICY);

    // Assess
    expect(within.failures).toBe(10);
    expect(after).toEqual({ failures: 1, lastFailureAt: USER_POLICY.windowMs + 1, lockedUntil: 0 });
  });

  it('reports a lock and its remaining time until it expires', () => {
    // Prepare
    const record: FailureRecord = { failures: 6, lastFailureAt: 0, lockedUntil: 1_000 };

    // Act / Assess
    expect(lockout(undefined, 0)).toEqual({ locked: false, retryAfterMs: 0 });
    expect(lockout(record, 250)).toEqual({ locked: true, retryAfterMs: 750 });
    expect(lockout(record, 1_000)).toEqual({ locked: false, retryAfterMs: 0 });
  });
});

describe('login', () => {
  it('answers a bearer token that verifies with the user and role', async () => {
    // Prepare
    const { attempt, time } = setup();

    // Act
    const answer = await attempt('alice', PASSWORD);

    // Assess
    expect(answer).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600 });
    await expect(
      verifyToken(answer.access_token, [current, previous], { issuer: ISSUER, now: time.state.now }),
    ).resolves.toEqual({ subject: 'alice', role: 'editor' });
    await expect(
      verifyToken(answer.access_token, [previous], { issuer: ISSUER, now: time.state.now }),
    ).rejects.toBeInstanceOf(TokenRejected);
  });

  it('answers an unknown user and a wrong password with the identical 401', async () => {
    // Prepare
    const { attempt } = setup();

    // Act
    const unknown = await rejectionOf(attempt('mallory', PASSWORD));
    const wrong = await rejectionOf(attempt('alice', WRONG));

    // Assess
    expect(unknown).toBeInstanceOf(UnauthorizedError);
    expect(wrong).toBeInstanceOf(UnauthorizedError);
    expect((unknown as Error).message).toBe('Invalid username or password');
    expect((wrong as Error).message).toBe((unknown as Error).message);
    expect(errorResponse(unknown)).toEqual(errorResponse(wrong));
  });

  it('does not match a user by another case of the name', async () => {
    // Prepare
    const { attempt } = setup();

    // Act / Assess
    expect(await rejectionOf(attempt('ALICE', PASSWORD))).toBeInstanceOf(UnauthorizedError);
  });

  it.each([
    ['no body', undefined],
    ['an array', [{ username: 'alice', password: PASSWORD }]],
    ['no password', { username: 'alice' }],
    ['an empty username', { username: '', password: PASSWORD }],
    ['a number as password', { username: 'alice', password: 123456789012 }],
    ['a username over 64 characters', { username: 'a'.repeat(65), password: PASSWORD }],
    ['a password over 256 characters', { username: 'alice', password: 'x'.repeat(257) }],
  ])('refuses %s with a ValidationError before any lookup', async (_, body) => {
    // Prepare
    const { deps, store, throttle } = setup();

    // Act
    const error = await rejectionOf(login(body, IP, deps));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.length).toBeGreaterThan(0);
    expect(store.gets).toBe(0);
    expect(throttle.items.size).toBe(0);
  });

  it('still checks the password after five failures: they are free', async () => {
    // Prepare
    const { attempt, throttle } = setup();
    await failTimes(() => attempt('alice', WRONG), 5);

    // Act
    const answer = await attempt('alice', PASSWORD);

    // Assess
    expect(answer.token_type).toBe('Bearer');
    expect(throttle.items.has('user:alice')).toBe(false);
  });

  it('locks the user for 1 s after the sixth failure, refusing even the right password without checking it', async () => {
    // Prepare
    const { attempt, store, throttle } = setup();
    await failTimes(() => attempt('alice', WRONG), 6);
    const before = { ...throttle.items.get('user:alice') };
    const lookups = store.gets;

    // Act
    const refused = await rejectionOf(attempt('alice', PASSWORD));

    // Assess
    expect(refused).toBeInstanceOf(TooManyAttemptsError);
    expect((refused as TooManyAttemptsError).retryAfterSeconds).toBe(1);
    expect(errorResponse(refused).statusCode).toBe(429);
    expect(JSON.parse(errorResponse(refused).body as string)).toEqual({
      error: { code: 'TOO_MANY_ATTEMPTS', message: expect.any(String), retryAfterSeconds: 1 },
    });
    expect(store.gets).toBe(lookups);
    expect(throttle.items.get('user:alice')).toEqual(before);
  });

  it('lets the user in once the lock expires, and doubles the lock on the next failure', async () => {
    // Prepare
    const { attempt, time, throttle } = setup();
    await failTimes(() => attempt('alice', WRONG), 6);
    time.advance(1_000);
    await failTimes(() => attempt('alice', WRONG), 1);

    // Act
    const locked = await rejectionOf(attempt('alice', PASSWORD));
    time.advance(1_999);
    const stillLocked = await rejectionOf(attempt('alice', PASSWORD));
    time.advance(1);
    const answer = await attempt('alice', PASSWORD);

    // Assess
    expect((locked as TooManyAttemptsError).retryAfterSeconds).toBe(2);
    expect((stillLocked as TooManyAttemptsError).retryAfterSeconds).toBe(1);
    expect(answer.token_type).toBe('Bearer');
    expect(throttle.items.has('user:alice')).toBe(false);
  });

  it('counts failures per user name whatever its case', async () => {
    // Prepare
    const { attempt, throttle } = setup();

    // Act
    await failTimes(() => attempt('Alice', WRONG), 1);
    await failTimes(() => attempt('ALICE', WRONG), 1);

    // Assess
    expect(throttle.items.get('user:alice')?.failures).toBe(2);
  });

  it('clears the user record on success but keeps the source record', async () => {
    // Prepare
    const { attempt, throttle } = setup();
    await failTimes(() => attempt('alice', WRONG), 2);

    // Act
    await attempt('alice', PASSWORD);

    // Assess
    expect(throttle.items.has('user:alice')).toBe(false);
    expect(throttle.items.get(`source:${IP}`)?.failures).toBe(2);
  });

  it('locks a source address after twenty failures across different user names', {
    timeout: 30_000,
  }, async () => {
    // Prepare: one failure for each of twenty names, then a success that leaves the source count.
    const { attempt, throttle } = setup();
    for (let i = 0; i < 20; i++) await failTimes(() => attempt(`user${i}`, WRONG), 1);
    await attempt('alice', PASSWORD);
    await failTimes(() => attempt('user20', WRONG), 1);

    // Act
    const refused = await rejectionOf(attempt('alice', PASSWORD));
    const otherSource = await attempt('alice', PASSWORD, '198.51.100.1');

    // Assess
    expect(refused).toBeInstanceOf(TooManyAttemptsError);
    expect((refused as TooManyAttemptsError).retryAfterSeconds).toBe(1);
    expect(throttle.items.get(`source:${IP}`)?.failures).toBe(21);
    expect(throttle.items.get('user:user0')?.failures).toBe(1);
    expect(otherSource.token_type).toBe('Bearer');
  });

  // Regression (see passwords.test.ts): a stored hash with impossible scrypt parameters must not
  // make login answer 500 instead of the plain 401 every other failure gets.
  it('answers a corrupt stored hash with the same 401, not a server error', async () => {
    // Prepare
    const { attempt } = setup([
      {
        username: 'corrupt',
        passwordHash: 'scrypt$3$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      },
    ]);

    // Act
    const error = await rejectionOf(attempt('corrupt', PASSWORD));

    // Assess
    expect(error).toBeInstanceOf(PulseboardError);
    expect(errorResponse(error).statusCode).toBe(401);
  });
});

describe('me and publicKeys', () => {
  it('describes a user or an API key, and refuses no principal', () => {
    // Act / Assess
    expect(me({ kind: 'user', subject: 'alice', role: 'viewer' })).toEqual({
      kind: 'user',
      username: 'alice',
      role: 'viewer',
    });
    expect(me({ kind: 'api_key', subject: '0123456789ab', scope: 'ingest' })).toEqual({
      kind: 'api_key',
      id: '0123456789ab',
      scope: 'ingest',
    });
    expect(() => me(undefined)).toThrow(UnauthorizedError);
  });

  it('publishes the current and previous public keys', async () => {
    // Act
    const set = await publicKeys(new StaticKeySource(current, previous));

    // Assess
    expect(set).toEqual(jwks([current, previous]));
    expect(set.keys.map((k) => k.kid)).toEqual([current.kid, previous.kid]);
  });
});

describe('bootstrapAdmin', () => {
  it('creates the first admin once and leaves an existing user untouched', async () => {
    // Prepare
    const { store, time } = setup([]);

    // Act
    const first = await bootstrapAdmin({ username: 'root', password: PASSWORD }, store, time.clock);
    const stored = store.items.get('root');
    const second = await bootstrapAdmin(
      { username: 'root', password: 'another long password' },
      store,
      time.clock,
    );

    // Assess
    expect(first).toEqual({ username: 'root', created: true });
    expect(second).toEqual({ username: 'root', created: false });
    expect(stored?.role).toBe('admin');
    expect(store.items.get('root')).toEqual(stored);
    await expect(verifyPassword(PASSWORD, stored?.passwordHash as string)).resolves.toBe(true);
  });

  it.each([
    ['a short password', { username: 'root', password: 'short' }],
    ['a bad user name', { username: '-root', password: PASSWORD }],
    ['nothing', undefined],
  ])('refuses %s', async (_, input) => {
    // Prepare
    const { store, time } = setup([]);

    // Act
    const error = await rejectionOf(bootstrapAdmin(input, store, time.clock));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect(store.items.size).toBe(0);
  });
});
