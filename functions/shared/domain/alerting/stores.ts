import type { Silence } from './dispatch/silence';

/** A rule as stored: its definition exactly as the client sent it (re-parsed on every use). */
export interface StoredRule {
  readonly name: string;
  readonly definition: Readonly<Record<string, unknown>>;
  /** ISO 8601 time of the last change. */
  readonly updatedAt: string;
}

/** Where alert rules live. */
export interface RuleStore {
  list(): Promise<StoredRule[]>;
  get(name: string): Promise<StoredRule | undefined>;
  /** Writes the rule; with `ifAbsent`, answers `false` instead of replacing an existing one. */
  put(rule: StoredRule, options?: { ifAbsent?: boolean }): Promise<boolean>;
  /** Deletes the rule; `false` when there was none. */
  delete(name: string): Promise<boolean>;
}

/** Where silences live. Expired silences stay listed until their retention ends (TTL). */
export interface SilenceStore {
  list(): Promise<Silence[]>;
  get(id: string): Promise<Silence | undefined>;
  put(silence: Silence): Promise<void>;
}
