import { describe, expect, it } from 'vitest';
import { matchesEventPattern } from '../../../local/event-pattern';

// The sample event and patterns follow the EventBridge user guide (eb-event-patterns,
// eb-create-pattern-operators).
const ec2Event = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: {
    'instance-id': 'i-1234567890abcdef0',
    state: 'terminated',
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.123',
    location: 'eu-west-1',
    tags: ['prod', 'web'],
    items: [
      { name: 'a', size: 1 },
      { name: 'b', size: 10 },
    ],
    nothing: null,
    empty: '',
  },
};

const cases: Array<[string, unknown, boolean]> = [
  ['exact source', { source: ['aws.ec2'] }, true],
  ['OR within a field', { detail: { state: ['pending', 'terminated'] } }, true],
  ['exact mismatch', { source: ['aws.s3'] }, false],
  ['all fields must match (AND)', { source: ['aws.ec2'], 'detail-type': ['Other'] }, false],
  [
    'nested fields',
    { detail: { state: ['terminated'] }, 'detail-type': ['EC2 Instance State-change Notification'] },
    true,
  ],
  ['missing field', { detail: { missing: ['x'] } }, false],
  ['null value', { detail: { nothing: [null] } }, true],
  ['empty string value', { detail: { empty: [''] } }, true],
  ['number exact match', { detail: { 'c-count': [5] } }, true],
  ['a string never equals a number', { detail: { 'c-count': ['5'] } }, false],
  ['array value: any element matches', { detail: { tags: ['web'] } }, true],
  ['array value: no element matches', { detail: { tags: ['dev'] } }, false],
  [
    'resources array',
    { resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'] },
    true,
  ],
  ['prefix', { time: [{ prefix: '2017-12-22' }] }, true],
  ['prefix mismatch', { time: [{ prefix: '2018' }] }, false],
  ['prefix equals-ignore-case', { source: [{ prefix: { 'equals-ignore-case': 'AWS.' } }] }, true],
  ['suffix', { detail: { 'instance-id': [{ suffix: 'def0' }] } }, true],
  [
    'suffix equals-ignore-case',
    { detail: { 'instance-id': [{ suffix: { 'equals-ignore-case': 'DEF0' } }] } },
    true,
  ],
  ['equals-ignore-case', { detail: { state: [{ 'equals-ignore-case': 'TERMINATED' }] } }, true],
  ['anything-but value', { detail: { state: [{ 'anything-but': 'initializing' }] } }, true],
  ['anything-but value excluded', { detail: { state: [{ 'anything-but': 'terminated' }] } }, false],
  ['anything-but list', { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, true],
  ['anything-but number list', { detail: { 'c-count': [{ 'anything-but': [5, 6] }] } }, false],
  ['anything-but prefix', { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, true],
  ['anything-but prefix excluded', { detail: { state: [{ 'anything-but': { prefix: 'term' } }] } }, false],
  ['anything-but suffix', { detail: { 'instance-id': [{ 'anything-but': { suffix: 'def0' } }] } }, false],
  ['anything-but wildcard', { detail: { location: [{ 'anything-but': { wildcard: 'us-*' } }] } }, true],
  [
    'anything-but wildcard excluded',
    { detail: { location: [{ 'anything-but': { wildcard: '*-west-*' } }] } },
    false,
  ],
  [
    'anything-but equals-ignore-case list',
    { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['TERMINATED', 'Stopped'] } }] } },
    false,
  ],
  ['anything-but does not match a missing field', { detail: { missing: [{ 'anything-but': 'x' }] } }, false],
  ['numeric range', { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, true],
  [
    'numeric range excludes',
    { detail: { 'd-count': [{ numeric: ['<', 10] }], 'x-limit': [{ numeric: ['=', 3.018e2] }] } },
    true,
  ],
  ['numeric out of range', { detail: { 'c-count': [{ numeric: ['>', 5] }] } }, false],
  ['numeric never matches a string', { detail: { state: [{ numeric: ['>', 0] }] } }, false],
  ['exists true', { detail: { state: [{ exists: true }] } }, true],
  ['exists true on a missing field', { detail: { missing: [{ exists: true }] } }, false],
  ['exists false', { detail: { missing: [{ exists: false }] } }, true],
  ['exists false on a present field', { detail: { state: [{ exists: false }] } }, false],
  ['exists only applies to leaves', { detail: [{ exists: true }] }, false],
  ['cidr IPv4 match', { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, true],
  ['cidr IPv4 mismatch', { detail: { 'source-ip': [{ cidr: '10.0.1.0/24' }] } }, false],
  ['wildcard', { source: [{ wildcard: 'aws.*' }] }, true],
  ['wildcard in the middle', { detail: { location: [{ wildcard: 'eu-*-1' }] } }, true],
  ['wildcard mismatch', { detail: { location: [{ wildcard: 'us-*' }] } }, false],
  ['array of objects: a nested field matches any element', { detail: { items: { name: ['b'] } } }, true],
  [
    'array of objects: numeric on nested field',
    { detail: { items: { size: [{ numeric: ['>', 5] }] } } },
    true,
  ],
  [
    '$or: one alternative matches',
    {
      source: ['aws.ec2'],
      $or: [{ detail: { state: ['running'] } }, { detail: { 'c-count': [{ numeric: ['>', 1] }] } }],
    },
    true,
  ],
  ['$or: no alternative matches', { $or: [{ source: ['a'] }, { detail: { state: ['b'] } }] }, false],
  [
    '$or nested inside detail',
    { detail: { $or: [{ state: ['x'] }, { location: [{ prefix: 'eu-' }] }] } },
    true,
  ],
];

describe('matchesEventPattern', () => {
  it.each(cases)('%s', (_name, pattern, expected) => {
    // Act / Assess
    expect(matchesEventPattern(pattern, ec2Event)).toBe(expected);
  });

  it('accepts a pattern given as a JSON string', () => {
    expect(matchesEventPattern(JSON.stringify({ source: ['aws.ec2'] }), ec2Event)).toBe(true);
  });

  it('treats an escaped star in wildcard as a literal', () => {
    expect(matchesEventPattern({ k: [{ wildcard: 'a\\*b' }] }, { k: 'a*b' })).toBe(true);
    expect(matchesEventPattern({ k: [{ wildcard: 'a\\*b' }] }, { k: 'axb' })).toBe(false);
  });

  it('matches IPv6 cidr blocks', () => {
    expect(matchesEventPattern({ ip: [{ cidr: '2001:db8::/32' }] }, { ip: '2001:db8:1::5' })).toBe(true);
    expect(matchesEventPattern({ ip: [{ cidr: '2001:db8::/32' }] }, { ip: '2001:db9::5' })).toBe(false);
  });

  it('matches exists false when the parent object is absent', () => {
    expect(matchesEventPattern({ detail: { a: { b: [{ exists: false }] } } }, { detail: {} })).toBe(true);
  });

  it('rejects unsupported matchers with a clear error', () => {
    expect(() => matchesEventPattern({ k: [{ regex: 'x' }] }, { k: 'x' })).toThrow(/Unsupported/);
  });
});
