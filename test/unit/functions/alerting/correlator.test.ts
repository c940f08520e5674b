import { describe, expect, it } from 'vitest';
import { handleAlertEvent, handleWakes, type WakeDeps } from '../../../../functions/correlator/correlator';
import { DependencyError, ValidationError } from '../../../../functions/shared/errors';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const GROUP = '{}:{alertname="HighCPU"}|pager';

/** Records what the wake handler asks of its dependencies; `failFor` makes onWake throw for those groups. */
function setup(failFor: readonly string[] = []) {
  const woken: string[] = [];
  const rescheduled: { groupId: string; at: number }[] = [];
  const errors: { message: string; detail: Record<string, unknown> }[] = [];
  const deps: WakeDeps = {
    correlator: {
      onWake: async (groupId) => {
        if (failFor.includes(groupId)) throw new DependencyError('SNS is unavailable');
        woken.push(groupId);
      },
    },
    reschedule: async (groupId, at) => {
      rescheduled.push({ groupId, at });
    },
    clock: () => NOW,
    onError: (message, detail) => {
      errors.push({ message, detail });
    },
  };
  return { deps, woken, rescheduled, errors };
}

const wake = (messageId: string, groupId: string, at: number) => ({
  messageId,
  body: JSON.stringify({ groupId, at }),
});

describe('handleWakes', () => {
  it('runs a wake that is due now or overdue', async () => {
    // Prepare
    const { deps, woken, rescheduled } = setup();

    // Act
    const result = await handleWakes([wake('m1', 'a', NOW), wake('m2', 'b', NOW - 60_000)], deps);

    // Assess
    expect(woken).toEqual(['a', 'b']);
    expect(rescheduled).toEqual([]);
    expect(result).toEqual({ batchItemFailures: [] });
  });

  it('sends a wake that is not due yet again for the rest of its delay, without running it', async () => {
    // Prepare
    const { deps, woken, rescheduled } = setup();
    const at = NOW + 40 * 60_000;

    // Act
    const result = await handleWakes([wake('m1', GROUP, at)], deps);

    // Assess
    expect(woken).toEqual([]);
    expect(rescheduled).toEqual([{ groupId: GROUP, at }]);
    expect(result.batchItemFailures).toEqual([]);
  });

  it.each([
    ['not JSON', 'not json'],
    ['JSON null', 'null'],
    ['a number', '42'],
    ['without a group', JSON.stringify({ at: NOW })],
    ['with a text time', JSON.stringify({ groupId: GROUP, at: '2026-03-01T12:00:00Z' })],
    ['with a numeric group', JSON.stringify({ groupId: 7, at: NOW })],
  ])('drops a malformed wake (%s) with an error log, not as a failure to redeliver', async (_, body) => {
    // Prepare
    const { deps, woken, rescheduled, errors } = setup();

    // Act
    const result = await handleWakes([{ messageId: 'bad', body }, wake('good', GROUP, NOW)], deps);

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(woken).toEqual([GROUP]);
    expect(rescheduled).toEqual([]);
    expect(errors).toEqual([
      { message: expect.any(String), detail: expect.objectContaining({ messageId: 'bad' }) },
    ]);
  });

  it('reports only the failed wake by its message id, and still runs the others', async () => {
    // Prepare
    const { deps, woken, errors } = setup(['broken']);

    // Act
    const result = await handleWakes(
      [wake('m1', 'first', NOW), wake('m2', 'broken', NOW), wake('m3', 'last', NOW)],
      deps,
    );

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    expect(woken).toEqual(['first', 'last']);
    expect(errors).toEqual([
      { message: expect.any(String), detail: expect.objectContaining({ messageId: 'm2' }) },
    ]);
    expect(errors[0]?.detail.error).toBeInstanceOf(DependencyError);
  });

  it('reports a wake whose rescheduling failed, so SQS redelivers it', async () => {
    // Prepare
    const { deps } = setup();
    const failing: WakeDeps = {
      ...deps,
      reschedule: async () => {
        throw new DependencyError('SQS is unavailable');
      },
    };

    // Act
    const result = await handleWakes([wake('later', GROUP, NOW + 3_600_000), wake('now', 'x', NOW)], failing);

    // Assess
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'later' }]);
  });
});

describe('handleAlertEvent', () => {
  it('answers the groups the correlator placed the alert in', async () => {
    // Prepare
    const invalid: ValidationError[] = [];
    const correlator = { onAlertEvent: async () => ({ groupIds: [GROUP] }) };

    // Act
    const result = await handleAlertEvent({ status: 'firing' }, correlator, (error) => invalid.push(error));

    // Assess
    expect(result).toEqual({ groupIds: [GROUP] });
    expect(invalid).toEqual([]);
  });

  it('drops a malformed event: calls onInvalid and answers no groups instead of throwing', async () => {
    // Prepare
    const refusal = new ValidationError('status: expected firing or resolved', [
      { path: 'status', message: 'expected firing or resolved' },
    ]);
    const invalid: ValidationError[] = [];
    const correlator = {
      onAlertEvent: async () => {
        throw refusal;
      },
    };

    // Act
    const result = await handleAlertEvent({ status: 'burning' }, correlator, (error) => invalid.push(error));

    // Assess
    expect(result).toEqual({ groupIds: [] });
    expect(invalid).toEqual([refusal]);
  });

  it('rethrows any other failure, so Lambda retries the event and then sends it to the failure queue', async () => {
    // Prepare
    const outage = new DependencyError('DynamoDB is unavailable');
    const invalid: ValidationError[] = [];
    const correlator = {
      onAlertEvent: async () => {
        throw outage;
      },
    };

    // Act
    const outcome = handleAlertEvent({ status: 'firing' }, correlator, (error) => invalid.push(error));

    // Assess
    await expect(outcome).rejects.toBe(outage);
    expect(invalid).toEqual([]);
  });
});
