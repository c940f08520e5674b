import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAgentArgs, UsageError } from '../../../agent/config';

const URL = 'https://abc123.execute-api.eu-west-1.amazonaws.com';

const fails = (argv: string[], env: Record<string, string> = {}) => {
  try {
    parseAgentArgs(argv, env, '/home/me');
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).not.toContain('\n');
    return (error as Error).message;
  }
  throw new Error(`expected ${argv.join(' ')} to be rejected`);
};

describe('agent command line', () => {
  it('defaults to every metric group, / for disks, 10 s, 100 MB and the home spool', () => {
    expect(parseAgentArgs(['--url', URL], {}, '/home/me')).toEqual({
      kind: 'run',
      once: false,
      url: URL,
      intervalMs: 10_000,
      labels: {},
      metrics: ['cpu', 'memory', 'load', 'disk', 'network', 'uptime'],
      diskPaths: ['/'],
      spoolDir: path.join(os.homedir(), '.pulseboard-agent', 'spool'),
      maxBufferBytes: 100 * 1024 * 1024,
    });
  });

  it('reads every flag', () => {
    const command = parseAgentArgs(
      [
        `--url=${URL}/`,
        '--token',
        'tok_123',
        '--interval',
        '2s',
        '--label',
        'env=prod',
        '--label',
        'host=web-1',
        '--metrics',
        'network, cpu',
        '--disk-path',
        '/',
        '--disk-path',
        '/data',
        '--buffer-dir',
        '~/spool',
        '--max-buffer-mb',
        '5',
        '--once',
      ],
      {},
      '/home/me',
    );

    expect(command).toEqual({
      kind: 'run',
      once: true,
      url: URL,
      token: 'tok_123',
      intervalMs: 2000,
      labels: { env: 'prod', host: 'web-1' },
      metrics: ['cpu', 'network'],
      diskPaths: ['/', '/data'],
      spoolDir: '/home/me/spool',
      maxBufferBytes: 5 * 1024 * 1024,
    });
  });

  it('falls back to PULSEBOARD_* variables, with flags winning', () => {
    const env = {
      PULSEBOARD_URL: 'http://127.0.0.1:3000',
      PULSEBOARD_TOKEN: 'from-env',
      PULSEBOARD_INTERVAL: '1m',
      PULSEBOARD_LABELS: 'env=dev, team=core',
      PULSEBOARD_METRICS: 'cpu,memory',
      PULSEBOARD_DISK_PATHS: '/,/var',
      PULSEBOARD_BUFFER_DIR: '/var/spool/pulseboard',
      PULSEBOARD_MAX_BUFFER_MB: '250',
    };

    expect(parseAgentArgs([], env)).toMatchObject({
      url: 'http://127.0.0.1:3000',
      token: 'from-env',
      intervalMs: 60_000,
      labels: { env: 'dev', team: 'core' },
      metrics: ['cpu', 'memory'],
      diskPaths: ['/', '/var'],
      spoolDir: '/var/spool/pulseboard',
      maxBufferBytes: 250 * 1024 * 1024,
    });
    expect(parseAgentArgs(['--token', 'from-flag', '--interval', '5s'], env)).toMatchObject({
      token: 'from-flag',
      intervalMs: 5000,
    });
  });

  it('accepts a pasted ingest URL and trims it to the API base', () => {
    expect(parseAgentArgs(['--url', `${URL}/api/metrics`])).toMatchObject({ url: URL });
  });

  it('answers help before checking anything else', () => {
    expect(parseAgentArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseAgentArgs(['-h', '--interval', 'nonsense'])).toEqual({ kind: 'help' });
  });

  it.each([
    [[], '--url (or PULSEBOARD_URL) is required'],
    [['--url'], 'option --url needs a value'],
    [['--url', URL, '--verbose'], 'unknown option --verbose'],
    [['--url', URL, 'extra'], 'unexpected argument extra'],
    [['--url', URL, '--once=yes'], 'option --once takes no value'],
    [['--url', 'ftp://example.com'], '--url must be an http(s) URL'],
    [['--url', 'not a url'], '--url must be an http(s) URL'],
    [['--url', `${URL}?a=1`], 'must not have a query string'],
    [['--url', URL, '--interval', 'fast'], '--interval must look like 2s, 10s or 1m'],
    [['--url', URL, '--interval', '500ms'], '--interval must be between 1s and 1h'],
    [['--url', URL, '--interval', '2h'], '--interval must be between 1s and 1h'],
    [['--url', URL, '--label', 'env'], '--label must be key=value'],
    [['--url', URL, '--label', '=x'], '--label must be key=value'],
    [['--url', URL, '--label', 'bad-key=x'], 'must match [a-zA-Z_][a-zA-Z0-9_]*'],
    [['--url', URL, '--label', 'mount=/x'], 'is set by the agent itself'],
    [['--url', URL, '--label', 'a=1', '--label', 'a=2'], '--label a is given twice'],
    [['--url', URL, '--label', '__name=x'], 'keys starting with __ are reserved'],
    [['--url', URL, '--label', 'env='], '--label env needs a non-empty value'],
    [['--url', URL, '--label', `a=${'x'.repeat(257)}`], 'longer than 256 characters'],
    [
      ['--url', URL, '--metrics', 'cpu,gpu'],
      '--metrics: unknown gpu; choose from cpu,memory,load,disk,network,uptime',
    ],
    [['--url', URL, '--metrics', ','], '--metrics needs at least one'],
    [['--url', URL, '--max-buffer-mb', 'lots'], '--max-buffer-mb must be a number'],
    [['--url', URL, '--max-buffer-mb', '0'], '--max-buffer-mb must be a number'],
    [['--url', URL, '--token', 'has space'], '--token must be printable ASCII'],
  ])('rejects %j with one clear line', (argv, message) => {
    expect(fails(argv)).toContain(message);
  });

  it('reads a bare interval as seconds', () => {
    expect(parseAgentArgs(['--url', URL, '--interval', '30'])).toMatchObject({ intervalMs: 30_000 });
    expect(parseAgentArgs(['--url', URL, '--interval', '1500ms'])).toMatchObject({ intervalMs: 1500 });
  });

  it('allows at most 14 labels besides host, the API allowing 16 per point', () => {
    const labels = Array.from({ length: 15 }, (_, i) => ['--label', `l${i}=v`]).flat();

    expect(fails(['--url', URL, ...labels])).toContain('at most 14 labels');
    expect(parseAgentArgs(['--url', URL, ...labels.slice(2), '--label', 'host=h'])).toMatchObject({
      kind: 'run',
    });
  });
});
