import type { Effect } from './dispatch/dispatcher';
import type { GroupState, Notification } from './dispatch/group';
import type { Incident, IncidentStatus } from './dispatch/incident';
import type { Labels } from './dispatch/labels';
import type { RouteConfig } from './dispatch/route';
import type { Silence } from './dispatch/silence';
import type { AlertTransition, SeriesAlertState } from './evaluation';
import type { PostedAlert } from './postable';

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

/** A rule × series state as stored, with the transitions written but not yet published. */
export interface StoredAlertState {
  readonly state: SeriesAlertState;
  /**
   * The transitional outbox: events this state produced that may not have reached the bus yet.
   * Written in the same item as the state; cleared after PutEvents succeeded. The scheduled sweep
   * republishes what a crash left behind (the correlator ignores duplicates).
   */
  readonly outbox: readonly AlertTransition[];
}

/** Per-(rule, series) evaluation state, written conditionally on `state.version`. */
export interface AlertStateStore {
  /** The stored states of one rule for these series keys (absent keys have none). */
  getMany(rule: string, keys: readonly string[]): Promise<Map<string, StoredAlertState>>;
  /** Every stored state of one rule, with its key. */
  list(rule: string): Promise<(StoredAlertState & { readonly key: string })[]>;
  /**
   * Writes the state when the stored version is still `expectedVersion` (`undefined`: nothing
   * stored). Answers `false` when another writer won the race.
   */
  put(key: string, next: StoredAlertState, expectedVersion: number | undefined): Promise<boolean>;
  /** Empties the outbox, unless the state moved past `version` meanwhile. */
  clearOutbox(rule: string, key: string, version: number): Promise<void>;
  delete(rule: string, key: string): Promise<void>;
}

/** Where alert transitions go: the EventBridge bus, as `Alert Firing` / `Alert Resolved`. */
export interface AlertEventPublisher {
  /** Publishes every transition or throws; answers the event ids in order. */
  publish(transitions: readonly AlertTransition[]): Promise<string[]>;
}

/** One aggregation group as stored: its state and the effects of its last change not yet performed. */
export interface StoredGroup {
  readonly state: GroupState;
  readonly outbox: readonly Effect[];
  /** When the outbox was written (epoch ms): its writer is presumed to be performing it for a while. */
  readonly outboxAt?: number;
}

/** Aggregation groups by id, written conditionally on `state.revision`. */
export interface GroupStore {
  get(groupId: string): Promise<StoredGroup | undefined>;
  /** Writes when the stored revision is still `expectedRevision` (`undefined`: nothing stored); `false` on a lost race. */
  put(next: StoredGroup, expectedRevision: number | undefined): Promise<boolean>;
  /** Empties the outbox, unless the group moved past `revision` meanwhile. */
  clearOutbox(groupId: string, revision: number): Promise<void>;
}

export interface IncidentFilter {
  readonly status?: IncidentStatus;
  readonly receiver?: string;
  readonly severity?: string;
  /** Incidents an alert with this fingerprint joined. */
  readonly fingerprint?: string;
  /** Opened at or after (epoch ms). */
  readonly since?: number;
  readonly limit: number;
  /** Opaque, from a previous page. */
  readonly cursor?: string;
}

/** Incidents as the API reads them: snapshots written by the correlator. */
export interface IncidentStore {
  /** Stores a snapshot unless a newer one (a higher group `revision`) is stored already. */
  put(incident: Incident, revision: number): Promise<void>;
  get(id: string): Promise<Incident | undefined>;
  /** Newest first. */
  list(filter: IncidentFilter): Promise<{ incidents: Incident[]; nextCursor?: string }>;
}

/** An alert as the firing-alerts view keeps it. */
export interface AlertRecord {
  readonly fingerprint: string;
  readonly labels: Labels;
  readonly status: 'firing' | 'resolved';
  /** Epoch ms of the change. */
  readonly at: number;
  readonly annotations?: Labels;
  /** Epoch ms. */
  readonly startsAt?: number;
  readonly endsAt?: number;
  readonly generatorURL?: string;
}

/** The alerts firing now (and recently resolved), across every group: inhibition and `GET /api/alerts` read it. */
export interface AlertsView {
  /** Records a status change unless a newer one is stored. */
  put(alert: AlertRecord): Promise<void>;
  list(): Promise<AlertRecord[]>;
}

/** The routing tree and inhibition rules in force, as an alertmanager.yml subset. */
export interface RoutingConfig {
  readonly route: RouteConfig;
  readonly inhibit_rules?: readonly unknown[];
  readonly time_intervals?: readonly unknown[];
  /** Deprecated in Alertmanager in favour of `time_intervals`; same shape. */
  readonly mute_time_intervals?: readonly unknown[];
}

/** The routing configuration set at run time (`PUT /api/alert-routing`); none means the stage default. */
export interface RoutingStore {
  get(): Promise<{ config: RoutingConfig; updatedAt: string } | undefined>;
  put(config: RoutingConfig, updatedAt: string): Promise<void>;
  delete(): Promise<void>;
}

/** Publishes a notification (SNS); answers the MessageId. */
export interface Notifier {
  publish(notification: Notification): Promise<string>;
}

/** Arranges for `wake(groupId)` to run at or after `at` (epoch ms). */
export interface WakeScheduler {
  schedule(groupId: string, at: number): Promise<void>;
}

/** Alerts posted to the Alertmanager API, by fingerprint: what was last said of each. */
export interface PostedAlertStore {
  getMany(fingerprints: readonly string[]): Promise<Map<string, PostedAlert>>;
  /** Every posted alert still remembered (resolved ones for a day). */
  list(): Promise<PostedAlert[]>;
  put(alert: PostedAlert): Promise<void>;
}
