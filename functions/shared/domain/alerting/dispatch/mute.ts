import { type FiringAlertsView, type InhibitRule, inhibitedBy } from './inhibit';
import type { Labels } from './labels';
import { isSilenced, type Silence } from './silence';

/** Why an alert is kept out of a notification. */
export interface MuteReason {
  /** The fingerprint of the firing alert that inhibits it. */
  readonly inhibitedBy?: string;
  /** The ids of the active silences that match it. */
  readonly silencedBy?: readonly string[];
}

/**
 * The port a flush asks whether an alert is muted. {@link createMuter} is the implementation over
 * silences, inhibition rules and the firing-alerts view; the AWS layer loads those and builds one.
 */
export interface Muter {
  mutes(alert: { readonly fingerprint: string; readonly labels: Labels }): MuteReason | undefined;
}

export interface MuteSources {
  readonly silences: readonly Silence[];
  readonly inhibitRules: readonly InhibitRule[];
  readonly firing: FiringAlertsView;
  readonly now: number;
}

/** Inhibition first, then silences, as Alertmanager's pipeline orders its mute stages. */
export function createMuter(sources: MuteSources): Muter {
  return {
    mutes(alert) {
      const inhibitor = inhibitedBy(alert.labels, sources.inhibitRules, sources.firing);
      if (inhibitor !== undefined) return { inhibitedBy: inhibitor };
      const silencedBy = isSilenced(alert.labels, sources.silences, sources.now);
      return silencedBy.length > 0 ? { silencedBy } : undefined;
    },
  };
}

/** A muter that mutes nothing. */
export const NO_MUTES: Muter = { mutes: () => undefined };
