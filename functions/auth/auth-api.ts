import * as z from 'zod/mini';
import { newApiKey } from '../shared/domain/auth/api-keys';
import {
  hashPassword,
  passwordProblem,
  UNKNOWN_USER_HASH,
  verifyPassword,
} from '../shared/domain/auth/passwords';
import type { Principal } from '../shared/domain/auth/roles';
import type { ApiKeyStore, KeySource, ThrottleStore, UserStore } from '../shared/domain/auth/stores';
import {
  afterFailure,
  lockout,
  SOURCE_POLICY,
  type ThrottlePolicy,
  USER_POLICY,
} from '../shared/domain/auth/throttle';
import { issueToken, jwks, TOKEN_TTL_SECONDS } from '../shared/domain/auth/tokens';
import { TooManyAttemptsError, UnauthorizedError, ValidationError } from '../shared/errors';
import type { Clock } from '../shared/ports';
import { parseWith } from '../shared/validation';

export interface LoginDeps {
  readonly users: UserStore;
  readonly throttle: ThrottleStore;
  readonly keys: KeySource;
  readonly issuer: string;
  readonly clock: Clock;
}

export const USERNAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._@-]{0,63}$/;

const loginSchema = z.object({
  username: z.string().check(z.minLength(1), z.maxLength(64)),
  password: z.string().check(z.minLength(1), z.maxLength(256)),
});

export interface LoginAnswer {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
}

/** The one answer to a failed login, whether the user exists or not. */
const INVALID = 'Invalid username or password';

/**
 * POST /auth/login. A wrong password and an unknown user give the same 401 after the same
 * scrypt work. Failures count per user and per source address; past the free ones, attempts are
 * refused (429 with Retry-After) for a doubling time, without checking the password.
 */
export async function login(body: unknown, sourceIp: string, deps: LoginDeps): Promise<LoginAnswer> {
  const { username, password } = parseWith(loginSchema, body, 'login');
  const now = deps.clock();
  const subjects: [string, ThrottlePolicy][] = [
    [`user:${username.toLowerCase()}`, USER_POLICY],
    [`source:${sourceIp}`, SOURCE_POLICY],
  ];
  const records = await Promise.all(subjects.map(([subject]) => deps.throttle.get(subject)));
  const waits = records.map((record) => lockout(record, now).retryAfterMs);
  const wait = Math.max(...waits);
  if (wait > 0) throw new TooManyAttemptsError(Math.ceil(wait / 1000));

  const user = await deps.users.get(username);
  const matches = await verifyPassword(password, user?.passwordHash ?? (await UNKNOWN_USER_HASH));
  if (!user || !matches) {
    await Promise.all(
      subjects.map(([subject, policy], i) =>
        deps.throttle.put(subject, afterFailure(records[i], now, policy)),
      ),
    );
    throw new UnauthorizedError(INVALID);
  }
  // Success clears the user's record; the source's stays, so spraying many names still counts.
  if (records[0]) await deps.throttle.clear(`user:${username.toLowerCase()}`);
  const key = await deps.keys.current();
  const token = await issueToken(
    key,
    { subject: user.username, role: user.role },
    { issuer: deps.issuer, now },
  );
  return { access_token: token, token_type: 'Bearer', expires_in: TOKEN_TTL_SECONDS };
}

/** GET /auth/me: the caller as the authorizer saw it. */
export function me(principal: Principal | undefined) {
  if (!principal) throw new UnauthorizedError();
  return principal.kind === 'user'
    ? { kind: 'user', username: principal.subject, role: principal.role }
    : { kind: 'api_key', id: principal.subject, scope: principal.scope };
}

/** GET /.well-known/jwks.json: the keys that verify Pulseboard tokens (current and previous). */
export async function publicKeys(keys: KeySource) {
  return jwks(await keys.all());
}

const bootstrapSchema = z.object({
  username: z.string().check(z.regex(USERNAME_PATTERN)),
  password: z.string(),
});

/**
 * The first admin, by direct invocation only (`{"bootstrapAdmin":{username,password}}`): the
 * local runtime and `npm run users:create` use it. Creates the user as admin when it does not
 * exist; an existing user is left untouched (so a restart never resets a changed password).
 */
export async function bootstrapAdmin(
  input: unknown,
  users: UserStore,
  clock: Clock,
): Promise<{ username: string; created: boolean }> {
  const { username, password } = parseWith(bootstrapSchema, input, 'bootstrap');
  const problem = passwordProblem(password);
  if (problem) throw new ValidationError(`password: ${problem}`, [{ path: 'password', message: problem }]);
  const at = new Date(clock()).toISOString();
  const created = await users.put(
    { username, role: 'admin', passwordHash: await hashPassword(password), createdAt: at, updatedAt: at },
    { ifAbsent: true },
  );
  return { username, created };
}

const bootstrapKeySchema = z.object({ name: z.string().check(z.minLength(1), z.maxLength(100)) });

/**
 * An ingest API key, by direct invocation only (`{"bootstrapApiKey":{name}}`): the local runtime
 * gives its built-in agent one at every start.
 */
export async function bootstrapApiKey(
  input: unknown,
  keys: ApiKeyStore,
  clock: Clock,
): Promise<{ id: string; key: string }> {
  const { name } = parseWith(bootstrapKeySchema, input, 'bootstrap key');
  const created = newApiKey();
  await keys.put({
    id: created.id,
    name,
    scope: 'ingest',
    secretHash: created.secretHash,
    createdAt: new Date(clock()).toISOString(),
    createdBy: 'bootstrap',
  });
  return { id: created.id, key: created.key };
}
