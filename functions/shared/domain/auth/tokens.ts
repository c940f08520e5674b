import { createHash, createPrivateKey, createPublicKey, hkdfSync, type KeyObject } from 'node:crypto';
import { errors, type JWK, jwtVerify, SignJWT } from 'jose';
import { isRole, type Role } from './roles';

/**
 * Access tokens: JWTs signed with Ed25519 (`alg: EdDSA`), carrying `sub`, `role`, `iss`, `aud`,
 * `iat`, `nbf`, `exp` and a `kid` header naming the key.
 *
 * Keys come from a secret seed (Secrets Manager on AWS, the runtime's data directory locally):
 * an Ed25519 private key is 32 bytes, derived here from the seed with HKDF, so the stack creates
 * a random secret and no key material ever exists in the template or the repo. Rotating the
 * secret rotates the key; verifiers accept the current and the previous key, so tokens signed
 * just before a rotation stay valid until they expire.
 */
export const TOKEN_ALGORITHM = 'EdDSA';
export const TOKEN_AUDIENCE = 'pulseboard-api';
export const TOKEN_TTL_SECONDS = 3600;
/** Allowed clock difference between signer and verifier. */
const CLOCK_TOLERANCE_SECONDS = 5;
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicJwk: JWK;
}

export interface TokenClaims {
  readonly subject: string;
  readonly role: Role;
}

/** The signing key a seed stands for; the same seed always gives the same key and `kid`. */
export function keyFromSeed(seed: string): SigningKey {
  const raw = Buffer.from(hkdfSync('sha256', seed, 'pulseboard', 'jwt-signing-key/ed25519/v1', 32));
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, raw]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey(privateKey);
  const jwk = publicKey.export({ format: 'jwk' }) as JWK;
  // RFC 7638 thumbprint input for OKP keys: crv, kty, x in that order.
  const kid = createHash('sha256')
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x }))
    .digest('base64url');
  return { kid, privateKey, publicKey, publicJwk: { ...jwk, kid, alg: TOKEN_ALGORITHM, use: 'sig' } };
}

export async function issueToken(
  key: SigningKey,
  claims: TokenClaims,
  options: { issuer: string; now: number; ttlSeconds?: number },
): Promise<string> {
  const iat = Math.floor(options.now / 1000);
  return new SignJWT({ role: claims.role })
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: key.kid, typ: 'JWT' })
    .setSubject(claims.subject)
    .setIssuer(options.issuer)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + (options.ttlSeconds ?? TOKEN_TTL_SECONDS))
    .sign(key.privateKey);
}

/** Why a token was refused; never shown to the caller (every refusal is a plain 401). */
export class TokenRejected extends Error {
  override readonly name = 'TokenRejected';
}

/**
 * Verifies a token against the known keys: `alg` must be EdDSA (no `none`, no HMAC with a public
 * key), the `kid` must name one of the keys, and issuer, audience, `nbf` and `exp` must hold.
 */
export async function verifyToken(
  token: string,
  keys: readonly SigningKey[],
  options: { issuer: string; now: number },
): Promise<TokenClaims> {
  try {
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        const key = keys.find((k) => k.kid === header.kid);
        if (!key) throw new TokenRejected('unknown kid');
        return key.publicKey;
      },
      {
        algorithms: [TOKEN_ALGORITHM],
        issuer: options.issuer,
        audience: TOKEN_AUDIENCE,
        currentDate: new Date(options.now),
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'exp', 'iat', 'nbf'],
      },
    );
    if (typeof payload.sub !== 'string' || !isRole(payload.role))
      throw new TokenRejected('missing sub or role');
    return { subject: payload.sub, role: payload.role };
  } catch (error) {
    if (error instanceof TokenRejected) throw error;
    if (error instanceof errors.JOSEError) throw new TokenRejected(error.code);
    throw new TokenRejected('malformed token');
  }
}

/** The public keys as a JSON Web Key Set, for other services to verify Pulseboard tokens. */
export function jwks(keys: readonly SigningKey[]): { keys: JWK[] } {
  return { keys: keys.map((k) => k.publicJwk) };
}
