import { type ParsedAlertEvent, parseAlertEvent } from '../domain/alerting/dispatch/alert';
import {
  type DispatchContext,
  type DispatchInput,
  type DispatchResult,
  type Effect,
  handle,
  routeAlert,
} from '../domain/alerting/dispatch/dispatcher';
import type { Incident } from '../domain/alerting/dispatch/incident';
import { isInhibitionSource } from '../domain/alerting/dispatch/inhibit';
import { createMuter } from '../domain/alerting/dispatch/mute';
import type {
  AlertRecord,
  AlertsView,
  GroupStore,
  IncidentStore,
  Notifier,
  SilenceStore,
  StoredGroup,
  WakeScheduler,
} from '../domain/alerting/stores';
import { type Envelope, envelope } from '../domain/messages';
import { ConflictError, NotFoundError } from '../errors';
import type { Clock } from '../ports';
import type { RoutingSource } from './routing';
import { alertView, incidentMessage } from './views';

export const ALERTS_CHANNEL = 'alerts';
export const INCIDENTS_CHANNEL = 'incidents';

export interface CorrelatorDeps {
  readonly groups: GroupStore;
  readonly incidents: IncidentStore;
  readonly alerts: AlertsView;
  readonly silences: SilenceStore;
  readonly routing: RoutingSource;
  readonly notifier: Notifier;
  readonly scheduler: WakeScheduler;
  /** Pushes a message to a plain channel's subscribers; failures are reported, never thrown. */
  readonly broadcast: (channel: string, message: Envelope) => Promise<void>;
  readonly clock: Clock;
  readonly newId: () => string;
  /** The dashboard's URL: Alertmanager's `externalURL` in every notification. */
  readonly externalURL: string;
  readonly log?: (level: 'warn' | 'error', message: string, detail: Record<string, unknown>) => void;
}

/**
 * The incident is stored (and broadcast) before the notification goes out, so whoever follows a
 * notification to the API finds the incident; the firing-alerts view and wakes come after.
 */
const EFFECT_ORDER: Readonly<Record<Effect['kind'], number>> = {
  incident: 0,
  notify: 1,
  alert_status: 2,
  schedule: 3,
  alert_dropped: 4,
};

/** Conditional-write retries on one group before the invocation fails (and its trigger retries). */
const MAX_ATTEMPTS = 8;
/**
 * How long an outbox belongs to the invocation that wrote it. Within it, others leave the effects
 * alone (so a duplicate wake or event never sends a notification twice); after it, they are taken
 * for abandoned and performed by whoever comes next. Longer than an SNS publish plus a few writes.
 */
const OUTBOX_LEASE_MS = 10_000;
const OUTBOX_WAIT_MS = 150;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The correlator's AWS-free orchestration around the pure dispatcher (domain/alerting/dispatch):
 * load a group, `handle` one input, write the new state conditionally on its revision (retrying a
 * lost race with a fresh read: every input is idempotent), then perform the effects.
 *
 * Effects ride in the group item's outbox, written with the state and emptied once they are done.
 * The writer owns them for a lease ({@link OUTBOX_LEASE_MS}); whoever finds an outbox older than
 * that performs it first, so a crash between the write and the effects delays them instead of
 * losing them (a notification may then go out twice: at least once, as Alertmanager). SNS
 * MessageIds are recorded on the incident's timeline afterwards.
 */
export class CorrelatorService {
  constructor(private readonly deps: CorrelatorDeps) {}

  /** An `Alert Firing`/`Alert Resolved` event's detail: routed to every matching group. Throws a ValidationError when malformed. */
  async onAlertEvent(detail: unknown): Promise<{ groupIds: string[] }> {
    const event: ParsedAlertEvent = parseAlertEvent(detail);
    const ctx = await this.context();
    const targets = routeAlert(ctx.routes, event.labels);
    for (const target of targets) await this.apply(target.groupId, { kind: 'alert', target, event }, ctx);
    return { groupIds: targets.map((t) => t.groupId) };
  }

  /** A scheduled wake for one group: flushes it if a flush is due. */
  async onWake(groupId: string): Promise<void> {
    await this.apply(groupId, { kind: 'wake' }, await this.context());
  }

  /** Acknowledges an incident: repeat notifications stop. */
  acknowledge(incidentId: string, by: string): Promise<Incident> {
    return this.onIncident(incidentId, (id) => ({ kind: 'ack', incidentId: id, by }));
  }

  /** Resolves an incident by hand. */
  resolve(incidentId: string, by: string): Promise<Incident> {
    return this.onIncident(incidentId, (id) => ({ kind: 'resolve', incidentId: id, by }));
  }

  private async onIncident(incidentId: string, input: (id: string) => DispatchInput): Promise<Incident> {
    const stored = await this.deps.incidents.get(incidentId);
    if (!stored) throw new NotFoundError(`Incident ${incidentId} does not exist`);
    if (stored.status === 'resolved') {
      if (input(incidentId).kind === 'resolve') return stored;
      throw new ConflictError(`Incident ${incidentId} is already resolved`);
    }
    const result = await this.apply(stored.groupId, input(incidentId), await this.context());
    return result.state?.incident?.id === incidentId ? result.state.incident : stored;
  }

  /** What `handle` needs besides the state: routing, mutes and the clock, read once per invocation. */
  private async context(): Promise<DispatchContext> {
    const now = this.deps.clock();
    const [routing, silences] = await Promise.all([this.deps.routing.current(), this.deps.silences.list()]);
    const firing = routing.inhibitRules.length > 0 ? await this.deps.alerts.list() : [];
    return {
      now,
      routes: routing.tree,
      muter: createMuter({
        silences,
        inhibitRules: routing.inhibitRules,
        firing: {
          firing: firing.filter(
            (a) => a.status === 'firing' && isInhibitionSource(a.labels, routing.inhibitRules),
          ),
        },
        now,
      }),
      timeIntervals: routing.timeIntervals,
      newId: this.deps.newId,
      externalURL: this.deps.externalURL,
    };
  }

  private async apply(groupId: string, input: DispatchInput, ctx: DispatchContext): Promise<DispatchResult> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const stored = await this.deps.groups.get(groupId);
      if (stored && stored.outbox.length > 0) {
        const now = this.deps.clock();
        if (now - (stored.outboxAt ?? 0) >= OUTBOX_LEASE_MS) {
          // Its writer did not finish (a crash, a timeout): perform the effects now.
          await this.drain(stored, ctx);
          continue;
        }
        // The writer is still performing them. A duplicate event or wake changes nothing: done,
        // without performing them a second time. Anything else waits for the writer to finish.
        const probe = handle(stored.state, input, ctx);
        if (!probe.changed) return probe;
        await pause(OUTBOX_WAIT_MS);
        continue;
      }
      const result = handle(stored?.state, input, ctx);
      if (!result.changed || !result.state) return result;
      const next: StoredGroup = { state: result.state, outbox: result.effects, outboxAt: this.deps.clock() };
      if (!(await this.deps.groups.put(next, stored?.state.revision))) continue;
      if (next.outbox.length > 0) await this.drain(next, ctx);
      return result;
    }
    throw new ConflictError(`Group ${groupId} kept changing under ${MAX_ATTEMPTS} attempts`);
  }

  /** Performs a written group's effects, empties its outbox, then records SNS MessageIds. */
  private async drain(stored: StoredGroup, ctx: DispatchContext): Promise<void> {
    const { state } = stored;
    const followUps: DispatchInput[] = [];
    const ordered = [...stored.outbox].sort((a, b) => EFFECT_ORDER[a.kind] - EFFECT_ORDER[b.kind]);
    for (const effect of ordered) await this.perform(effect, state.revision, followUps);
    await this.deps.groups.clearOutbox(state.groupId, state.revision);
    for (const input of followUps) {
      try {
        await this.apply(state.groupId, input, ctx);
      } catch (error) {
        // The incident moved on (a newer one opened): the id has nowhere to go; the notification went out.
        if (!(error instanceof NotFoundError)) throw error;
        this.deps.log?.('warn', 'Notification id not recorded', { groupId: state.groupId, error });
      }
    }
  }

  private async perform(effect: Effect, revision: number, followUps: DispatchInput[]): Promise<void> {
    switch (effect.kind) {
      case 'notify': {
        const { notification } = effect;
        const messageId = await this.deps.notifier.publish(notification);
        if (notification.incidentId) {
          followUps.push({
            kind: 'record_notification',
            incidentId: notification.incidentId,
            notificationId: notification.id,
            messageId,
          });
        }
        return;
      }
      case 'schedule':
        return this.deps.scheduler.schedule(effect.groupId, effect.at);
      case 'incident':
        await this.deps.incidents.put(effect.change.incident, revision);
        return this.deps.broadcast(INCIDENTS_CHANNEL, envelope('incident', incidentMessage(effect.change)));
      case 'alert_status': {
        const { kind: _kind, ...alert } = effect;
        const record: AlertRecord = { ...alert, at: this.deps.clock() };
        await this.deps.alerts.put(record);
        return this.deps.broadcast(ALERTS_CHANNEL, envelope('alert', alertView(record)));
      }
      case 'alert_dropped':
        this.deps.log?.('warn', 'Alert refused: its group is full', { ...effect });
        return;
    }
  }
}
