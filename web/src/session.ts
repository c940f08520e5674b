/**
 * The access token and when it stops counting. The one module that reads or writes it.
 *
 * Where it lives: in `sessionStorage`, with its expiry time.
 * - It survives a reload of the tab but not the tab's closing, and other tabs do not see it.
 *   Keeping it in memory only would sign the user out on every reload.
 * - Unlike a cookie, the browser never sends it by itself: each request adds it on purpose, so
 *   another site cannot make the browser use it (no CSRF).
 * - Any script running in the page could read it. What keeps injected script out is the strict
 *   Content-Security-Policy the dashboard is served with (scripts and styles only from its own
 *   origin, nothing inline), so that policy is what protects the token.
 *
 * When it ends: at `expires_in` from the login answer, counted from when the answer arrived,
 * a little early to allow for the time the answer spent in transit. An expired token is dropped
 * when it is read; the dashboard also sets a timer ({@link expiryDelayMs}) so that it returns to
 * the login page on time, not at the next failed request.
 */

/** The subset of the DOM `Storage` used here; `window.sessionStorage` satisfies it. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface Session {
  readonly token: string;
  /** Client-clock epoch ms from which the token no longer counts. */
  readonly expiresAt: number;
}

export interface SessionStore {
  /** The stored session; null when there is none or it has expired (an expired one is removed). */
  current(): Session | null;
  /** Stores a fresh token valid for `expiresInSec` from now and returns its session. */
  save(token: string, expiresInSec: number): Session;
  /** Forgets the token (sign out, session over). */
  clear(): void;
}

export const STORAGE_KEY = 'pulseboard.session';

/** A token is treated as expired this much early (or a tenth of its life, if that is shorter). */
export const EXPIRY_MARGIN_MS = 5_000;

/** Browsers run a timer longer than this (about 24.8 days) at once; longer waits are re-armed. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

function parseSession(raw: string | null): Session | null {
  if (raw === null) return null;
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null) return null;
    const { token, expiresAt } = value as Record<string, unknown>;
    if (typeof token !== 'string' || token === '') return null;
    if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) return null;
    return { token, expiresAt };
  } catch {
    return null;
  }
}

/**
 * A session store over `storage` (null, or a storage that throws, as when the browser blocks
 * storage: the token is then kept in memory for this page only).
 * @param clock client-clock epoch ms, like `Date.now`.
 */
export function createSessionStore(storage: StorageLike | null, clock: () => number): SessionStore {
  /** Only set when `storage` could not take the session. */
  let memory: Session | null = null;

  function read(): Session | null {
    if (memory) return memory;
    let raw: string | null;
    try {
      raw = storage?.getItem(STORAGE_KEY) ?? null;
    } catch {
      return null;
    }
    const session = parseSession(raw);
    if (raw !== null && !session) clear(); // a malformed entry is as good as none
    return session;
  }

  function clear() {
    memory = null;
    try {
      storage?.removeItem(STORAGE_KEY);
    } catch {
      // Storage unusable: nothing was written there.
    }
  }

  return {
    current() {
      const session = read();
      if (session && clock() >= session.expiresAt) {
        clear();
        return null;
      }
      return session;
    },
    save(token, expiresInSec) {
      const lifetimeMs = Math.max(0, expiresInSec * 1000);
      const session: Session = {
        token,
        expiresAt: clock() + lifetimeMs - Math.min(EXPIRY_MARGIN_MS, lifetimeMs / 10),
      };
      memory = null;
      try {
        if (!storage) throw new Error('no storage');
        storage.setItem(STORAGE_KEY, JSON.stringify(session));
      } catch {
        memory = session;
      }
      return session;
    },
    clear,
  };
}

/**
 * Milliseconds until the session expires: 0 once it has, and at most {@link MAX_TIMER_MS}. A timer
 * set for this long that fires early (the cap) should ask again rather than end the session.
 */
export function expiryDelayMs(session: Session, now: number): number {
  return Math.min(MAX_TIMER_MS, Math.max(0, session.expiresAt - now));
}
