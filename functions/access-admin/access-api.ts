import * as z from 'zod/mini';
import { USERNAME_PATTERN } from '../auth/auth-api';
import { newApiKey } from '../shared/domain/auth/api-keys';
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../shared/domain/auth/passwords';
import { API_KEY_SCOPES, type Principal, ROLES } from '../shared/domain/auth/roles';
import type { ApiKeyRecord, ApiKeyStore, User, UserStore } from '../shared/domain/auth/stores';
import { ConflictError, NotFoundError } from '../shared/errors';
import type { Clock } from '../shared/ports';
import { parseWith } from '../shared/validation';

const password = z.string().check(z.minLength(MIN_PASSWORD_LENGTH), z.maxLength(MAX_PASSWORD_LENGTH));
const newUserSchema = z.strictObject({
  username: z.string().check(z.regex(USERNAME_PATTERN, 'letters, digits and . _ @ -, up to 64 characters')),
  password,
  role: z.enum(ROLES),
});
const userChangeSchema = z
  .strictObject({ password: z.optional(password), role: z.optional(z.enum(ROLES)) })
  .check(z.refine((v) => v.password !== undefined || v.role !== undefined, 'send password, role or both'));
const newKeySchema = z.strictObject({
  name: z.string().check(z.minLength(1), z.maxLength(100)),
  scope: z.optional(z.enum(API_KEY_SCOPES)),
});

/** A user as the API shows it: never the hash. */
export const userView = (user: User) => ({
  username: user.username,
  role: user.role,
  createdAt: user.createdAt,
  updatedAt: user.updatedAt,
});

/** An API key as listings show it: never the hash. */
export const keyView = (key: ApiKeyRecord) => ({
  id: key.id,
  name: key.name,
  scope: key.scope,
  createdAt: key.createdAt,
  createdBy: key.createdBy,
  ...(key.revokedAt ? { revokedAt: key.revokedAt } : {}),
});

export async function createUser(body: unknown, users: UserStore, clock: Clock) {
  const input = parseWith(newUserSchema, body, 'user');
  const at = new Date(clock()).toISOString();
  const user: User = {
    username: input.username,
    role: input.role,
    passwordHash: await hashPassword(input.password),
    createdAt: at,
    updatedAt: at,
  };
  if (!(await users.put(user, { ifAbsent: true }))) throw new ConflictError(`User ${input.username} exists`);
  return userView(user);
}

export async function changeUser(
  username: string,
  body: unknown,
  actor: Principal,
  users: UserStore,
  clock: Clock,
) {
  const change = parseWith(userChangeSchema, body, 'user change');
  const user = await users.get(username);
  if (!user) throw new NotFoundError(`No user ${username}`);
  if (actor.subject === username && change.role !== undefined && change.role !== 'admin') {
    throw new ConflictError('You cannot take away your own admin role; ask another admin');
  }
  const next: User = {
    ...user,
    ...(change.role ? { role: change.role } : {}),
    ...(change.password ? { passwordHash: await hashPassword(change.password) } : {}),
    updatedAt: new Date(clock()).toISOString(),
  };
  await users.put(next);
  return userView(next);
}

export async function deleteUser(username: string, actor: Principal, users: UserStore) {
  if (actor.subject === username) throw new ConflictError('You cannot delete your own account');
  if (!(await users.delete(username))) throw new NotFoundError(`No user ${username}`);
}

/** POST /api/api-keys: the key is in this answer only. */
export async function createKey(body: unknown, actor: Principal, keys: ApiKeyStore, clock: Clock) {
  const input = parseWith(newKeySchema, body, 'API key');
  const created = newApiKey();
  const record: ApiKeyRecord = {
    id: created.id,
    name: input.name,
    scope: input.scope ?? 'ingest',
    secretHash: created.secretHash,
    createdAt: new Date(clock()).toISOString(),
    createdBy: actor.subject,
  };
  await keys.put(record);
  return { ...keyView(record), key: created.key };
}

/** DELETE /api/api-keys/{id}: revoked keys stop working within the authorizer's cache time (5 min). */
export async function revokeKey(id: string, keys: ApiKeyStore, clock: Clock) {
  const record = await keys.get(id);
  if (!record) throw new NotFoundError(`No API key ${id}`);
  if (!record.revokedAt) await keys.put({ ...record, revokedAt: new Date(clock()).toISOString() });
}
