import { describe, expect, it } from 'vitest';
import { authenticate, websocketCredential } from '../../../functions/authorizer/authorize';
import { issueToken, keyFromSeed } from '../../../functions/shared/domain/auth/tokens';
import { MemoryApiKeyStore, StaticKeySource } from './memory-stores';

describe('websocketCredential', () => {
  it('prefers the query token over every header', () => {
    // Act
    const credential = websocketCredential(
      { 'Sec-WebSocket-Protocol': 'pulseboard, from-protocol', Authorization: 'Bearer from-header' },
      { token: 'from-query' },
    );

    // Assess
    expect(credential).toBe('from-query');
  });

  it.each([
    ['after pulseboard', 'pulseboard, tok.en.1'],
    ['before pulseboard', 'tok.en.1, pulseboard'],
    ['without spaces', 'pulseboard,tok.en.1'],
    ['with extra spaces and empty entries', ' ,  pulseboard ,  tok.en.1 , '],
  ])('takes the token from the subprotocol list %s', (_, protocols) => {
    // Act / Assess
    expect(websocketCredential({ 'sec-websocket-protocol': protocols }, {})).toBe('tok.en.1');
  });

  it('reads header names in any case', () => {
    // Act / Assess
    expect(websocketCredential({ 'SEC-WEBSOCKET-PROTOCOL': 'pulseboard, t' }, null)).toBe('t');
    expect(websocketCredential({ AUTHORIZATION: 'Bearer h' }, null)).toBe('Bearer h');
  });

  it('falls back to Authorization when the query and subprotocols carry no token', () => {
    // Act
    const onlyHeader = websocketCredential({ authorization: 'Bearer from-header' }, undefined);
    const onlyPulseboard = websocketCredential(
      { 'sec-websocket-protocol': 'pulseboard', authorization: 'Bearer from-header' },
      { token: '' },
    );

    // Assess
    expect(onlyHeader).toBe('Bearer from-header');
    expect(onlyPulseboard).toBe('Bearer from-header');
  });

  it.each([
    ['no headers or query', undefined, undefined],
    ['null headers and query', null, null],
    ['empty ones', {}, {}],
    ['only the pulseboard subprotocol', { 'sec-websocket-protocol': 'pulseboard' }, {}],
    ['an empty token and undefined headers', { authorization: undefined }, { token: '' }],
  ])('answers undefined for %s', (_, headers, query) => {
    // Act / Assess
    expect(websocketCredential(headers, query)).toBeUndefined();
  });

  it('hands a subprotocol token to authenticate, which accepts it like a bearer token', async () => {
    // Prepare
    const key = keyFromSeed('ws');
    const now = Date.parse('2026-05-01T12:00:00Z');
    const issuer = 'https://auth.pulseboard.test';
    const token = await issueToken(key, { subject: 'vera', role: 'viewer' }, { issuer, now });
    const deps = {
      keys: new StaticKeySource(key),
      apiKeys: new MemoryApiKeyStore(),
      issuer,
      clock: () => now,
    };

    // Act
    const fromProtocol = await authenticate(
      websocketCredential({ 'Sec-WebSocket-Protocol': `pulseboard, ${token}` }, null),
      deps,
    );
    const fromQuery = await authenticate(websocketCredential({}, { token }), deps);
    const fromNothing = await authenticate(websocketCredential({}, {}), deps);

    // Assess
    expect(fromProtocol).toEqual({ kind: 'user', subject: 'vera', role: 'viewer' });
    expect(fromQuery).toEqual(fromProtocol);
    expect(fromNothing).toBeUndefined();
  });
});
