import { once } from 'node:events';
import WebSocket from 'ws';
import type { LocalRuntime } from '../../local/runtime';

let authorization: string | undefined;

/** Makes every helper in this file send this token (integration tests sign in once per file). */
export function useToken(token: string | undefined): void {
  authorization = token === undefined ? undefined : `Bearer ${token}`;
}

/** The token in use, for tools that take it as a flag. */
export function currentToken(): string | undefined {
  return authorization?.slice('Bearer '.length);
}

/** The Authorization header of the token in use, if any. */
export function authHeaders(): Record<string, string> {
  return authorization ? { authorization } : {};
}

/** `fetch` with the token in use. */
export function authedFetch(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { ...authHeaders(), ...(init.headers as Record<string, string>) } });
}

/** A WebSocket client that records every message it receives, for tests. */
export class RecordingSocket {
  readonly messages: { type: string; payload: unknown }[] = [];
  readonly socket: WebSocket;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data) => this.messages.push(JSON.parse(String(data))));
  }

  /** Opens a socket, sending the token in use as an Authorization header unless `headers` say otherwise. */
  static async open(url: string, headers: Record<string, string> = authHeaders()): Promise<RecordingSocket> {
    const socket = new WebSocket(url, { headers });
    const client = new RecordingSocket(socket);
    await once(socket, 'open');
    return client;
  }

  send(message: unknown): void {
    this.socket.send(JSON.stringify(message));
  }

  ofType(type: string) {
    return this.messages.filter((m) => m.type === type);
  }

  /** Waits, with a bound, until a message of the type arrives beyond the `after`-th one. */
  async next(type: string, after = this.ofType(type).length, timeoutMs = 10_000) {
    await waitFor(() => this.ofType(type).length > after, `a "${type}" message`, timeoutMs);
    return this.ofType(type)[after] as { type: string; payload: Record<string, unknown> };
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    const closed = once(this.socket, 'close');
    this.socket.close();
    await closed;
  }
}

/** Polls a condition with a bound instead of sleeping a fixed time. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** POSTs JSON and returns the status and the parsed body. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authHeaders(), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** Sends a JSON request with any method and returns the status and the parsed body. */
export async function requestJson(url: string, method: string, body?: unknown) {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...authHeaders() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** Signs in as the runtime's admin (or the given user) and returns the access token. */
export async function signIn(
  runtime: Pick<LocalRuntime, 'urls' | 'admin'>,
  credentials: { username: string; password: string } | undefined = runtime.admin,
): Promise<string> {
  if (!credentials) throw new Error('The runtime has no admin: is authentication in the stack?');
  const response = await fetch(`${runtime.urls.HttpApiUrl}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: credentials.username, password: credentials.password }),
  });
  if (response.status !== 200) throw new Error(`Sign-in failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}
