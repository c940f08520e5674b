import { describe, expect, it } from 'vitest';
import type { Silence } from '../../../../functions/shared/domain/alerting/dispatch/silence';
import { ValidationError } from '../../../../functions/shared/errors';
import { listSilencesV2 } from '../../../../functions/silences/silences-api';
import { MemorySilenceStore } from '../../alerting/service/memory-ports';

const T0 = Date.parse('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;

const silence = (
  id: string,
  matchers: { name: string; value: string; isRegex?: boolean; isEqual?: boolean }[],
  startsAt: number,
  endsAt: number,
): Silence => ({
  id,
  matchers: matchers.map((m) => ({ isRegex: false, isEqual: true, ...m })),
  startsAt,
  endsAt,
  createdBy: 'amtool',
  comment: id,
  updatedAt: startsAt,
});

function setup() {
  const store = new MemorySilenceStore();
  store.silences = [
    silence('job-x', [{ name: 'job', value: 'x' }], T0 - HOUR, T0 + 2 * HOUR),
    silence('job-not-x', [{ name: 'job', value: 'x', isEqual: false }], T0 - HOUR, T0 + HOUR),
    silence(
      'job-re-y',
      [
        { name: 'job', value: 'y.*', isRegex: true },
        { name: 'env', value: 'prod' },
      ],
      T0 - HOUR,
      T0 + 3 * HOUR,
    ),
    silence('expired-early', [{ name: 'job', value: 'x' }], T0 - 3 * HOUR, T0 - 2 * HOUR),
    silence('expired-late', [{ name: 'job', value: 'z' }], T0 - 3 * HOUR, T0 - HOUR),
    silence('pending-late', [{ name: 'job', value: 'x' }], T0 + 2 * HOUR, T0 + 5 * HOUR),
    silence('pending-soon', [{ name: 'job', value: 'x' }], T0 + HOUR, T0 + 9 * HOUR),
  ];
  return { store, clock: () => T0 };
}

describe('GET /api/v2/silences', () => {
  it('sorts as Alertmanager does: active by end, then pending by start, then expired latest first', async () => {
    // Arrange
    const { store, clock } = setup();
    // Act
    const listed = await listSilencesV2('', store, clock);
    // Assess
    expect(listed.map((s) => s.id)).toEqual([
      'job-not-x',
      'job-x',
      'job-re-y',
      'pending-soon',
      'pending-late',
      'expired-late',
      'expired-early',
    ]);
  });

  it("keeps only silences with a matcher of the filter's name, operator and value, as amtool silence query asks", async () => {
    const { store, clock } = setup();
    const ids = async (query: string) => (await listSilencesV2(query, store, clock)).map((s) => s.id);

    // amtool sends its matchers unquoted or quoted, one `filter` each.
    expect(await ids('filter=job%3Dx')).toEqual(['job-x', 'pending-soon', 'pending-late', 'expired-early']);
    expect(await ids(`filter=${encodeURIComponent('job!="x"')}`)).toEqual(['job-not-x']);
    expect(await ids(`filter=${encodeURIComponent('job=~"y.*"')}`)).toEqual(['job-re-y']);
    // Every filter must find its matcher; a regex filter is not applied to the silence's values.
    expect(
      await ids(`filter=${encodeURIComponent('job=~"y.*"')}&filter=${encodeURIComponent('env="prod"')}`),
    ).toEqual(['job-re-y']);
    expect(await ids(`filter=${encodeURIComponent('job=~"x|z"')}`)).toEqual([]);
    expect(await ids('filter=alertname%3Dnosuch')).toEqual([]);
  });

  it('refuses a bad matcher and unknown parameters with a ValidationError naming them', async () => {
    const { store, clock } = setup();
    const refused = async (query: string) => {
      try {
        await listSilencesV2(query, store, clock);
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        return (error as ValidationError).issues.map((i) => i.path);
      }
      return expect.unreachable();
    };
    expect(await refused('filter=%3D%3Dx')).toEqual(['filter[0]']);
    expect(await refused('state=active')).toEqual(['state']);
  });
});
