import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys for agents: `pb_<id>_<secret>`. The id (12 hex characters) identifies the key in
 * listings and logs; the secret (32 random bytes) is shown once and stored only as its SHA-256
 * (a key has 256 bits of entropy, so a slow hash adds nothing).
 */
export const API_KEY_PATTERN = /^pb_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface NewApiKey {
  readonly id: string;
  /** The whole key, to give to the agent once. */
  readonly key: string;
  readonly secretHash: string;
}

export function newApiKey(): NewApiKey {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, key: `pb_${id}_${secret}`, secretHash: sha256(secret) };
}

/** The id and secret of a key-shaped text, or undefined. */
export function parseApiKey(text: string): { id: string; secret: string } | undefined {
  const match = API_KEY_PATTERN.exec(text);
  return match ? { id: match[1] as string, secret: match[2] as string } : undefined;
}

/** Whether the secret matches the stored hash, in constant time. */
export function apiKeyMatches(secret: string, secretHash: string): boolean {
  const actual = Buffer.from(sha256(secret), 'hex');
  const expected = Buffer.from(secretHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
