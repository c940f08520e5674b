import { describe, expect, it } from 'vitest';
import {
  createSessionStore,
  EXPIRY_MARGIN_MS,
  expiryDelayMs,
  MAX_TIMER_MS,
  STORAGE_KEY,
  type StorageLike,
} from '../../../web/src/session';

/** An in-memory `sessionStorage`; `broken` makes every call throw, as blocked storage does. */
class MemoryStorage implements StorageLike {
  readonly items = new Map<string, string>();
  broken = false;

  getItem(key: string) {
    this.check();
    return this.items.get(key) ?? null;
  }

  setItem(key: string, value: string) {
    this.check();
    this.items.set(key, value);
  }

  removeItem(key: string) {
    this.check();
    this.items.delete(key);
  }

  private check() {
    if (this.broken) throw new DOMException('The operation is insecure.', 'SecurityError');
  }
}

const T0 = Date.parse('2026-11-24T06:00:00.000Z');
const HOUR_SEC = 3600;

function harness() {
  const storage = new MemoryStorage();
  const clock = { now: T0 };
  const store = createSessionStore(storage, () => clock.now);
  return { storage, clock, store };
}

describe('createSessionStore', () => {
  it('has no session before a sign-in', () => {
    expect(harness().store.current()).toBeNull();
  });

  it('keeps the token with its expiry time in sessionStorage', () => {
    // Prepare
    const { storage, store } = harness();

    // Act
    const session = store.save('tok-1', HOUR_SEC);

    // Assess
    expect(session).toEqual({ token: 'tok-1', expiresAt: T0 + HOUR_SEC * 1000 - EXPIRY_MARGIN_MS });
    expect(JSON.parse(storage.items.get(STORAGE_KEY) ?? 'null')).toEqual(session);
    expect(store.current()).toEqual(session);
  });

  it('finds the session again after a reload (a new store over the same storage)', () => {
    const { storage, clock, store } = harness();
    const saved = store.save('tok-1', HOUR_SEC);

    const reloaded = createSessionStore(storage, () => clock.now + 60_000);

    expect(reloaded.current()).toEqual(saved);
  });

  it('counts the token as expired a little early, to allow for the answer’s time in transit', () => {
    const { clock, store } = harness();
    store.save('tok-1', HOUR_SEC);

    clock.now = T0 + HOUR_SEC * 1000 - EXPIRY_MARGIN_MS - 1;
    const justBefore = store.current();
    clock.now += 1;
    const atExpiry = store.current();

    expect(justBefore?.token).toBe('tok-1');
    expect(atExpiry).toBeNull();
  });

  it('keeps the margin to a tenth of a short lifetime', () => {
    const { store } = harness();

    expect(store.save('tok-1', 10).expiresAt).toBe(T0 + 9_000);
  });

  it('removes an expired token from storage when it is read', () => {
    const { storage, clock, store } = harness();
    store.save('tok-1', HOUR_SEC);

    clock.now = T0 + 2 * HOUR_SEC * 1000;
    store.current();

    expect(storage.items.has(STORAGE_KEY)).toBe(false);
  });

  it('forgets the token on clear', () => {
    const { storage, store } = harness();
    store.save('tok-1', HOUR_SEC);

    store.clear();

    expect(store.current()).toBeNull();
    expect(storage.items.size).toBe(0);
  });

  it('replaces the previous token on a new sign-in', () => {
    const { store } = harness();
    store.save('tok-1', HOUR_SEC);

    store.save('tok-2', HOUR_SEC);

    expect(store.current()?.token).toBe('tok-2');
  });

  it.each([
    ['not JSON', '{oops'],
    ['a token without expiry', JSON.stringify({ token: 'tok-1' })],
    ['an empty token', JSON.stringify({ token: '', expiresAt: T0 + 60_000 })],
    ['an expiry that is not a number', JSON.stringify({ token: 'tok-1', expiresAt: 'later' })],
    ['null', 'null'],
  ])('treats %s in storage as no session and removes it', (_name, raw) => {
    const { storage, store } = harness();
    storage.items.set(STORAGE_KEY, raw);

    expect(store.current()).toBeNull();
    expect(storage.items.has(STORAGE_KEY)).toBe(false);
  });

  it('keeps the session in memory for this page when storage refuses it', () => {
    const { storage, clock, store } = harness();
    storage.broken = true;

    const session = store.save('tok-1', HOUR_SEC);
    const current = store.current();
    clock.now = session.expiresAt;
    const expired = store.current();
    store.save('tok-2', HOUR_SEC);
    store.clear();

    expect(current).toEqual(session);
    expect(expired).toBeNull();
    expect(store.current()).toBeNull();
  });

  it('works without any storage', () => {
    const store = createSessionStore(null, () => T0);

    store.save('tok-1', HOUR_SEC);

    expect(store.current()?.token).toBe('tok-1');
  });
});

describe('expiryDelayMs', () => {
  const session = { token: 'tok-1', expiresAt: T0 + 60_000 };

  it('is the time left until expiry', () => {
    expect(expiryDelayMs(session, T0)).toBe(60_000);
  });

  it('is zero once the session has expired', () => {
    expect(expiryDelayMs(session, T0 + 120_000)).toBe(0);
  });

  it('never exceeds what a browser timer can wait', () => {
    expect(expiryDelayMs({ token: 't', expiresAt: T0 + 90 * 86_400_000 }, T0)).toBe(MAX_TIMER_MS);
  });
});
