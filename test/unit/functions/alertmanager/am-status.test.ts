import { describe, expect, it } from 'vitest';
import { alertmanagerConfigText, receiverNames } from '../../../../functions/alertmanager-api/am-status';
import { parseRouting } from '../../../../functions/shared/alerting/routing';
import { parseYaml } from '../../../../lib/yaml';

const routing = parseRouting({
  route: {
    receiver: 'default',
    group_by: ['alertname'],
    flap_detection: { transitions: 6 },
    routes: [
      {
        matchers: ['team="db"'],
        receiver: 'dba',
        continue: true,
        flap_detection: false,
        routes: [{ matchers: ['severity="critical"'], receiver: 'pager' }],
      },
      { matchers: ['severity="critical"'], receiver: 'pager', mute_time_intervals: ['nights'] },
      { matchers: ['team="web"'] },
    ],
  },
  inhibit_rules: [{ source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'] }],
  time_intervals: [
    { name: 'nights', time_intervals: [{ times: [{ start_time: '00:00', end_time: '06:00' }] }] },
  ],
});

describe('receiverNames', () => {
  it('names each receiver of the tree once, the root first, then in tree order; inherited ones are not new', () => {
    expect(receiverNames(routing.tree)).toEqual(['default', 'dba', 'pager']);
  });
});

describe('alertmanagerConfigText', () => {
  const document = parseYaml(alertmanagerConfigText(routing), 'config.original') as Record<string, unknown>;

  it('declares every receiver the tree uses, by name only, as Alertmanager requires', () => {
    expect(document.receivers).toEqual([{ name: 'default' }, { name: 'dba' }, { name: 'pager' }]);
  });

  it('leaves out flap_detection at every depth and keeps everything Alertmanager knows', () => {
    expect(JSON.stringify(document)).not.toContain('flap_detection');
    expect(document.route).toEqual({
      receiver: 'default',
      group_by: ['alertname'],
      routes: [
        {
          matchers: ['team="db"'],
          receiver: 'dba',
          continue: true,
          routes: [{ matchers: ['severity="critical"'], receiver: 'pager' }],
        },
        { matchers: ['severity="critical"'], receiver: 'pager', mute_time_intervals: ['nights'] },
        { matchers: ['team="web"'] },
      ],
    });
    expect(document.inhibit_rules).toEqual(routing.config.inhibit_rules);
    expect(document.time_intervals).toEqual(routing.config.time_intervals);
  });

  it('reads back as the same routing', () => {
    const { receivers: _names, ...again } = document;
    expect(parseRouting(again).tree).toEqual(parseRouting({ ...routing.config, route: document.route }).tree);
  });
});
