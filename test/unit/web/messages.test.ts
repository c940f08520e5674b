import { describe, expect, it } from 'vitest';
import {
  encodeSubscribe,
  parseConfig,
  parseServerMessage,
  parseSystemMetrics,
} from '../../../web/src/messages';

const sample = {
  timestamp: '2026-11-24T06:00:00.000Z',
  host: 'web-1',
  cpu_usage: 12.5,
  memory_usage: 48.2,
  load_avg_1m: 0.4,
};

describe('parseServerMessage', () => {
  it('admits a system_metrics envelope with a well-formed payload', () => {
    // Prepare
    const frame = JSON.stringify({ type: 'system_metrics', payload: sample });

    // Act
    const result = parseServerMessage(frame);

    // Assess
    expect(result).toEqual({ ok: true, message: { type: 'system_metrics', payload: sample } });
  });

  it('drops fields the payload type does not declare', () => {
    const frame = JSON.stringify({ type: 'system_metrics', payload: { ...sample, extra: '<script>' } });

    const result = parseServerMessage(frame);

    expect(result.ok && result.message.payload).toEqual(sample);
  });

  it('admits subscribed acks and error frames', () => {
    const ack = parseServerMessage('{"type":"subscribed","payload":{"channels":["system_metrics"]}}');
    const error = parseServerMessage('{"type":"error","payload":{"code":"BAD_REQUEST","message":"nope"}}');

    expect(ack).toEqual({
      ok: true,
      message: { type: 'subscribed', payload: { channels: ['system_metrics'] } },
    });
    expect(error).toEqual({
      ok: true,
      message: { type: 'error', payload: { code: 'BAD_REQUEST', message: 'nope' } },
    });
  });

  it.each([
    ['not JSON', 'hello', 'invalid-json'],
    ['truncated JSON', '{"type":"system_metrics"', 'invalid-json'],
    ['a binary frame', new ArrayBuffer(4), 'invalid-json'],
    ['a JSON array', '[1,2]', 'invalid-envelope'],
    ['JSON null', 'null', 'invalid-envelope'],
    ['an envelope without type', '{"payload":{}}', 'invalid-envelope'],
    ['a numeric type', '{"type":7,"payload":{}}', 'invalid-envelope'],
  ])('rejects %s', (_name, frame, reason) => {
    const result = parseServerMessage(frame);

    expect(result).toMatchObject({ ok: false, reason });
  });

  it.each([
    ['a missing payload', { type: 'system_metrics' }],
    ['a string cpu_usage', { type: 'system_metrics', payload: { ...sample, cpu_usage: '12.5' } }],
    ['a NaN-like memory_usage', { type: 'system_metrics', payload: { ...sample, memory_usage: null } }],
    ['an unparseable timestamp', { type: 'system_metrics', payload: { ...sample, timestamp: 'yesterday' } }],
    ['an empty host', { type: 'system_metrics', payload: { ...sample, host: '' } }],
    ['non-string channels', { type: 'subscribed', payload: { channels: [1] } }],
    ['an error without message', { type: 'error', payload: { code: 'X' } }],
  ])('rejects a known type with %s as invalid-payload', (_name, envelope) => {
    const result = parseServerMessage(JSON.stringify(envelope));

    expect(result).toMatchObject({ ok: false, reason: 'invalid-payload', type: envelope.type });
  });

  it('reports unknown types separately so newer servers are ignored, not flagged', () => {
    const result = parseServerMessage('{"type":"incident","payload":{"id":"i-1"}}');

    expect(result).toEqual({ ok: false, reason: 'unknown-type', type: 'incident' });
  });
});

describe('parseSystemMetrics', () => {
  it('rejects infinite numbers', () => {
    expect(parseSystemMetrics({ ...sample, load_avg_1m: Number.POSITIVE_INFINITY })).toBeNull();
    const { load_avg_1m: _load, ...withoutLoad } = sample;
    expect(parseSystemMetrics(withoutLoad)).toEqual(withoutLoad);
  });
});

describe('encodeSubscribe', () => {
  it('serialises the subscribe action the server expects', () => {
    expect(JSON.parse(encodeSubscribe(['system_metrics']))).toEqual({
      action: 'subscribe',
      channels: ['system_metrics'],
    });
  });
});

describe('parseConfig', () => {
  it('accepts the local config and strips the trailing slash URL parsing adds', () => {
    const result = parseConfig({
      httpApiUrl: 'http://127.0.0.1:3000',
      webSocketUrl: 'ws://127.0.0.1:3000/ws',
    });

    expect(result).toEqual({
      ok: true,
      config: { httpApiUrl: 'http://127.0.0.1:3000', webSocketUrl: 'ws://127.0.0.1:3000/ws' },
    });
  });

  it('keeps the stage path of AWS endpoints', () => {
    const result = parseConfig({
      httpApiUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/',
      webSocketUrl: 'wss://xyz.execute-api.eu-west-1.amazonaws.com/dev',
    });

    expect(result).toEqual({
      ok: true,
      config: {
        httpApiUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com',
        webSocketUrl: 'wss://xyz.execute-api.eu-west-1.amazonaws.com/dev',
      },
    });
  });

  it.each([
    ['a non-object', 'http://x', /JSON object/],
    ['a missing httpApiUrl', { webSocketUrl: 'ws://x' }, /httpApiUrl/],
    ['a relative httpApiUrl', { httpApiUrl: '/api', webSocketUrl: 'ws://x' }, /httpApiUrl/],
    ['an http webSocketUrl', { httpApiUrl: 'http://x', webSocketUrl: 'http://x/ws' }, /webSocketUrl/],
    ['a ws httpApiUrl', { httpApiUrl: 'ws://x', webSocketUrl: 'ws://x' }, /httpApiUrl/],
  ])('rejects %s naming the bad field', (_name, value, problem) => {
    const result = parseConfig(value);

    expect(result.ok).toBe(false);
    expect(!result.ok && result.problem).toMatch(problem);
  });
});
