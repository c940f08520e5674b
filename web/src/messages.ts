/**
 * Typed wire contracts of the dashboard and the runtime guards that admit data into them.
 * Nothing from the network is trusted: every value passes a parser here before use.
 */

/** One system metrics sample, as served by the snapshot endpoint and the `system_metrics` channel. */
export interface SystemMetrics {
  /** ISO-8601 instant the sample was taken. */
  readonly timestamp: string;
  readonly host: string;
  /** Percent, 0–100. */
  readonly cpu_usage: number;
  /** Percent, 0–100. */
  readonly memory_usage: number;
  /** Absent for hosts that do not report load (Windows agents, OTLP sources). */
  readonly load_avg_1m?: number;
}

/** Messages the server sends over the WebSocket. Unknown `type`s are ignored, not errors. */
export type ServerMessage =
  | { readonly type: 'system_metrics'; readonly payload: SystemMetrics }
  | { readonly type: 'subscribed'; readonly payload: { readonly channels: readonly string[] } }
  | { readonly type: 'error'; readonly payload: { readonly code: string; readonly message: string } };

/** Messages the client sends over the WebSocket. */
export interface SubscribeMessage {
  readonly action: 'subscribe';
  readonly channels: readonly string[];
}

/** Why a frame was not admitted. `unknown-type` is expected (newer servers) and is not an error. */
export type RejectReason = 'invalid-json' | 'invalid-envelope' | 'invalid-payload' | 'unknown-type';

export type ParseResult =
  | { readonly ok: true; readonly message: ServerMessage }
  | { readonly ok: false; readonly reason: RejectReason; readonly type?: string };

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** Returns the sample if `value` has the {@link SystemMetrics} shape with a parseable timestamp, else null. */
export function parseSystemMetrics(value: unknown): SystemMetrics | null {
  if (!isRecord(value)) return null;
  const { timestamp, host, cpu_usage, memory_usage, load_avg_1m } = value;
  if (!isNonEmptyString(timestamp) || Number.isNaN(Date.parse(timestamp))) return null;
  if (!isNonEmptyString(host)) return null;
  if (!isFiniteNumber(cpu_usage) || !isFiniteNumber(memory_usage)) return null;
  if (load_avg_1m !== undefined && !isFiniteNumber(load_avg_1m)) return null;
  return load_avg_1m === undefined
    ? { timestamp, host, cpu_usage, memory_usage }
    : { timestamp, host, cpu_usage, memory_usage, load_avg_1m };
}

function parsePayload(type: string, payload: unknown): ServerMessage | null {
  switch (type) {
    case 'system_metrics': {
      const metrics = parseSystemMetrics(payload);
      return metrics && { type, payload: metrics };
    }
    case 'subscribed': {
      if (!isRecord(payload) || !Array.isArray(payload.channels)) return null;
      const channels = payload.channels;
      if (!channels.every((channel) => typeof channel === 'string')) return null;
      return { type, payload: { channels: channels as string[] } };
    }
    case 'error': {
      if (!isRecord(payload) || typeof payload.code !== 'string' || typeof payload.message !== 'string')
        return null;
      return { type, payload: { code: payload.code, message: payload.message } };
    }
    default:
      return null;
  }
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(['system_metrics', 'subscribed', 'error']);

/** Parses one WebSocket frame (its `data`) into a {@link ServerMessage}; never throws. */
export function parseServerMessage(data: unknown): ParseResult {
  if (typeof data !== 'string') return { ok: false, reason: 'invalid-json' };
  let envelope: unknown;
  try {
    envelope = JSON.parse(data);
  } catch {
    return { ok: false, reason: 'invalid-json' };
  }
  if (!isRecord(envelope) || !isNonEmptyString(envelope.type))
    return { ok: false, reason: 'invalid-envelope' };
  const { type } = envelope;
  if (!KNOWN_TYPES.has(type)) return { ok: false, reason: 'unknown-type', type };
  const message = parsePayload(type, envelope.payload);
  return message ? { ok: true, message } : { ok: false, reason: 'invalid-payload', type };
}

/** The keepalive frame: the server answers `{"type":"pong"}`, which the client ignores. */
export function encodePing(): string {
  return JSON.stringify({ action: 'ping' });
}

/** Serialises the subscribe request sent on every (re)connect. */
export function encodeSubscribe(channels: readonly string[]): string {
  const message: SubscribeMessage = { action: 'subscribe', channels };
  return JSON.stringify(message);
}

/** The deployment settings read from `config.json` next to `index.html`. */
export interface DashboardConfig {
  /** Base URL of the HTTP API, without a trailing slash. */
  readonly httpApiUrl: string;
  readonly webSocketUrl: string;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: DashboardConfig }
  | { readonly ok: false; readonly problem: string };

function absoluteUrl(value: unknown, protocols: readonly string[]): URL | null {
  if (typeof value !== 'string') return null;
  try {
    const url = new URL(value);
    return protocols.includes(url.protocol) ? url : null;
  } catch {
    return null;
  }
}

/** Validates the parsed `config.json`: an http(s) API URL and a ws(s) WebSocket URL, both absolute. */
export function parseConfig(value: unknown): ConfigResult {
  if (!isRecord(value)) return { ok: false, problem: 'config.json is not a JSON object' };
  const http = absoluteUrl(value.httpApiUrl, ['http:', 'https:']);
  if (!http) return { ok: false, problem: 'httpApiUrl must be an absolute http(s) URL' };
  const ws = absoluteUrl(value.webSocketUrl, ['ws:', 'wss:']);
  if (!ws) return { ok: false, problem: 'webSocketUrl must be an absolute ws(s) URL' };
  return {
    ok: true,
    config: { httpApiUrl: http.href.replace(/\/+$/, ''), webSocketUrl: ws.href },
  };
}

/**
 * The subprotocol offered next to the access token (`new WebSocket(url, ['pulseboard', token])`);
 * the server echoes it, never the token.
 */
export const WEBSOCKET_SUBPROTOCOL = 'pulseboard';

/** `POST /auth/login`'s answer. */
export interface LoginAnswer {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  /** Seconds the token stays valid from when it was issued. */
  readonly expires_in: number;
}

/** Returns the answer if `value` is a usable bearer token with a positive lifetime, else null. */
export function parseLoginAnswer(value: unknown): LoginAnswer | null {
  if (!isRecord(value)) return null;
  const { access_token, token_type, expires_in } = value;
  if (!isNonEmptyString(access_token) || token_type !== 'Bearer') return null;
  if (!isFiniteNumber(expires_in) || expires_in <= 0) return null;
  return { access_token, token_type, expires_in };
}

export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The signed-in person, as `GET /auth/me` describes them. */
export interface SignedInUser {
  readonly username: string;
  readonly role: Role;
}

/** Returns the user if `value` is `/auth/me`'s answer for a person (`kind: "user"`), else null. */
export function parseSignedInUser(value: unknown): SignedInUser | null {
  if (!isRecord(value) || value.kind !== 'user') return null;
  const { username, role } = value;
  if (!isNonEmptyString(username)) return null;
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) return null;
  return { username, role: role as Role };
}

/** The API's error envelope: `{"error":{"code","message",…}}`. */
export interface ApiError {
  readonly code: string;
  readonly message: string;
  /** Present on `TOO_MANY_ATTEMPTS`. */
  readonly retryAfterSeconds?: number;
}

/** Returns the error if `value` is the API's error envelope, else null. */
export function parseApiError(value: unknown): ApiError | null {
  if (!isRecord(value) || !isRecord(value.error)) return null;
  const { code, message, retryAfterSeconds } = value.error;
  if (typeof code !== 'string' || typeof message !== 'string') return null;
  return isFiniteNumber(retryAfterSeconds) && retryAfterSeconds >= 0
    ? { code, message, retryAfterSeconds }
    : { code, message };
}
