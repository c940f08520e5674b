import type { Notification } from '../../../../functions/shared/domain/alerting/dispatch/group';
import type { Incident } from '../../../../functions/shared/domain/alerting/dispatch/incident';
import type { Silence } from '../../../../functions/shared/domain/alerting/dispatch/silence';
import type { AlertTransition } from '../../../../functions/shared/domain/alerting/evaluation';
import type {
  AlertEventPublisher,
  AlertRecord,
  AlertStateStore,
  AlertsView,
  GroupStore,
  IncidentFilter,
  IncidentStore,
  Notifier,
  RoutingConfig,
  RoutingStore,
  SilenceStore,
  StoredAlertState,
  StoredGroup,
  WakeScheduler,
} from '../../../../functions/shared/domain/alerting/stores';

/** In-memory ports with the adapters' semantics (conditional writes, outbox clears), for service tests. */
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export class MemoryStateStore implements AlertStateStore {
  readonly items = new Map<string, StoredAlertState>();
  puts = 0;
  /** Runs before a put is checked: lets a test slip a competing write in. */
  beforePut?: (key: string) => Promise<void>;

  private id = (rule: string, key: string) => `${rule}\u0000${key}`;

  async getMany(rule: string, keys: readonly string[]) {
    const found = new Map<string, StoredAlertState>();
    for (const key of keys) {
      const item = this.items.get(this.id(rule, key));
      if (item) found.set(key, clone(item));
    }
    return found;
  }

  async list(rule: string) {
    return [...this.items.entries()]
      .filter(([id]) => id.startsWith(`${rule}\u0000`))
      .map(([id, item]) => ({ key: id.slice(rule.length + 1), ...clone(item) }));
  }

  async put(key: string, next: StoredAlertState, expectedVersion: number | undefined) {
    const hook = this.beforePut;
    this.beforePut = undefined;
    await hook?.(key);
    this.puts++;
    const id = this.id(next.state.rule, key);
    if (this.items.get(id)?.state.version !== expectedVersion) return false;
    this.items.set(id, clone(next));
    return true;
  }

  async clearOutbox(rule: string, key: string, version: number) {
    const item = this.items.get(this.id(rule, key));
    if (item && item.state.version === version) this.items.set(this.id(rule, key), { ...item, outbox: [] });
  }

  async delete(rule: string, key: string) {
    this.items.delete(this.id(rule, key));
  }
}

export class MemoryEventBus implements AlertEventPublisher {
  readonly published: AlertTransition[] = [];
  failNext = 0;

  async publish(transitions: readonly AlertTransition[]) {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('EventBridge is unavailable');
    }
    this.published.push(...clone(transitions));
    return transitions.map((_, i) => `event-${this.published.length - transitions.length + i}`);
  }
}

export class MemoryGroupStore implements GroupStore {
  readonly items = new Map<string, StoredGroup>();
  /** Runs before a put is checked: lets a test slip a competing write in. */
  beforePut?: () => Promise<void>;

  async get(groupId: string) {
    const item = this.items.get(groupId);
    return item ? clone(item) : undefined;
  }

  async put(next: StoredGroup, expectedRevision: number | undefined) {
    const hook = this.beforePut;
    this.beforePut = undefined;
    await hook?.();
    if (this.items.get(next.state.groupId)?.state.revision !== expectedRevision) return false;
    this.items.set(next.state.groupId, clone(next));
    return true;
  }

  async clearOutbox(groupId: string, revision: number) {
    const item = this.items.get(groupId);
    if (item && item.state.revision === revision) this.items.set(groupId, { ...item, outbox: [] });
  }
}

export class MemoryIncidentStore implements IncidentStore {
  readonly items = new Map<string, { incident: Incident; revision: number }>();

  async put(incident: Incident, revision: number) {
    const stored = this.items.get(incident.id);
    if (!stored || stored.revision <= revision)
      this.items.set(incident.id, { incident: clone(incident), revision });
  }

  async get(id: string) {
    const stored = this.items.get(id);
    return stored ? clone(stored.incident) : undefined;
  }

  async list(filter: IncidentFilter) {
    const incidents = [...this.items.values()]
      .map((s) => s.incident)
      .filter((i) => filter.status === undefined || i.status === filter.status)
      .sort((a, b) => (a.id < b.id ? 1 : -1))
      .slice(0, filter.limit);
    return { incidents };
  }
}

export class MemoryAlertsView implements AlertsView {
  readonly items = new Map<string, AlertRecord>();

  async put(alert: AlertRecord) {
    const stored = this.items.get(alert.fingerprint);
    if (!stored || stored.at <= alert.at) this.items.set(alert.fingerprint, clone(alert));
  }

  async list() {
    return [...this.items.values()].map(clone);
  }
}

export class MemorySilenceStore implements SilenceStore {
  silences: Silence[] = [];
  async list() {
    return clone(this.silences);
  }
  async get(id: string) {
    return this.silences.find((s) => s.id === id);
  }
  async put(silence: Silence) {
    this.silences = [...this.silences.filter((s) => s.id !== silence.id), silence];
  }
}

export class MemoryRoutingStore implements RoutingStore {
  config: { config: RoutingConfig; updatedAt: string } | undefined;
  async get() {
    return this.config;
  }
  async put(config: RoutingConfig, updatedAt: string) {
    this.config = { config, updatedAt };
  }
  async delete() {
    this.config = undefined;
  }
}

export class MemoryNotifier implements Notifier {
  readonly sent: Notification[] = [];
  failNext = 0;

  async publish(notification: Notification) {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('SNS is unavailable');
    }
    this.sent.push(clone(notification));
    return `message-${this.sent.length}`;
  }
}

export class MemoryScheduler implements WakeScheduler {
  wakes: { groupId: string; at: number }[] = [];
  async schedule(groupId: string, at: number) {
    this.wakes.push({ groupId, at });
  }
  /** Removes and returns the wakes due at `now`. */
  due(now: number) {
    const due = this.wakes.filter((w) => w.at <= now);
    this.wakes = this.wakes.filter((w) => w.at > now);
    return due;
  }
}
