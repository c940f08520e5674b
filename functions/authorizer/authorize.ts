import { apiKeyMatches, parseApiKey } from '../shared/domain/auth/api-keys';
import { type Principal, WEBSOCKET_SUBPROTOCOL } from '../shared/domain/auth/roles';
import type { ApiKeyStore, KeySource } from '../shared/domain/auth/stores';
import { TokenRejected, verifyToken } from '../shared/domain/auth/tokens';
import type { Clock } from '../shared/ports';

export interface AuthenticateDeps {
  readonly keys: KeySource;
  readonly apiKeys: ApiKeyStore;
  readonly issuer: string;
  readonly clock: Clock;
}

/**
 * Who a credential belongs to: a Pulseboard JWT or an API key (`pb_…`), with or without the
 * `Bearer ` prefix. Anything else, an expired or forged token, or a revoked key, is `undefined`:
 * every refusal looks the same to the caller.
 */
export async function authenticate(
  credential: string | undefined,
  deps: AuthenticateDeps,
): Promise<Principal | undefined> {
  const token = credential?.trim().replace(/^Bearer\s+/i, '');
  if (!token || token.length > 4096) return undefined;
  const apiKey = parseApiKey(token);
  if (apiKey) {
    const record = await deps.apiKeys.get(apiKey.id);
    if (!record || record.revokedAt !== undefined || !apiKeyMatches(apiKey.secret, record.secretHash))
      return undefined;
    return { kind: 'api_key', subject: record.id, scope: record.scope };
  }
  try {
    const claims = await verifyToken(token, await deps.keys.all(), {
      issuer: deps.issuer,
      now: deps.clock(),
    });
    return { kind: 'user', subject: claims.subject, role: claims.role };
  } catch (error) {
    if (error instanceof TokenRejected) return undefined;
    throw error;
  }
}

/**
 * The token a WebSocket handshake carries: `?token=` (browsers), a `Sec-WebSocket-Protocol` entry
 * next to `pulseboard` (browsers that keep tokens out of URLs), or `Authorization` (other clients).
 */
export function websocketCredential(
  headers: Readonly<Record<string, string | undefined>> | null | undefined,
  query: Readonly<Record<string, string | undefined>> | null | undefined,
): string | undefined {
  const header = (name: string) =>
    Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1] ?? undefined;
  if (query?.token) return query.token;
  const protocols = header('sec-websocket-protocol')
    ?.split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '' && p !== WEBSOCKET_SUBPROTOCOL);
  if (protocols && protocols.length > 0) return protocols[0];
  return header('authorization');
}
