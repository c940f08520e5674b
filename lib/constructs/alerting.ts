import { EventBus } from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';

/** The event bus that carries `Alert Firing` / `Alert Resolved` events to the correlator. */
export class Alerting extends Construct {
  readonly bus: EventBus;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', { description: 'Pulseboard alert state changes' });
  }
}
