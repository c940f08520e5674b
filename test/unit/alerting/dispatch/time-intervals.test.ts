import { describe, expect, it } from 'vitest';
import { parseRouting } from '../../../../functions/shared/alerting/routing';
import { parseRouteTree } from '../../../../functions/shared/domain/alerting/dispatch/route';
import {
  isActive,
  type NamedTimeInterval,
  parseTimeIntervals,
  type TimeIntervals,
  timeMuted,
} from '../../../../functions/shared/domain/alerting/dispatch/time-intervals';
import { issueLines } from '../../../support/validation';

const issuesOf = issueLines;

/** One named interval from alertmanager.yml's `time_intervals` entries. */
function interval(...timeIntervals: unknown[]): NamedTimeInterval {
  const parsed = parseTimeIntervals({ time_intervals: [{ name: 'x', time_intervals: timeIntervals }] });
  return parsed.get('x') as NamedTimeInterval;
}

/** Which of the instants (ISO text) the interval contains. */
function activeAt(named: NamedTimeInterval, ...instants: string[]): Record<string, boolean> {
  return Object.fromEntries(instants.map((at) => [at, isActive(named, Date.parse(at))]));
}

describe('time interval definitions', () => {
  it('parses alertmanager.yml time_intervals and mute_time_intervals into minutes, day numbers and a zone', () => {
    // Act
    const intervals = parseTimeIntervals({
      mute_time_intervals: [{ name: 'old-style', time_intervals: [{ weekdays: ['Saturday', 'sunday'] }] }],
      time_intervals: [
        {
          name: 'business',
          time_intervals: [
            {
              times: [{ start_time: '09:00', end_time: '17:30' }],
              weekdays: ['monday:friday'],
              days_of_month: ['1:5', '-3:-1', 10],
              months: ['January:march', '12'],
              years: ['2024:2026', 2030],
              location: 'Europe/Berlin',
            },
            { times: [{ start_time: '22:00', end_time: '24:00' }] },
          ],
        },
        { name: 'no-entries' },
      ],
    });
    // Assess
    expect([...intervals.keys()]).toEqual(['old-style', 'business', 'no-entries']);
    expect(intervals.get('old-style')?.timeIntervals).toEqual([
      {
        weekdays: [
          { begin: 6, end: 6 },
          { begin: 0, end: 0 },
        ],
      },
    ]);
    expect(intervals.get('business')?.timeIntervals).toEqual([
      {
        times: [{ startMinute: 540, endMinute: 1050 }],
        weekdays: [{ begin: 1, end: 5 }],
        daysOfMonth: [
          { begin: 1, end: 5 },
          { begin: -3, end: -1 },
          { begin: 10, end: 10 },
        ],
        months: [
          { begin: 1, end: 3 },
          { begin: 12, end: 12 },
        ],
        years: [
          { begin: 2024, end: 2026 },
          { begin: 2030, end: 2030 },
        ],
        location: 'Europe/Berlin',
      },
      { times: [{ startMinute: 1320, endMinute: 1440 }] },
    ]);
    expect(intervals.get('no-entries')?.timeIntervals).toEqual([]);
  });

  it('accepts the zones Go accepts: "", UTC and Local as UTC, IANA names and links', () => {
    // Act
    const intervals = parseTimeIntervals({
      time_intervals: [
        {
          name: 'zones',
          time_intervals: ['', 'UTC', 'Local', 'US/Eastern', 'Etc/GMT+5', null].map((location) => ({
            location,
          })),
        },
      ],
    });
    // Assess
    expect(intervals.get('zones')?.timeIntervals).toEqual([
      {},
      {},
      {},
      { location: 'US/Eastern' },
      { location: 'Etc/GMT+5' },
      {},
    ]);
  });

  it('refuses bad lists, names and duplicates, naming each path', () => {
    // Act
    const issues = issuesOf(() =>
      parseTimeIntervals({
        mute_time_intervals: [{ name: 'dup', time_intervals: [] }, 'text'],
        time_intervals: [
          { name: 'dup', time_intervals: [] },
          { time_intervals: [] },
          { name: '', time_intervals: [] },
          { name: 'n'.repeat(201) },
          { name: 'bad-list', time_intervals: { weekdays: ['monday'] } },
          { name: 'bad-entry', time_intervals: ['monday'], colour: 'red' },
        ],
      }),
    );
    // Assess
    expect(issues).toEqual([
      'mute_time_intervals[1]: a time interval is an object { name, time_intervals }',
      'time_intervals[0].name: "dup" is already defined at mute_time_intervals[0]',
      'time_intervals[1].name: a time interval needs a name of 1 to 200 characters, not nothing',
      'time_intervals[2].name: a time interval needs a name of 1 to 200 characters, not the string ""',
      expect.stringMatching(
        /^time_intervals\[3\]\.name: a time interval needs a name of 1 to 200 characters/,
      ),
      'time_intervals[4].time_intervals: expected a list',
      'time_intervals[5].colour: unknown setting',
      'time_intervals[5].time_intervals[0]: expected an object of times, weekdays, days_of_month, months, years, location',
    ]);
    expect(issuesOf(() => parseTimeIntervals({ time_intervals: { name: 'x' } }))).toEqual([
      'time_intervals: expected a list of { name, time_intervals }',
    ]);
    expect(
      issuesOf(() =>
        parseTimeIntervals({
          time_intervals: [
            { name: 'a', time_intervals: [] },
            { name: 'a', time_intervals: [] },
          ],
        }),
      ),
    ).toEqual(['time_intervals[1].name: "a" is already defined at time_intervals[0]']);
  });

  it('refuses unknown keys in an entry by name, including time_zone (the key is location)', () => {
    // Act
    const issues = issuesOf(() =>
      parseTimeIntervals({
        time_intervals: [{ name: 'x', time_intervals: [{ time_zone: 'UTC', weekday: [] }] }],
      }),
    );
    // Assess
    expect(issues).toEqual([
      'time_intervals[0].time_intervals[0].time_zone: unknown setting',
      'time_intervals[0].time_intervals[0].weekday: unknown setting',
    ]);
  });

  it('refuses times that are missing, malformed, out of range or not increasing (24:00 only as an end)', () => {
    // Prepare
    const times = [
      { start_time: '09:00' },
      { start_time: '', end_time: '10:00' },
      { start_time: '9:00', end_time: '17:00' },
      { start_time: '22:00', end_time: '24:01' },
      { start_time: '10:00', end_time: '23:60' },
      { start_time: '09:00:00', end_time: '10:00' },
      { start_time: 900, end_time: '10:00' },
      { start_time: '09:00', end_time: '09:00' },
      { start_time: '10:00', end_time: '09:00' },
      { start_time: '24:00', end_time: '24:00' },
      { start_time: '10:00', end_time: '11:00', zone: 'UTC' },
      '09:00-10:00',
    ];
    // Act
    const issues = issuesOf(() =>
      parseTimeIntervals({ time_intervals: [{ name: 'x', time_intervals: [{ times }] }] }),
    );
    // Assess
    const at = 'time_intervals[0].time_intervals[0].times';
    expect(issues).toEqual([
      `${at}[0]: both start_time and end_time are required`,
      `${at}[1]: both start_time and end_time are required`,
      `${at}[2].start_time: "9:00" is not a time HH:MM from 00:00 to 23:59 (or 24:00)`,
      `${at}[3].end_time: "24:01" is not a time HH:MM from 00:00 to 23:59 (or 24:00)`,
      `${at}[4].end_time: "23:60" is not a time HH:MM from 00:00 to 23:59 (or 24:00)`,
      `${at}[5].start_time: "09:00:00" is not a time HH:MM from 00:00 to 23:59 (or 24:00)`,
      `${at}[6].start_time: the number 900 is not a time HH:MM from 00:00 to 23:59 (or 24:00)`,
      `${at}[7]: end_time must be after start_time (a range cannot span midnight: use two)`,
      `${at}[8]: end_time must be after start_time (a range cannot span midnight: use two)`,
      `${at}[9]: end_time must be after start_time (a range cannot span midnight: use two)`,
      `${at}[10].zone: unknown setting`,
      `${at}[11]: expected { start_time: 'HH:MM', end_time: 'HH:MM' }`,
    ]);
    expect(
      issuesOf(() =>
        parseTimeIntervals({ time_intervals: [{ name: 'x', time_intervals: [{ times: 'always' }] }] }),
      ),
    ).toEqual(['time_intervals[0].time_intervals[0].times: expected a list, not the string "always"']);
  });

  it('refuses weekdays, days of the month, months and years Alertmanager refuses, and months outside 1 to 12', () => {
    // Act
    const issues = issuesOf(() =>
      parseTimeIntervals({
        time_intervals: [
          {
            name: 'x',
            time_intervals: [
              {
                weekdays: [
                  'funday',
                  '1',
                  'friday:monday',
                  'saturday:sunday',
                  'monday : friday',
                  'monday:wednesday:friday',
                  true,
                ],
                days_of_month: ['0', '32', '-32', '-3:5', '5:1', '-1:-3', '20:-10', '1:', ' 5', 1.5],
                months: ['jan', '13', '0:3', 'may:january'],
                years: ['2026:2024', 'soon', { from: 2024 }],
              },
            ],
          },
        ],
      }),
    );
    // Assess
    const at = 'time_intervals[0].time_intervals[0]';
    expect(issues).toEqual([
      `${at}.weekdays[0]: "funday" is not a weekday (sunday to saturday)`,
      `${at}.weekdays[1]: "1" is not a weekday (sunday to saturday)`,
      `${at}.weekdays[2]: "friday:monday": the start day is after the end day (weeks run sunday to saturday)`,
      `${at}.weekdays[3]: "saturday:sunday": the start day is after the end day (weeks run sunday to saturday)`,
      `${at}.weekdays[4]: "monday " is not a weekday (sunday to saturday)`,
      `${at}.weekdays[5]: "monday:wednesday:friday" is not a value or a range like start:end`,
      `${at}.weekdays[6]: expected a string like "1:5", not the boolean true`,
      `${at}.days_of_month[0]: 0 is not a day of the month: 1 to 31, or -1 to -31 counted from the month's end`,
      `${at}.days_of_month[1]: 32 is not a day of the month: 1 to 31, or -1 to -31 counted from the month's end`,
      `${at}.days_of_month[2]: -32 is not a day of the month: 1 to 31, or -1 to -31 counted from the month's end`,
      `${at}.days_of_month[3]: "-3:5": the end day must be negative when the start day is`,
      `${at}.days_of_month[4]: "5:1": the end day is always before the start day`,
      `${at}.days_of_month[5]: "-1:-3": the end day is always before the start day`,
      `${at}.days_of_month[6]: "20:-10": the end day is always before the start day`,
      `${at}.days_of_month[7]: "" is not a day of the month`,
      `${at}.days_of_month[8]: " 5" is not a day of the month`,
      `${at}.days_of_month[9]: expected a string like "1:5", not the number 1.5`,
      `${at}.months[0]: "jan" is not a month (january to december, or 1 to 12)`,
      `${at}.months[1]: "13" is not a month (january to december, or 1 to 12)`,
      `${at}.months[2]: "0" is not a month (january to december, or 1 to 12)`,
      `${at}.months[3]: "may:january": the end month is before the start month`,
      `${at}.years[0]: "2026:2024": the end year is before the start year`,
      `${at}.years[1]: "soon" is not a year`,
      `${at}.years[2]: expected a string like "1:5", not an object`,
    ]);
  });

  it('accepts the day ranges Alertmanager accepts: a sign, a positive start with a negative end', () => {
    // Act
    const [entry] = interval({ days_of_month: ['+5', '5:-3', '18:-10'] }).timeIntervals;
    // Assess
    expect(entry?.daysOfMonth).toEqual([
      { begin: 5, end: 5 },
      { begin: 5, end: -3 },
      { begin: 18, end: -10 },
    ]);
  });

  it('refuses a zone Go cannot load: unknown, miscased, an offset, not a string', () => {
    // Act
    const issues = issuesOf(() =>
      parseTimeIntervals({
        time_intervals: [
          {
            name: 'x',
            time_intervals: ['Mars/Olympus', 'europe/berlin', 'utc', '+01:00', 'Factory', 1].map(
              (location) => ({
                location,
              }),
            ),
          },
        ],
      }),
    );
    // Assess
    const at = 'time_intervals[0].time_intervals';
    expect(issues).toEqual([
      `${at}[0].location: unknown time zone "Mars/Olympus": expected an IANA name like Europe/Berlin`,
      `${at}[1].location: unknown time zone "europe/berlin": names are case-sensitive (Europe/Berlin)`,
      `${at}[2].location: unknown time zone "utc": names are case-sensitive (UTC)`,
      `${at}[3].location: unknown time zone "+01:00": expected an IANA name like Europe/Berlin`,
      `${at}[4].location: unknown time zone "Factory": expected an IANA name like Europe/Berlin`,
      `${at}[5].location: expected an IANA time zone name, not the number 1`,
    ]);
  });
});

describe('isActive (timeinterval.go ContainsTime)', () => {
  it('includes the start minute and excludes the end minute; 24:00 ends at midnight', () => {
    // Prepare
    const day = interval({ times: [{ start_time: '09:00', end_time: '17:00' }] });
    const late = interval({ times: [{ start_time: '22:00', end_time: '24:00' }] });
    // Act / Assess
    expect(
      activeAt(
        day,
        '2025-03-03T08:59:59Z',
        '2025-03-03T09:00:00Z',
        '2025-03-03T16:59:59Z',
        '2025-03-03T17:00:00Z',
      ),
    ).toEqual({
      '2025-03-03T08:59:59Z': false,
      '2025-03-03T09:00:00Z': true,
      '2025-03-03T16:59:59Z': true,
      '2025-03-03T17:00:00Z': false,
    });
    expect(activeAt(late, '2025-03-03T21:59:59Z', '2025-03-03T23:59:59Z', '2025-03-04T00:00:00Z')).toEqual({
      '2025-03-03T21:59:59Z': false,
      '2025-03-03T23:59:59Z': true,
      '2025-03-04T00:00:00Z': false,
    });
  });

  it('needs every field of an entry (AND) and any entry of the interval (OR)', () => {
    // Prepare: weekday business hours, or any time on the first of the month.
    const named = interval(
      { times: [{ start_time: '09:00', end_time: '17:00' }], weekdays: ['monday:friday'] },
      { days_of_month: ['1'] },
    );
    // Act / Assess
    expect(
      activeAt(
        named,
        '2025-03-03T10:00:00Z', // Monday, in hours
        '2025-03-03T18:00:00Z', // Monday, after hours
        '2025-03-08T10:00:00Z', // Saturday, in hours
        '2025-03-01T23:00:00Z', // Saturday the 1st
      ),
    ).toEqual({
      '2025-03-03T10:00:00Z': true,
      '2025-03-03T18:00:00Z': false,
      '2025-03-08T10:00:00Z': false,
      '2025-03-01T23:00:00Z': true,
    });
  });

  it('reads inclusive ranges of weekdays, months (names or numbers) and years', () => {
    // Prepare
    const weekend = interval({ weekdays: ['saturday', 'sunday'] });
    const quarter = interval({ months: ['january:march', '12'], years: ['2024:2025'] });
    // Act / Assess
    expect(activeAt(weekend, '2025-03-01T00:00:00Z', '2025-03-02T23:59:59Z', '2025-03-03T00:00:00Z')).toEqual(
      {
        '2025-03-01T00:00:00Z': true,
        '2025-03-02T23:59:59Z': true,
        '2025-03-03T00:00:00Z': false,
      },
    );
    expect(
      activeAt(
        quarter,
        '2025-03-31T23:59:59Z',
        '2025-04-01T00:00:00Z',
        '2024-12-15T00:00:00Z',
        '2026-01-15T00:00:00Z',
      ),
    ).toEqual({
      '2025-03-31T23:59:59Z': true,
      '2025-04-01T00:00:00Z': false,
      '2024-12-15T00:00:00Z': true,
      '2026-01-15T00:00:00Z': false,
    });
  });

  it("counts negative days of the month from the month's end, in short, leap and long months", () => {
    // Prepare
    const lastThree = interval({ days_of_month: ['-3:-1'] });
    const fifthToThirdLast = interval({ days_of_month: ['5:-3'] });
    const thirtyFirst = interval({ days_of_month: ['31'] });
    // Act / Assess
    expect(
      activeAt(
        lastThree,
        '2025-02-25T12:00:00Z',
        '2025-02-26T00:00:00Z',
        '2024-02-26T12:00:00Z',
        '2024-02-27T00:00:00Z',
      ),
    ).toEqual({
      '2025-02-25T12:00:00Z': false,
      '2025-02-26T00:00:00Z': true,
      '2024-02-26T12:00:00Z': false,
      '2024-02-27T00:00:00Z': true,
    });
    expect(
      activeAt(
        fifthToThirdLast,
        '2025-02-04T12:00:00Z',
        '2025-02-05T00:00:00Z',
        '2025-02-26T12:00:00Z',
        '2025-02-27T00:00:00Z',
      ),
    ).toEqual({
      '2025-02-04T12:00:00Z': false,
      '2025-02-05T00:00:00Z': true,
      '2025-02-26T12:00:00Z': true,
      '2025-02-27T00:00:00Z': false,
    });
    // A day the month does not have never matches (Alertmanager skips it rather than clamping).
    expect(activeAt(thirtyFirst, '2025-04-30T12:00:00Z', '2025-05-31T12:00:00Z')).toEqual({
      '2025-04-30T12:00:00Z': false,
      '2025-05-31T12:00:00Z': true,
    });
  });

  it("reads every field in the entry's location, following daylight saving time", () => {
    // Prepare
    const berlinHours = interval({
      times: [{ start_time: '09:00', end_time: '17:00' }],
      location: 'Europe/Berlin',
    });
    const berlinMonday = interval({ weekdays: ['monday'], location: 'Europe/Berlin' });
    const kolkata = interval({
      times: [{ start_time: '09:00', end_time: '09:30' }],
      location: 'Asia/Kolkata',
    });
    // Act / Assess: CET is UTC+1 in winter, CEST UTC+2 in summer; IST is UTC+5:30.
    expect(
      activeAt(
        berlinHours,
        '2025-01-15T07:59:59Z',
        '2025-01-15T08:00:00Z',
        '2025-07-15T06:59:59Z',
        '2025-07-15T07:00:00Z',
      ),
    ).toEqual({
      '2025-01-15T07:59:59Z': false,
      '2025-01-15T08:00:00Z': true,
      '2025-07-15T06:59:59Z': false,
      '2025-07-15T07:00:00Z': true,
    });
    expect(activeAt(berlinMonday, '2025-03-02T22:59:59Z', '2025-03-02T23:00:00Z')).toEqual({
      '2025-03-02T22:59:59Z': false,
      '2025-03-02T23:00:00Z': true,
    });
    expect(activeAt(kolkata, '2025-03-03T03:29:59Z', '2025-03-03T03:30:00Z', '2025-03-03T04:00:00Z')).toEqual(
      {
        '2025-03-03T03:29:59Z': false,
        '2025-03-03T03:30:00Z': true,
        '2025-03-03T04:00:00Z': false,
      },
    );
  });

  it('follows the wall clock across the DST changes: the skipped hour never matches, the repeated one twice', () => {
    // Prepare: Berlin skips 02:00-03:00 on 2025-03-30 and repeats it on 2025-10-26.
    const twoToThree = interval({
      times: [{ start_time: '02:00', end_time: '03:00' }],
      location: 'Europe/Berlin',
    });
    // Act / Assess
    expect(activeAt(twoToThree, '2025-03-30T00:59:59Z', '2025-03-30T01:00:00Z')).toEqual({
      '2025-03-30T00:59:59Z': false, // 01:59:59 CET
      '2025-03-30T01:00:00Z': false, // 03:00:00 CEST
    });
    expect(
      activeAt(
        twoToThree,
        '2025-10-25T23:59:59Z',
        '2025-10-26T00:00:00Z',
        '2025-10-26T01:59:59Z',
        '2025-10-26T02:00:00Z',
      ),
    ).toEqual({
      '2025-10-25T23:59:59Z': false, // 01:59:59 CEST
      '2025-10-26T00:00:00Z': true, // 02:00 CEST
      '2025-10-26T01:59:59Z': true, // 02:59:59 CET
      '2025-10-26T02:00:00Z': false, // 03:00 CET
    });
  });

  it('counts a month that loses an hour to DST one day short, as Alertmanager 0.25 does', () => {
    // Prepare: timeinterval.go's daysInMonth truncates 31 days minus an hour to 30 for March in Berlin.
    const lastDay = interval({ days_of_month: ['-1'], location: 'Europe/Berlin' });
    const lastDayUtc = interval({ days_of_month: ['-1'] });
    // Act / Assess
    expect(activeAt(lastDay, '2025-03-30T12:00:00Z', '2025-03-31T12:00:00Z', '2025-10-31T12:00:00Z')).toEqual(
      {
        '2025-03-30T12:00:00Z': true,
        '2025-03-31T12:00:00Z': false,
        '2025-10-31T12:00:00Z': true,
      },
    );
    expect(activeAt(lastDayUtc, '2025-03-30T12:00:00Z', '2025-03-31T12:00:00Z')).toEqual({
      '2025-03-30T12:00:00Z': false,
      '2025-03-31T12:00:00Z': true,
    });
  });

  it('matches anything with no fields, nothing with an empty list, and nothing with no entries', () => {
    // Act / Assess
    expect(isActive(interval({}), Date.parse('2025-03-03T10:00:00Z'))).toBe(true);
    expect(isActive(interval({ weekdays: [] }), Date.parse('2025-03-03T10:00:00Z'))).toBe(false);
    expect(isActive(interval(), Date.parse('2025-03-03T10:00:00Z'))).toBe(false);
  });
});

describe('timeMuted (TimeActiveStage, TimeMuteStage)', () => {
  const intervals: TimeIntervals = parseTimeIntervals({
    time_intervals: [
      { name: 'always', time_intervals: [{}] },
      { name: 'never', time_intervals: [] },
    ],
  });
  const now = Date.parse('2025-03-03T10:00:00Z');

  it('holds notifications while a mute interval is active or while no active interval is', () => {
    // Act / Assess
    expect(timeMuted({}, intervals, now)).toBe(false);
    expect(timeMuted({ muteTimeIntervals: ['never', 'always'] }, intervals, now)).toBe(true);
    expect(timeMuted({ muteTimeIntervals: ['never'] }, intervals, now)).toBe(false);
    expect(timeMuted({ activeTimeIntervals: ['never'] }, intervals, now)).toBe(true);
    expect(timeMuted({ activeTimeIntervals: ['never', 'always'] }, intervals, now)).toBe(false);
    expect(timeMuted({ activeTimeIntervals: [], muteTimeIntervals: [] }, intervals, now)).toBe(false);
    expect(
      timeMuted({ activeTimeIntervals: ['always'], muteTimeIntervals: ['always'] }, intervals, now),
    ).toBe(true);
  });

  it('holds them at a name no longer defined, unless an earlier name already decided, as inTimeIntervals', () => {
    // Act / Assess
    expect(timeMuted({ muteTimeIntervals: ['gone'] }, intervals, now)).toBe(true);
    expect(timeMuted({ activeTimeIntervals: ['gone'] }, intervals, now)).toBe(true);
    expect(timeMuted({ activeTimeIntervals: ['always', 'gone'] }, intervals, now)).toBe(false);
    expect(timeMuted({ muteTimeIntervals: ['always', 'gone'] }, intervals, now)).toBe(true);
  });
});

describe('routes naming time intervals', () => {
  const TIME_INTERVALS = [{ name: 'weekends', time_intervals: [{ weekdays: ['saturday', 'sunday'] }] }];

  it('keeps the names a route gives, without passing them to its children (Alertmanager does not inherit them)', () => {
    // Act
    const routing = parseRouting({
      time_intervals: TIME_INTERVALS,
      mute_time_intervals: [
        { name: 'nights', time_intervals: [{ times: [{ start_time: '00:00', end_time: '06:00' }] }] },
      ],
      route: {
        receiver: 'default',
        routes: [
          {
            matchers: ['team="db"'],
            mute_time_intervals: ['weekends'],
            active_time_intervals: ['nights'],
            routes: [{ matchers: ['severity="critical"'], receiver: 'pager' }],
          },
        ],
      },
    });
    // Assess
    const parent = routing.tree.routes[0];
    expect(parent).toMatchObject({ muteTimeIntervals: ['weekends'], activeTimeIntervals: ['nights'] });
    expect(parent?.routes[0]).toMatchObject({ muteTimeIntervals: [], activeTimeIntervals: [] });
    expect(routing.tree).toMatchObject({ muteTimeIntervals: [], activeTimeIntervals: [] });
    expect([...routing.timeIntervals.keys()]).toEqual(['nights', 'weekends']);
  });

  it('refuses a route naming an undefined interval, names on the root route, and bad lists, with the interval issues', () => {
    // Act
    const issues = issuesOf(() =>
      parseRouting({
        time_intervals: [...TIME_INTERVALS, { name: 'broken', time_intervals: [{ weekdays: ['someday'] }] }],
        route: {
          receiver: 'default',
          mute_time_intervals: ['weekends'],
          routes: [
            { mute_time_intervals: ['weekend'], active_time_intervals: 'weekends' },
            { active_time_intervals: ['broken', 7] },
          ],
        },
      }),
    );
    // Assess
    expect(issues).toEqual([
      'time_intervals[1].time_intervals[0].weekdays[0]: "someday" is not a weekday (sunday to saturday)',
      'route.routes[0].mute_time_intervals[0]: time interval "weekend" is not defined in time_intervals',
      'route.routes[0].active_time_intervals: expected a list of time interval names',
      'route.routes[1].active_time_intervals[1]: expected a name, not the number 7',
      'route.mute_time_intervals: the root route must not have mute_time_intervals',
    ]);
  });

  it('accepts an empty list on the root route and the same name twice, as Alertmanager', () => {
    // Act
    const tree = parseRouteTree(
      { receiver: 'r', mute_time_intervals: [], routes: [{ mute_time_intervals: ['w', 'w'] }] },
      new Set(['w']),
    );
    // Assess
    expect(tree.routes[0]?.muteTimeIntervals).toEqual(['w', 'w']);
  });

  it('names time_intervals and mute_time_intervals among the supported routing keys', () => {
    // Act
    const issues = issuesOf(() => parseRouting({ route: { receiver: 'r' }, receivers: [] }));
    // Assess
    expect(issues).toEqual(['receivers: not supported']);
    expect(() => parseRouting({ route: { receiver: 'r' }, receivers: [] })).toThrow(
      'Unsupported routing keys: receivers (supported: route, inhibit_rules, time_intervals, mute_time_intervals)',
    );
  });
});
