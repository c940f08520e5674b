/**
 * The one module that owns the WebSocket: it connects (offering the subprotocols it is given,
 * which carry the access token), subscribes on every (re)connect, parses frames, and reconnects
 * with capped exponential backoff and full jitter.
 * It touches no DOM; the socket constructor, timers and randomness are injected.
 */
import {
  encodePing,
  encodeSubscribe,
  type ParseResult,
  parseServerMessage,
  type ServerMessage,
} from './messages';

export type ConnectionState = 'connecting' | 'open' | 'closed';

/** What the rest of the app needs to know about the socket. */
export interface ConnectionStatus {
  readonly state: ConnectionState;
  /** Consecutive failed attempts since the last healthy connection; 0 while healthy or on first connect. */
  readonly failures: number;
  /** Delay of the scheduled reconnect while `closed`; null when none is scheduled (after `close()`). */
  readonly retryInMs: number | null;
}

/** The subset of the browser `WebSocket` used here; the DOM `WebSocket` satisfies it. */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { readonly code: number }) => void): void;
}

export type SocketConstructor = new (url: string, protocols?: string[]) => SocketLike;

/** Timer functions, injectable so tests drive time by hand. */
export interface Scheduler {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface BackoffPolicy {
  /** Ceiling of the first retry's delay. */
  readonly baseMs: number;
  /** Largest ceiling any retry may reach. */
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000 };

/**
 * Full-jitter backoff: a uniform delay in [0, min(maxMs, baseMs · 2^failure)).
 * @param failure 0 for the first retry, 1 for the second, …
 * @param random returns a number in [0, 1), like `Math.random`.
 */
export function backoffDelay(failure: number, random: () => number, policy: BackoffPolicy = DEFAULT_BACKOFF) {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failure));
  return Math.floor(random() * ceiling);
}

export interface ConnectionOptions {
  readonly url: string;
  /**
   * Subprotocols offered on every handshake, e.g. `['pulseboard', token]`: the token travels in
   * `Sec-WebSocket-Protocol`, never in the URL (and so never in access logs).
   */
  readonly protocols?: readonly string[];
  /** Channels to subscribe to on every (re)connect. */
  readonly channels: readonly string[];
  readonly WebSocket: SocketConstructor;
  readonly scheduler: Scheduler;
  readonly random: () => number;
  readonly backoff?: BackoffPolicy;
  /** A socket that has not opened after this long is abandoned and retried. */
  readonly connectTimeoutMs?: number;
  /**
   * While open, a `ping` is sent this often, so a quiet dashboard stays inside API Gateway's
   * 10-minute idle timeout instead of being dropped and reconnecting.
   */
  readonly keepAliveMs?: number;
  onMessage(message: ServerMessage): void;
  onStatus(status: ConnectionStatus): void;
  /**
   * A socket failed before it opened. Browsers report a refused handshake (401/403 from the
   * authorizer) exactly like a network failure, so this is the cue to check the credentials; the
   * retry is already scheduled when it is called, and `close()` cancels it.
   */
  onOpenFailed?(): void;
  /** Frames that are not valid messages; `unknown-type` frames are ignored silently and not reported. */
  onRejected?(rejection: Extract<ParseResult, { ok: false }>): void;
}

export interface Connection {
  /** Opens the first socket. Calling it again while active does nothing. */
  start(): void;
  /** Closes the socket for good: no reconnect follows. */
  close(): void;
  readonly status: ConnectionStatus;
}

/** Half of API Gateway's 10-minute idle timeout. */
export const DEFAULT_KEEPALIVE_MS = 5 * 60_000;

/** Creates a self-healing connection; nothing happens until {@link Connection.start}. */
export function createConnection(options: ConnectionOptions): Connection {
  const { scheduler, random } = options;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEPALIVE_MS;

  let socket: SocketLike | null = null;
  let status: ConnectionStatus = { state: 'closed', failures: 0, retryInMs: null };
  let started = false;
  let stopped = false;
  let healthy = false;
  let retryTimer: unknown = null;
  let connectTimer: unknown = null;
  let keepAliveTimer: unknown = null;

  function publish(next: ConnectionStatus) {
    status = next;
    options.onStatus(next);
  }

  function clearTimer(handle: unknown) {
    if (handle !== null) scheduler.clearTimeout(handle);
    return null;
  }

  function connect() {
    retryTimer = null;
    healthy = false;
    publish({ state: 'connecting', failures: status.failures, retryInMs: null });
    let current: SocketLike;
    try {
      current = options.protocols
        ? new options.WebSocket(options.url, [...options.protocols])
        : new options.WebSocket(options.url);
    } catch {
      fail(null, false);
      return;
    }
    let opened = false;
    socket = current;
    connectTimer = scheduler.setTimeout(() => {
      connectTimer = null;
      if (socket === current) fail(current, true);
    }, connectTimeoutMs);

    current.addEventListener('open', () => {
      if (socket !== current) return;
      opened = true;
      connectTimer = clearTimer(connectTimer);
      publish({ state: 'open', failures: status.failures, retryInMs: null });
      current.send(encodeSubscribe(options.channels));
      keepAlive(current);
    });
    current.addEventListener('message', (event) => {
      if (socket !== current) return;
      const result = parseServerMessage(event.data);
      if (!result.ok) {
        if (result.reason !== 'unknown-type') options.onRejected?.(result);
        return;
      }
      // A valid frame proves the connection works end to end; only then is backoff reset, so a
      // server that accepts and immediately drops connections still gets increasing delays.
      if (!healthy) {
        healthy = true;
        if (status.failures !== 0) publish({ ...status, failures: 0 });
      }
      options.onMessage(result.message);
    });
    // Browsers fire 'error' then 'close'; some implementations (Node's undici on a refused
    // connection) fire only 'error'. Either one ends this socket; the identity check drops the second.
    const onEnd = () => {
      if (socket === current) fail(current, !opened);
    };
    current.addEventListener('error', onEnd);
    current.addEventListener('close', onEnd);
  }

  function keepAlive(current: SocketLike) {
    keepAliveTimer = scheduler.setTimeout(() => {
      keepAliveTimer = null;
      if (socket !== current) return;
      current.send(encodePing());
      keepAlive(current);
    }, keepAliveMs);
  }

  /** Ends the current socket and schedules the next attempt. */
  function fail(failed: SocketLike | null, beforeOpen: boolean) {
    connectTimer = clearTimer(connectTimer);
    keepAliveTimer = clearTimer(keepAliveTimer);
    socket = null;
    if (failed) {
      try {
        failed.close();
      } catch {
        // Already closing; nothing to release.
      }
    }
    if (stopped) return;
    const failures = status.failures + 1;
    const retryInMs = backoffDelay(failures - 1, random, backoff);
    publish({ state: 'closed', failures, retryInMs });
    retryTimer = scheduler.setTimeout(connect, retryInMs);
    if (beforeOpen) options.onOpenFailed?.();
  }

  return {
    start() {
      if (started || stopped) return;
      started = true;
      connect();
    },
    close() {
      if (stopped) return;
      stopped = true;
      retryTimer = clearTimer(retryTimer);
      connectTimer = clearTimer(connectTimer);
      keepAliveTimer = clearTimer(keepAliveTimer);
      const current = socket;
      socket = null;
      current?.close(1000, 'client closing');
      publish({ state: 'closed', failures: status.failures, retryInMs: null });
    },
    get status() {
      return status;
    },
  };
}
