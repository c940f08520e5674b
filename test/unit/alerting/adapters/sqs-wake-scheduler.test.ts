import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  delaySeconds,
  MAX_DELAY_SECONDS,
  SqsWakeScheduler,
} from '../../../../functions/shared/adapters/sqs-wake-scheduler';

const sqs = mockClient(SQSClient);
const client = new SQSClient({ region: 'us-east-1' });
const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/wakes';
const NOW = Date.parse('2026-03-01T12:00:00Z');

afterEach(() => sqs.reset());

describe('delaySeconds', () => {
  it.each([
    ['due exactly now', 0, NOW],
    ['already past', 0, NOW - 5_000],
    ['one millisecond ahead', 1, NOW + 1],
    ['a second and a millisecond ahead', 2, NOW + 1_001],
    ['exactly 30 seconds ahead', 30, NOW + 30_000],
    ['just under 15 minutes ahead', MAX_DELAY_SECONDS, NOW + 899_001],
    ['exactly 15 minutes ahead', MAX_DELAY_SECONDS, NOW + 900_000],
    ['an hour ahead', MAX_DELAY_SECONDS, NOW + 3_600_000],
  ])('delays a wake %s by %i s: rounded up, never negative, at most 900', (_, expected, at) => {
    // Act
    const delay = delaySeconds(at, NOW);

    // Assess
    expect(delay).toBe(expected);
    expect(delay).toBeLessThanOrEqual(900);
  });
});

describe('SqsWakeScheduler', () => {
  it('sends the group and due time as the body, delayed until the wake is due', async () => {
    // Prepare
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    const scheduler = new SqsWakeScheduler(client, QUEUE, () => NOW);
    const groupId = '{}:{alertname="HighCPU"}|pager';

    // Act
    await scheduler.schedule(groupId, NOW + 30_500);

    // Assess
    const input = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(input?.QueueUrl).toBe(QUEUE);
    expect(input?.DelaySeconds).toBe(31);
    expect(JSON.parse(input?.MessageBody ?? '')).toEqual({ groupId, at: NOW + 30_500 });
  });

  it('sends a wake due beyond 15 minutes with the longest delay and the real due time', async () => {
    // Prepare
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    const scheduler = new SqsWakeScheduler(client, QUEUE, () => NOW);

    // Act
    await scheduler.schedule('g', NOW + 4 * 3_600_000);

    // Assess
    const input = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(input?.DelaySeconds).toBe(900);
    expect(JSON.parse(input?.MessageBody ?? '')).toEqual({ groupId: 'g', at: NOW + 4 * 3_600_000 });
  });
});
