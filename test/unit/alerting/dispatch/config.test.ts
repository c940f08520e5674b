import { describe, expect, it } from 'vitest';
import { routeAlert } from '../../../../functions/shared/domain/alerting/dispatch/dispatcher';
import {
  inhibitedBy,
  parseInhibitRules,
} from '../../../../functions/shared/domain/alerting/dispatch/inhibit';
import { formatLabelSet } from '../../../../functions/shared/domain/alerting/dispatch/labels';
import { matchRoutes, parseRouteTree } from '../../../../functions/shared/domain/alerting/dispatch/route';
import {
  expireSilence,
  isSilenced,
  type Silence,
  silenceState,
  validateSilence,
} from '../../../../functions/shared/domain/alerting/dispatch/silence';
import { issueLines } from '../../../support/validation';
import { T0 } from './harness';

const issuesOf = issueLines;

describe('route tree', () => {
  it('applies Alertmanager defaults and lets children inherit what they leave unset', () => {
    // Act
    const tree = parseRouteTree({
      receiver: 'default',
      group_by: ['alertname'],
      routes: [
        {
          matchers: ['env="prod"'],
          group_wait: '10s',
          routes: [{ match_re: { team: 'db|cache' }, receiver: 'db' }],
        },
      ],
    });
    // Assess
    const child = tree.routes[0]?.routes[0];
    expect(tree).toMatchObject({
      groupWaitMs: 30_000,
      groupIntervalMs: 300_000,
      repeatIntervalMs: 14_400_000,
      key: '{}',
    });
    expect(child).toMatchObject({
      id: 'root.0.0',
      key: '{}/{env="prod"}/{team=~"db|cache"}',
      receiver: 'db',
      groupBy: ['alertname'],
      groupWaitMs: 10_000,
      flap: { enabled: true, transitions: 4, windowMs: 1_800_000, stableMs: 600_000 },
    });
  });

  it('matches depth first, stopping at the first matching child unless it continues, falling back to the parent', () => {
    // Prepare
    const tree = parseRouteTree({
      receiver: 'default',
      routes: [
        { matchers: ['team="db"'], receiver: 'db', continue: true },
        { matchers: ['severity="critical"'], receiver: 'pager' },
        { matchers: ['severity="critical"'], receiver: 'unreached' },
      ],
    });
    // Act / Assess
    expect(matchRoutes(tree, { team: 'db', severity: 'critical' }).map((r) => r.receiver)).toEqual([
      'db',
      'pager',
    ]);
    expect(matchRoutes(tree, { team: 'db' }).map((r) => r.receiver)).toEqual(['db']);
    expect(matchRoutes(tree, { team: 'web' }).map((r) => r.receiver)).toEqual(['default']);
  });

  it('refuses a bad tree with one issue per problem', () => {
    // Act
    const issues = issuesOf(() =>
      parseRouteTree({
        matchers: ['a="b"'],
        group_by: ['...', 'x'],
        routes: [{ matchers: ['env=~"(a+)+"'], group_interval: '0', repeat_interval: 'soon', colour: 'red' }],
      }),
    );
    // Assess
    expect(issues).toEqual([
      "route.group_by: cannot have '...' and other labels at the same time",
      'route.routes[0].colour: unknown setting',
      expect.stringMatching(/^route\.routes\[0\]\.matchers\[0\]: the regex of label "env" repeats a group/),
      'route.routes[0].group_interval: group_interval cannot be zero',
      'route.routes[0].repeat_interval: "soon" is not a duration like 30s, 5m, 1h30m',
      'route.receiver: the root route must name a default receiver',
      'route.matchers: the root route must not have any matchers',
    ]);
  });

  it('keys groups as Alertmanager: route key, then the group labels formatted and sorted as Prometheus does', () => {
    // Prepare
    const tree = parseRouteTree({
      receiver: 'r',
      routes: [{ matchers: ['severity="critical"'], group_by: ['...'] }],
    });
    // Act
    const [target] = routeAlert(tree, { severity: 'critical', a0: 'x', a: 'say "hi"\n' });
    // Assess
    expect(target?.groupKey).toBe(
      '{}/{severity="critical"}:{a0="x", a="say \\"hi\\"\\n", severity="critical"}',
    );
    expect(target?.groupId).toBe(`${target?.groupKey}|r`);
    expect(formatLabelSet({})).toBe('{}');
  });
});

describe('silences', () => {
  const silence: Silence = {
    id: 's1',
    matchers: [
      { name: 'host', value: 'web-.*', isRegex: true, isEqual: true },
      { name: 'env', value: 'dev', isRegex: false, isEqual: false },
    ],
    startsAt: T0,
    endsAt: T0 + 60_000,
    createdBy: 'ana',
    comment: 'deploy',
  };

  it('is pending, active, then expired by time, and mutes only while active', () => {
    // Act / Assess
    expect([
      silenceState(silence, T0 - 1),
      silenceState(silence, T0),
      silenceState(silence, T0 + 60_000),
    ]).toEqual(['pending', 'active', 'expired']);
    expect(isSilenced({ host: 'web-1', env: 'prod' }, [silence], T0 + 1)).toEqual(['s1']);
    expect(isSilenced({ host: 'web-1', env: 'dev' }, [silence], T0 + 1)).toEqual([]);
    expect(isSilenced({ host: 'web-1' }, [silence], T0 - 1)).toEqual([]);
  });

  it('expires an active silence now and a pending one before it starts', () => {
    // Act
    const active = expireSilence(silence, T0 + 10);
    const pending = expireSilence(silence, T0 - 10);
    // Assess
    expect([active.startsAt, active.endsAt, silenceState(active, T0 + 10)]).toEqual([T0, T0 + 10, 'expired']);
    expect([pending.startsAt, pending.endsAt]).toEqual([T0 - 10, T0 - 10]);
    expect(expireSilence(active, T0 + 20)).toBe(active);
  });

  it('refuses a silence without matchers, author or comment, ending before it starts, or matching everything', () => {
    // Act
    const issues = issuesOf(() =>
      validateSilence({
        id: 's2',
        matchers: [{ name: 'host', value: '.*', isRegex: true, isEqual: true }],
        startsAt: T0,
        endsAt: T0,
        createdBy: '',
        comment: 'x'.repeat(1001),
      }),
    );
    // Assess
    expect(issues).toEqual([
      'matchers: at least one matcher must not match the empty string',
      'endsAt: the end must be after the start',
      'createdBy: required',
      'comment: at most 1000 characters',
    ]);
    expect(issuesOf(() => validateSilence({ ...silence, matchers: [] }))).toEqual([
      'matchers: at least one matcher is required',
    ]);
    expect(validateSilence(silence)).toHaveLength(2);
  });
});

describe('inhibition rules', () => {
  it('treats a label both alerts lack as equal, and parses rules with clear issues', () => {
    // Prepare
    const rules = parseInhibitRules([
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity="warning"'],
        equal: ['cluster'],
      },
    ]);
    const view = { firing: [{ fingerprint: 'f1', labels: { severity: 'critical' } }] };
    // Act / Assess
    expect(inhibitedBy({ severity: 'warning' }, rules, view)).toBe('f1');
    expect(inhibitedBy({ severity: 'warning', cluster: 'a' }, rules, view)).toBeUndefined();
    expect(issuesOf(() => parseInhibitRules([{ source_matchers: ['severity'] }]))[0]).toMatch(
      /^inhibit_rules\[0\]\.source_matchers\[0\]/,
    );
  });
});
