/**
 * Messages pushed to WebSocket clients share one envelope, `{type, payload}`, so that later
 * message types (alerts, incidents, metric points) arrive the same way.
 */
export interface Envelope<T extends string = string, P = unknown> {
  readonly type: T;
  readonly payload: P;
}

/** The channel every new connection is subscribed to. */
export const SYSTEM_METRICS_CHANNEL = 'system_metrics';

export function envelope<T extends string, P>(type: T, payload: P): Envelope<T, P> {
  return { type, payload };
}
