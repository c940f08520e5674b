import type {
  ApiKeyRecord,
  ApiKeyStore,
  KeySource,
  ThrottleStore,
  User,
  UserStore,
} from '../../../functions/shared/domain/auth/stores';
import type { FailureRecord } from '../../../functions/shared/domain/auth/throttle';
import type { SigningKey } from '../../../functions/shared/domain/auth/tokens';

/** In-memory auth ports with the DynamoDB adapters' semantics (conditional put, copies out). */

export class MemoryUserStore implements UserStore {
  readonly items = new Map<string, User>();
  gets = 0;

  async get(username: string) {
    this.gets++;
    const user = this.items.get(username);
    return user ? { ...user } : undefined;
  }

  async list() {
    return [...this.items.values()].map((user) => ({ ...user }));
  }

  async put(user: User, options?: { ifAbsent?: boolean }) {
    if (options?.ifAbsent && this.items.has(user.username)) return false;
    this.items.set(user.username, { ...user });
    return true;
  }

  async delete(username: string) {
    return this.items.delete(username);
  }
}

export class MemoryApiKeyStore implements ApiKeyStore {
  readonly items = new Map<string, ApiKeyRecord>();
  gets = 0;

  async get(id: string) {
    this.gets++;
    const record = this.items.get(id);
    return record ? { ...record } : undefined;
  }

  async list() {
    return [...this.items.values()].map((record) => ({ ...record }));
  }

  async put(record: ApiKeyRecord) {
    this.items.set(record.id, { ...record });
  }
}

export class MemoryThrottleStore implements ThrottleStore {
  readonly items = new Map<string, FailureRecord>();

  async get(subject: string) {
    const record = this.items.get(subject);
    return record ? { ...record } : undefined;
  }

  async put(subject: string, record: FailureRecord) {
    this.items.set(subject, { ...record });
  }

  async clear(subject: string) {
    this.items.delete(subject);
  }
}

/** A fixed key set: the first key signs, all of them verify. Counts reads of the verifying keys. */
export class StaticKeySource implements KeySource {
  allCalls = 0;
  private readonly keys: readonly SigningKey[];

  constructor(...keys: SigningKey[]) {
    if (keys.length === 0) throw new Error('StaticKeySource needs at least one key');
    this.keys = keys;
  }

  async current() {
    return this.keys[0] as SigningKey;
  }

  async all() {
    this.allCalls++;
    return [...this.keys];
  }
}

/** A clock the test moves by hand (epoch ms). */
export function manualClock(start = Date.parse('2026-05-01T12:00:00Z')) {
  const state = { now: start };
  return {
    state,
    clock: () => state.now,
    advance(ms: number) {
      state.now += ms;
    },
  };
}
