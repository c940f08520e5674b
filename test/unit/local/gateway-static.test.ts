import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../../local/gateway';
import { substituteMarkers } from '../../../local/static-site';
import type { CfnResource } from '../../../local/types';
import {
  FakeInvoker,
  httpApiResources,
  ok,
  send,
  startTestGateway,
  TEST_ENDPOINTS,
} from './gateway-test-kit';

let gateway: RunningGateway | undefined;
let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'pulseboard-site-'));
});

afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
  rmSync(root, { recursive: true, force: true });
});

/** Writes an asset directory named by its hash. */
function asset(hash: string, files: Record<string, string>): string {
  const dir = join(root, `asset.${hash}`);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

/** A BucketDeployment of the site asset plus a Source.jsonData config, as CDK synthesizes it. */
function deployment(props: Record<string, unknown> = {}): CfnResource {
  return {
    Type: 'Custom::CDKBucketDeployment',
    Properties: {
      ServiceToken: 'arn:aws:lambda:us-east-1:000000000000:function:deployer',
      SourceBucketNames: ['assets', 'assets'],
      SourceObjectKeys: ['site.zip', 'config.zip'],
      SourceMarkers: [
        {},
        {
          '<<marker:0xbaba:0>>': { 'Fn::GetAtt': ['HttpApi', 'ApiEndpoint'] },
          '<<marker:0xbaba:1>>': 'say "hi"',
        },
      ],
      SourceMarkersConfig: [{}, { jsonEscape: true }],
      DestinationBucketName: { Ref: 'Bucket' },
      DistributionId: { Ref: 'Dist' },
      ...props,
    },
  };
}

function distribution(config: Record<string, unknown>): CfnResource {
  return {
    Type: 'AWS::CloudFront::Distribution',
    Properties: { DistributionConfig: { Enabled: true, ...config } },
  };
}

async function start(resources: Record<string, CfnResource>) {
  const assets = {
    site: asset('site', {
      'index.html': '<!doctype html><title>Pulseboard</title>',
      'config.json': '{"stale":true}',
      'assets/app.js': 'export {};',
    }),
    config: asset('config', {
      'config.json': '{"apiUrl":"<<marker:0xbaba:0>>","note":"<<marker:0xbaba:1>>"}',
    }),
  };
  const invoker = new FakeInvoker({ Fn: () => ok({ from: 'api' }) });
  gateway = await startTestGateway(
    {
      Resources: {
        ...httpApiResources([{ key: 'GET /api/ping', fn: 'Fn' }]),
        Bucket: { Type: 'AWS::S3::Bucket' },
        ...resources,
      },
    },
    invoker,
    { assets },
  );
  return gateway;
}

describe('static dashboard site', () => {
  it('serves the default root object for /', async () => {
    // Prepare
    const { url } = await start({
      Deploy: deployment(),
      Dist: distribution({ DefaultRootObject: 'index.html' }),
    });

    // Act
    const res = await send(`${url}/`);

    // Assess
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html');
    expect(res.body).toContain('<title>Pulseboard</title>');
  });

  it('serves the later source’s file with its markers replaced by resolved local values', async () => {
    // Prepare
    const { url } = await start({ Deploy: deployment(), Dist: distribution({}) });

    // Act
    const res = await send(`${url}/config.json`);

    // Assess
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body)).toEqual({ apiUrl: TEST_ENDPOINTS.httpBase, note: 'say "hi"' });
  });

  it('keeps HTTP API routes ahead of the site', async () => {
    // Prepare
    const { url } = await start({ Deploy: deployment(), Dist: distribution({}) });

    // Act
    const res = await send(`${url}/api/ping`);

    // Assess
    expect(JSON.parse(res.body)).toEqual({ from: 'api' });
  });

  it('answers the distribution’s error page for an unknown path', async () => {
    // Prepare
    const { url } = await start({
      Deploy: deployment(),
      Dist: distribution({
        CustomErrorResponses: [{ ErrorCode: 404, ResponseCode: 200, ResponsePagePath: '/index.html' }],
      }),
    });

    // Act
    const res = await send(`${url}/dashboards/42`);

    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toContain('<title>Pulseboard</title>');
  });

  it('answers 404 for an unknown path when the distribution maps no errors', async () => {
    // Prepare
    const { url } = await start({ Deploy: deployment(), Dist: distribution({}) });

    // Act
    const res = await send(`${url}/missing.js`);

    // Assess
    expect(res.status).toBe(404);
  });

  it('serves files under the DestinationBucketKeyPrefix', async () => {
    // Prepare
    const { url } = await start({
      Deploy: deployment({ DestinationBucketKeyPrefix: 'app/' }),
      Dist: distribution({}),
    });

    // Act
    const [prefixed, bare] = await Promise.all([
      send(`${url}/app/assets/app.js`),
      send(`${url}/assets/app.js`),
    ]);

    // Assess
    expect(prefixed.status).toBe(200);
    expect(prefixed.headers['content-type']).toBe('text/javascript');
    expect(bare.status).toBe(404);
  });
});

describe('marker substitution', () => {
  it('JSON-escapes values like the BucketDeployment handler when asked', () => {
    // Act
    const escaped = substituteMarkers(Buffer.from('{"v":"<<m>>","w":"<<m>>"}'), { '<<m>>': 'a"b\\é' }, true);
    const raw = substituteMarkers(Buffer.from('x=<<m>>'), { '<<m>>': 'a"b' }, false);

    // Assess
    expect(escaped.toString()).toBe('{"v":"a\\"b\\\\\\u00e9","w":"a\\"b\\\\\\u00e9"}');
    expect(JSON.parse(escaped.toString()).v).toBe('a"b\\é');
    expect(raw.toString()).toBe('x=a"b');
  });
});
