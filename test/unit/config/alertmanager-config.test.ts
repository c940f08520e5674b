import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAlertmanagerFile, parseAlertmanagerConfig } from '../../../lib/alertmanager-config';
import { issueLines } from '../../support/validation';

/** The problems a file is refused for, as `path: message` lines. */
const problems = (text: string) => issueLines(() => parseAlertmanagerConfig(text));

const TYPICAL = `
global:
  resolve_timeout: 5m
  smtp_smarthost: 'smtp.example.org:587'
  smtp_from: 'alertmanager@example.org'
route:
  receiver: team
  group_by: ['alertname', 'cluster']
  group_wait: 30s
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
      continue: true
    - match: { team: db }
      receiver: dba
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: ['cluster']
receivers:
  - name: team
    email_configs:
      - to: 'team@example.org, lead@example.org'
  - name: pager
    webhook_configs:
      - url: 'https://pager.example.org/hook'
        max_alerts: 0
  - name: dba
    email_configs:
      - to: lead@example.org
        send_resolved: true
  - name: blackhole
`;

describe('parseAlertmanagerConfig', () => {
  it('keeps the routing subset exactly as written, for PUT /api/alert-routing', () => {
    const loaded = parseAlertmanagerConfig(TYPICAL);
    expect(Object.keys(loaded.routing)).toEqual(['route', 'inhibit_rules']);
    expect(loaded.routing.route.routes?.[1]).toEqual({ match: { team: 'db' }, receiver: 'dba' });
    expect(loaded.receivers).toEqual(['team', 'pager', 'dba', 'blackhole']);
  });

  it('maps each email address and webhook to one subscription filtered on its receivers', () => {
    const { subscriptions } = parseAlertmanagerConfig(TYPICAL);
    expect(subscriptions).toEqual([
      {
        protocol: 'email',
        endpoint: 'team@example.org',
        receivers: ['team'],
        // Email's send_resolved defaults to false in Alertmanager: only firing notifications.
        filterPolicy: { receiver: ['team'], status: ['firing'] },
        rawMessageDelivery: false,
      },
      {
        protocol: 'email',
        endpoint: 'lead@example.org',
        receivers: ['dba', 'team'],
        filterPolicy: { $or: [{ receiver: ['dba'] }, { receiver: ['team'], status: ['firing'] }] },
        rawMessageDelivery: false,
      },
      {
        protocol: 'https',
        endpoint: 'https://pager.example.org/hook',
        receivers: ['pager'],
        // Webhooks' send_resolved defaults to true; raw delivery posts the webhook JSON itself.
        filterPolicy: { receiver: ['pager'] },
        rawMessageDelivery: true,
      },
    ]);
  });

  it('reports the SMTP settings SNS makes unnecessary as warnings, by name', () => {
    const { warnings } = parseAlertmanagerConfig(TYPICAL);
    expect(warnings.map((w) => w.path)).toEqual(['global.smtp_smarthost', 'global.smtp_from']);
  });

  it('names every unsupported key at once', () => {
    expect(
      problems(`
global: { resolve_timeout: 1m }
templates: ['/etc/alertmanager/*.tmpl']
tracing: { endpoint: x }
route:
  receiver: slack
  routes:
    - receiver: slack
      matchers: ['team="x"']
      rainbow: true
receivers:
  - name: slack
    slack_configs: [{ channel: '#x' }]
    webhook_configs:
      - url: http://insecure.example/
        http_config: { bearer_token: x }
        max_alerts: 10
    email_configs:
      - to: someone@example.org
        html: '{{ template "email.html" . }}'
`),
    ).toEqual([
      "global.resolve_timeout: Pulseboard's resolve_timeout is fixed at 5m",
      "templates: not supported: notifications carry Alertmanager's webhook JSON, not templated text",
      'tracing: not supported by Pulseboard',
      'route.routes[0].rainbow: unknown setting',
      'receivers[0].slack_configs: slack receivers are not supported: use email or a webhook (an HTTPS subscription)',
      'receivers[0].webhook_configs[0].http_config: not supported: SNS cannot send custom auth headers or TLS settings; put basic auth credentials in the https URL',
      'receivers[0].webhook_configs[0].max_alerts: not supported: Pulseboard truncates at its own notification size limit',
      'receivers[0].webhook_configs[0].url: webhooks must use https:// (http:// only on a loopback address): notifications leave the account',
      'receivers[0].email_configs[0].html: not supported: the email is the SNS notification (subject line and webhook JSON)',
    ]);
  });

  it('accepts an http:// webhook on a loopback address, which only the local runtime delivers to, with a warning', () => {
    const loaded = parseAlertmanagerConfig(`
route: { receiver: local }
receivers:
  - name: local
    webhook_configs:
      - url: http://127.0.0.1:9099/hook
      - url: http://localhost:9099/other
        send_resolved: false
`);
    expect(loaded.subscriptions).toEqual([
      {
        protocol: 'http',
        endpoint: 'http://127.0.0.1:9099/hook',
        receivers: ['local'],
        filterPolicy: { receiver: ['local'] },
        rawMessageDelivery: true,
      },
      {
        protocol: 'http',
        endpoint: 'http://localhost:9099/other',
        receivers: ['local'],
        filterPolicy: { receiver: ['local'], status: ['firing'] },
        rawMessageDelivery: true,
      },
    ]);
    expect(loaded.warnings.map((w) => `${w.path}: ${w.message}`)).toEqual([
      'receivers[0].webhook_configs[0].url: a loopback address: only the local runtime (npm start) delivers to it; SNS in AWS cannot',
      'receivers[0].webhook_configs[1].url: a loopback address: only the local runtime (npm start) delivers to it; SNS in AWS cannot',
    ]);
    // Anything else over plain http still leaves the machine in clear text.
    expect(
      problems(
        'route: { receiver: r }\nreceivers: [{ name: r, webhook_configs: [{ url: "http://10.0.0.1/x" }] }]',
      ),
    ).toEqual([
      'receivers[0].webhook_configs[0].url: webhooks must use https:// (http:// only on a loopback address): notifications leave the account',
    ]);
  });

  it('refuses a route naming a receiver the file does not define, once per name', () => {
    expect(
      problems(`
route:
  receiver: ghost
  routes: [{ matchers: ['a="b"'] }, { matchers: ['c="d"'], receiver: phantom }]
receivers: [{ name: real }, { name: real }]
`),
    ).toEqual([
      'receivers[1].name: receiver "real" is defined twice',
      'route.receiver: receiver "ghost" is not defined in receivers',
      'route.routes[1].receiver: receiver "phantom" is not defined in receivers',
    ]);
  });

  it('refuses bad addresses, missing urls and non-mapping files', () => {
    expect(
      problems(`
route: { receiver: r }
receivers:
  - name: r
    email_configs: [{ to: 'not-an-address' }, {}]
    webhook_configs: [{ send_resolved: maybe, url: 'https://ok.example/' }, { url: 'not a url' }]
`),
    ).toEqual([
      'receivers[0].email_configs[0].to: "not-an-address" is not an email address SNS can deliver to',
      'receivers[0].email_configs[1].to: an email receiver needs to: <address>',
      'receivers[0].webhook_configs[0].send_resolved: expected true or false',
      'receivers[0].webhook_configs[1].url: a webhook receiver needs url: https://…',
    ]);
    expect(problems('- just\n- a list\n')).toEqual([': expected a mapping']);
    expect(problems('receivers: []\n')).toEqual(['route: required']);
  });

  it('reports YAML syntax errors with their line, and refuses duplicate keys', () => {
    expect(problems('route:\n  receiver: a\n  receiver: b\nreceivers: [{name: a}]\n')[0]).toMatch(
      /^line 3: .*[Uu]nique/,
    );
    expect(problems('route: [unclosed\n')[0]).toMatch(/^line \d+: /);
  });

  it('accepts YAML anchors and aliases, as alertmanager.yml files often use them', () => {
    const loaded = parseAlertmanagerConfig(`
route: { receiver: a }
receivers:
  - name: a
    email_configs: [&email { send_resolved: true, to: a@example.org }]
  - name: b
    email_configs: [{ <<: *email, to: b@example.org }]
`);
    expect(loaded.subscriptions.map((s) => s.filterPolicy)).toEqual([
      { receiver: ['a'] },
      { receiver: ['b'] },
    ]);
  });

  it('passes time intervals through with the routing, and refuses a route naming an undefined one', () => {
    const loaded = parseAlertmanagerConfig(`
route:
  receiver: a
  routes: [{ matchers: ['team="x"'], mute_time_intervals: [weekends] }]
time_intervals:
  - name: weekends
    time_intervals: [{ weekdays: ['saturday', 'sunday'], location: Europe/Berlin }]
receivers: [{ name: a }]
`);
    expect(Object.keys(loaded.routing)).toEqual(['route', 'time_intervals']);
    expect(
      problems(`
route:
  receiver: a
  routes: [{ matchers: ['team="x"'], active_time_intervals: [office_hours] }]
receivers: [{ name: a }]
`).join('\n'),
    ).toMatch(/route\.routes\[0\]\.active_time_intervals.*office_hours/);
  });
});

describe('loadAlertmanagerFile', () => {
  it('reads a file, and refuses one with a message naming it and listing each problem on its own line', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'am-file-'));
    try {
      const good = path.join(dir, 'good.yml');
      const bad = path.join(dir, 'bad.yml');
      writeFileSync(good, 'route: { receiver: r }\nreceivers: [{ name: r }]\n');
      writeFileSync(
        bad,
        'route: { receiver: r, rainbow: 1 }\nreceivers: [{ name: r, slack_configs: [{}] }]\n',
      );
      expect(loadAlertmanagerFile(good).receivers).toEqual(['r']);
      expect(() => loadAlertmanagerFile(bad)).toThrow(
        [
          `${bad} cannot be loaded:`,
          '  route.rainbow: unknown setting',
          '  receivers[0].slack_configs: slack receivers are not supported: use email or a webhook (an HTTPS subscription)',
        ].join('\n'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
