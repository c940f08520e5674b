import { describe, expect, it } from 'vitest';
import { fingerprint, fnv1a64 } from '../../../functions/shared/domain/alerting/fingerprint';

describe('fingerprint', () => {
  it('hashes the empty label set to the FNV-64 offset basis', () => {
    // Prepare / Act
    const result = fingerprint({});

    // Assess
    expect(result).toBe('cbf29ce484222325');
  });

  it("matches Prometheus's own LabelSet.Fingerprint test vector", () => {
    // Prepare: prometheus/common model TestMetricToFingerprint expects 5799056148416392346.
    const labels = { name: 'garland, briggs', fear: 'love is not enough' };

    // Act
    const result = fingerprint(labels);

    // Assess
    expect(result).toBe(5799056148416392346n.toString(16).padStart(16, '0'));
    expect(result).toBe('507a62d79ee76c9a');
  });

  it.each([
    [{ a: 'b' }, 'd2b371819297f98a'],
    [{ a: '' }, 'e57e2e1903df23e2'],
    [{ alertname: 'HighCpu', host: 'web-1', severity: 'critical' }, 'acf23ea261f1ec30'],
    [{ zz: 'ünïcode', job: 'node', instance: 'h:9100' }, '258dfdee88051513'],
  ])('hashes %o to the hand-computed vector %s', (labels, expected) => {
    // Prepare / Act
    const result = fingerprint(labels);

    // Assess
    expect(result).toBe(expected);
  });

  it('does not depend on the order labels were written in', () => {
    // Prepare
    const a = { host: 'web-1', env: 'prod', alertname: 'X' };
    const b = { alertname: 'X', env: 'prod', host: 'web-1' };

    // Act / Assess
    expect(fingerprint(a)).toBe(fingerprint(b));
  });

  it('separates names from values, so moving a character across the boundary changes the hash', () => {
    // Prepare / Act
    const ab = fingerprint({ ab: 'c' });
    const a = fingerprint({ a: 'bc' });

    // Assess
    expect(ab).not.toBe(a);
    expect(ab).toMatch(/^[0-9a-f]{16}$/);
  });

  it('always renders 16 lowercase hex digits', () => {
    // Prepare
    const results = Array.from({ length: 200 }, (_, i) => fingerprint({ i: String(i) }));

    // Assess
    for (const result of results) expect(result).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('fnv1a64', () => {
  it('gives the standard FNV-1a 64 test vectors', () => {
    // Prepare / Act / Assess
    expect(fnv1a64('')).toBe('cbf29ce484222325');
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c');
    expect(fnv1a64('foobar')).toBe('85944171f73967e8');
  });
});
