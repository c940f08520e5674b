import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Password hashing with scrypt (N=2^15, r=8, p=1: about 64 MiB and tens of milliseconds) and a
 * random 16-byte salt per user. Stored as `scrypt$<N>$<r>$<p>$<salt>$<hash>` (base64url), so the
 * cost can rise later without breaking stored hashes.
 */
const PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const MAX_MEMORY = 128 * 1024 * 1024;
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { ...options, maxmem: MAX_MEMORY }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string, salt: Buffer = randomBytes(16)): Promise<string> {
  const key = await derive(password, salt, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join(
    '$',
  );
}

/**
 * Whether the password matches the stored hash, compared in constant time. A malformed hash
 * never matches (and costs the same work as a real one).
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  const parsed = { N: Number(n), r: Number(r), p: Number(p) };
  const valid =
    scheme === 'scrypt' &&
    Number.isInteger(parsed.N) &&
    Number.isInteger(parsed.r) &&
    Number.isInteger(parsed.p) &&
    salt !== undefined &&
    hash !== undefined;
  const expected = valid ? Buffer.from(hash as string, 'base64url') : Buffer.alloc(KEY_LENGTH);
  const salted = valid ? Buffer.from(salt as string, 'base64url') : Buffer.alloc(16);
  // Parameters scrypt refuses (a cost that is not a power of two, past the memory limit) mean a
  // corrupt hash: the same work as a real check, and no match.
  let usable = valid;
  const key = await derive(password, salted, valid ? parsed : PARAMS).catch(() => {
    usable = false;
    return derive(password, salted, PARAMS);
  });
  return usable && expected.length === key.length && timingSafeEqual(expected, key);
}

/**
 * A hash of a random password, checked when the user does not exist, so an unknown user costs
 * the same time as a wrong password (no user enumeration by timing).
 */
export const UNKNOWN_USER_HASH = hashPassword(randomBytes(32).toString('base64url'));

/** A problem with a new password, or undefined when it is acceptable. */
export function passwordProblem(password: unknown): string | undefined {
  if (typeof password !== 'string') return 'expected a string';
  if (password.length < MIN_PASSWORD_LENGTH) return `at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `at most ${MAX_PASSWORD_LENGTH} characters`;
  return undefined;
}
