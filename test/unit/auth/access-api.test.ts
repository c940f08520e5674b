import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  changeUser,
  createKey,
  createUser,
  deleteUser,
  keyView,
  revokeKey,
  userView,
} from '../../../functions/access-admin/access-api';
import { authenticate } from '../../../functions/authorizer/authorize';
import { API_KEY_PATTERN, newApiKey, parseApiKey } from '../../../functions/shared/domain/auth/api-keys';
import { hashPassword, verifyPassword } from '../../../functions/shared/domain/auth/passwords';
import type { Principal } from '../../../functions/shared/domain/auth/roles';
import { keyFromSeed } from '../../../functions/shared/domain/auth/tokens';
import { ConflictError, NotFoundError, ValidationError } from '../../../functions/shared/errors';
import { errorResponse } from '../../../functions/shared/http';
import { MemoryApiKeyStore, MemoryUserStore, manualClock, StaticKeySource } from './memory-stores';

const PASSWORD = 'correct horse battery staple';
const ADMIN: Principal = { kind: 'user', subject: 'ada', role: 'admin' };
const AT = '2026-05-01T12:00:00.000Z';

let passwordHash: string;
beforeAll(async () => {
  passwordHash = await hashPassword(PASSWORD);
});

function setup() {
  const time = manualClock(Date.parse(AT));
  const users = new MemoryUserStore();
  for (const [username, role] of [
    ['ada', 'admin'],
    ['bob', 'viewer'],
  ] as const) {
    users.items.set(username, { username, role, passwordHash, createdAt: AT, updatedAt: AT });
  }
  const keys = new MemoryApiKeyStore();
  const authDeps = {
    keys: new StaticKeySource(keyFromSeed('access-api')),
    apiKeys: keys,
    issuer: 'https://auth.pulseboard.test',
    clock: time.clock,
  };
  return { time, users, keys, authDeps };
}

async function rejectionOf(call: Promise<unknown>): Promise<unknown> {
  const outcome = await call.then(
    () => ({ resolved: true as const }),
    (error: unknown) => ({ resolved: false as const, error }),
  );
  if (outcome.resolved) throw new Error('expected the call to be refused');
  return outcome.error;
}

async function issuePaths(call: Promise<unknown>): Promise<string[]> {
  const error = await rejectionOf(call);
  expect(error).toBeInstanceOf(ValidationError);
  expect(errorResponse(error).statusCode).toBe(400);
  return (error as ValidationError).issues.map((issue) => issue.path);
}

describe('createUser', () => {
  it('creates a user and answers its view, never the hash', async () => {
    // Prepare
    const { users, time } = setup();

    // Act
    const view = await createUser(
      { username: 'carol.c@ops', password: PASSWORD, role: 'editor' },
      users,
      time.clock,
    );

    // Assess
    expect(view).toEqual({ username: 'carol.c@ops', role: 'editor', createdAt: AT, updatedAt: AT });
    expect(JSON.stringify(view)).not.toMatch(/scrypt|hash/i);
    const stored = users.items.get('carol.c@ops');
    expect(stored?.passwordHash).toMatch(/^scrypt\$/);
    await expect(verifyPassword(PASSWORD, stored?.passwordHash as string)).resolves.toBe(true);
  });

  it('refuses a user that exists with a ConflictError, leaving it untouched', async () => {
    // Prepare
    const { users, time } = setup();
    const before = users.items.get('bob');

    // Act
    const error = await rejectionOf(
      createUser({ username: 'bob', password: 'a different password', role: 'admin' }, users, time.clock),
    );

    // Assess
    expect(error).toBeInstanceOf(ConflictError);
    expect(errorResponse(error).statusCode).toBe(409);
    expect(users.items.get('bob')).toEqual(before);
  });

  it.each([
    ['a bad user name', { username: '-bad', password: PASSWORD, role: 'viewer' }, ['username']],
    ['a user name with a space', { username: 'a b', password: PASSWORD, role: 'viewer' }, ['username']],
    [
      'a user name over 64 characters',
      { username: 'a'.repeat(65), password: PASSWORD, role: 'viewer' },
      ['username'],
    ],
    ['a short password', { username: 'carol', password: 'short', role: 'viewer' }, ['password']],
    [
      'a password over 256 characters',
      { username: 'carol', password: 'x'.repeat(257), role: 'viewer' },
      ['password'],
    ],
    ['an unknown role', { username: 'carol', password: PASSWORD, role: 'root' }, ['role']],
    ['an extra field', { username: 'carol', password: PASSWORD, role: 'viewer', isAdmin: true }, ['']],
    [
      'a passwordHash field',
      { username: 'carol', password: PASSWORD, role: 'viewer', passwordHash: 'x' },
      [''],
    ],
    ['nothing', {}, ['username', 'password', 'role']],
  ])('refuses %s with a ValidationError naming the field', async (_, body, paths) => {
    // Prepare
    const { users, time } = setup();

    // Act
    const found = await issuePaths(createUser(body, users, time.clock));

    // Assess
    expect(found).toEqual(paths);
    expect(users.items.size).toBe(2);
  });

  it.each([undefined, null, 'carol', 42, ['carol']])('refuses a body of %j', async (body) => {
    // Prepare
    const { users, time } = setup();

    // Act / Assess
    expect(await issuePaths(createUser(body, users, time.clock))).toEqual(['']);
  });
});

describe('changeUser', () => {
  it('changes a role and the updatedAt time only', async () => {
    // Prepare
    const { users, time } = setup();
    time.advance(60_000);

    // Act
    const view = await changeUser('bob', { role: 'editor' }, ADMIN, users, time.clock);

    // Assess
    expect(view).toEqual({
      username: 'bob',
      role: 'editor',
      createdAt: AT,
      updatedAt: '2026-05-01T12:01:00.000Z',
    });
    expect(users.items.get('bob')?.passwordHash).toBe(passwordHash);
  });

  it('re-hashes a new password, so only the new one verifies', async () => {
    // Prepare
    const { users, time } = setup();
    const next = 'a brand new passphrase';

    // Act
    await changeUser('bob', { password: next }, ADMIN, users, time.clock);

    // Assess
    const stored = users.items.get('bob')?.passwordHash as string;
    expect(stored).not.toBe(passwordHash);
    expect(stored).toMatch(/^scrypt\$/);
    expect(users.items.get('bob')?.role).toBe('viewer');
    await expect(verifyPassword(next, stored)).resolves.toBe(true);
    await expect(verifyPassword(PASSWORD, stored)).resolves.toBe(false);
  });

  it.each(['editor', 'viewer'] as const)('refuses to let an admin demote themself to %s', async (role) => {
    // Prepare
    const { users, time } = setup();

    // Act
    const error = await rejectionOf(changeUser('ada', { role }, ADMIN, users, time.clock));

    // Assess
    expect(error).toBeInstanceOf(ConflictError);
    expect(users.items.get('ada')?.role).toBe('admin');
  });

  it('lets an admin keep their own admin role', async () => {
    // Prepare
    const { users, time } = setup();

    // Act
    const view = await changeUser('ada', { role: 'admin' }, ADMIN, users, time.clock);

    // Assess
    expect(view.role).toBe('admin');
  });

  it('answers NotFoundError for an unknown user', async () => {
    // Prepare
    const { users, time } = setup();

    // Act
    const error = await rejectionOf(changeUser('nobody', { role: 'viewer' }, ADMIN, users, time.clock));

    // Assess
    expect(error).toBeInstanceOf(NotFoundError);
    expect(users.items.has('nobody')).toBe(false);
  });

  it.each([
    ['an empty change', {}, ['']],
    ['an unknown role', { role: 'owner' }, ['role']],
    ['a short password', { password: 'short' }, ['password']],
    ['a username change', { username: 'robert' }, ['', '']],
  ])('refuses %s', async (_, body, paths) => {
    // Prepare
    const { users, time } = setup();

    // Act / Assess
    expect(await issuePaths(changeUser('bob', body, ADMIN, users, time.clock))).toEqual(paths);
  });
});

describe('deleteUser', () => {
  it('deletes another user', async () => {
    // Prepare
    const { users } = setup();

    // Act
    await deleteUser('bob', ADMIN, users);

    // Assess
    expect(users.items.has('bob')).toBe(false);
  });

  it('refuses to delete the caller', async () => {
    // Prepare
    const { users } = setup();

    // Act
    const error = await rejectionOf(deleteUser('ada', ADMIN, users));

    // Assess
    expect(error).toBeInstanceOf(ConflictError);
    expect(users.items.has('ada')).toBe(true);
  });

  it('answers NotFoundError for an unknown user', async () => {
    // Prepare
    const { users } = setup();

    // Act / Assess
    expect(await rejectionOf(deleteUser('nobody', ADMIN, users))).toBeInstanceOf(NotFoundError);
  });
});

describe('API keys', () => {
  it('creates an ingest key shown once, storing only the SHA-256 of its secret', async () => {
    // Prepare
    const { keys, time } = setup();

    // Act
    const created = await createKey({ name: 'edge agents' }, ADMIN, keys, time.clock);

    // Assess
    expect(created.key).toMatch(API_KEY_PATTERN);
    const parsed = parseApiKey(created.key);
    expect(parsed?.id).toBe(created.id);
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{12}$/),
      name: 'edge agents',
      scope: 'ingest',
      createdAt: AT,
      createdBy: 'ada',
      key: created.key,
    });
    const stored = keys.items.get(created.id);
    expect(stored?.secretHash).toBe(
      createHash('sha256')
        .update(parsed?.secret as string)
        .digest('hex'),
    );
    expect(JSON.stringify([...keys.items.values()])).not.toContain(parsed?.secret);
    expect(keyView(stored as NonNullable<typeof stored>)).not.toHaveProperty('secretHash');
    expect(keyView(stored as NonNullable<typeof stored>)).not.toHaveProperty('key');
  });

  it('makes a different key every time', () => {
    // Act
    const a = newApiKey();
    const b = newApiKey();

    // Assess
    expect(a.id).not.toBe(b.id);
    expect(a.key).not.toBe(b.key);
    expect(a.secretHash).not.toBe(b.secretHash);
  });

  it('authenticates a key until it is revoked, then never again', async () => {
    // Prepare
    const { keys, time, authDeps } = setup();
    const created = await createKey({ name: 'agent', scope: 'ingest' }, ADMIN, keys, time.clock);
    const before = await authenticate(`Bearer ${created.key}`, authDeps);

    // Act
    time.advance(1_000);
    await revokeKey(created.id, keys, time.clock);
    const after = await authenticate(`Bearer ${created.key}`, authDeps);
    const bare = await authenticate(created.key, authDeps);

    // Assess
    expect(before).toEqual({ kind: 'api_key', subject: created.id, scope: 'ingest' });
    expect(after).toBeUndefined();
    expect(bare).toBeUndefined();
    expect(keys.items.get(created.id)?.revokedAt).toBe('2026-05-01T12:00:01.000Z');
    expect(
      keyView(keys.items.get(created.id) as NonNullable<ReturnType<typeof keys.items.get>>).revokedAt,
    ).toBe('2026-05-01T12:00:01.000Z');
  });

  it('keeps the first revocation time when a key is revoked twice', async () => {
    // Prepare
    const { keys, time } = setup();
    const created = await createKey({ name: 'agent' }, ADMIN, keys, time.clock);
    await revokeKey(created.id, keys, time.clock);

    // Act
    time.advance(60_000);
    await revokeKey(created.id, keys, time.clock);

    // Assess
    expect(keys.items.get(created.id)?.revokedAt).toBe(AT);
  });

  it('refuses a key with the right id but another secret, and a key-shaped text with an unknown id', async () => {
    // Prepare
    const { keys, time, authDeps } = setup();
    const created = await createKey({ name: 'agent' }, ADMIN, keys, time.clock);
    const forged = `pb_${created.id}_${'A'.repeat(43)}`;
    const unknown = newApiKey().key;

    // Act / Assess
    expect(await authenticate(forged, authDeps)).toBeUndefined();
    expect(await authenticate(unknown, authDeps)).toBeUndefined();
    expect(await authenticate(`${created.key}x`, authDeps)).toBeUndefined();
  });

  it('answers NotFoundError when revoking an unknown key id', async () => {
    // Prepare
    const { keys, time } = setup();

    // Act
    const error = await rejectionOf(revokeKey('0123456789ab', keys, time.clock));

    // Assess
    expect(error).toBeInstanceOf(NotFoundError);
    expect(errorResponse(error).statusCode).toBe(404);
  });

  it.each([
    ['no name', {}, ['name']],
    ['an empty name', { name: '' }, ['name']],
    ['a name over 100 characters', { name: 'n'.repeat(101) }, ['name']],
    ['an admin scope', { name: 'k', scope: 'admin' }, ['scope']],
    ['an extra field', { name: 'k', secret: 'mine' }, ['']],
  ])('refuses a key with %s', async (_, body, paths) => {
    // Prepare
    const { keys, time } = setup();

    // Act / Assess
    expect(await issuePaths(createKey(body, ADMIN, keys, time.clock))).toEqual(paths);
    expect(keys.items.size).toBe(0);
  });

  it('shows users without their hash', () => {
    // Act
    const view = userView({
      username: 'u',
      role: 'viewer',
      passwordHash: 'scrypt$x',
      createdAt: AT,
      updatedAt: AT,
    });

    // Assess
    expect(view).toEqual({ username: 'u', role: 'viewer', createdAt: AT, updatedAt: AT });
  });
});
