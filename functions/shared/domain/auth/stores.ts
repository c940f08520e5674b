import type { ApiKeyScope, Role } from './roles';
import type { FailureRecord } from './throttle';
import type { SigningKey } from './tokens';

export interface User {
  readonly username: string;
  readonly role: Role;
  /** `scrypt$…` (passwords.ts); never leaves the auth functions. */
  readonly passwordHash: string;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface UserStore {
  get(username: string): Promise<User | undefined>;
  list(): Promise<User[]>;
  /** With `ifAbsent`, answers `false` instead of replacing an existing user. */
  put(user: User, options?: { ifAbsent?: boolean }): Promise<boolean>;
  /** `false` when there was no such user. */
  delete(username: string): Promise<boolean>;
}

export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly scope: ApiKeyScope;
  readonly secretHash: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly revokedAt?: string;
}

export interface ApiKeyStore {
  get(id: string): Promise<ApiKeyRecord | undefined>;
  list(): Promise<ApiKeyRecord[]>;
  put(record: ApiKeyRecord): Promise<void>;
}

/** Failed-login records by subject (`user:<name>`, `source:<ip>`). */
export interface ThrottleStore {
  get(subject: string): Promise<FailureRecord | undefined>;
  put(subject: string, record: FailureRecord): Promise<void>;
  clear(subject: string): Promise<void>;
}

/** The signing keys: the current one signs; all of them (current and previous) verify. */
export interface KeySource {
  current(): Promise<SigningKey>;
  all(): Promise<SigningKey[]>;
}
