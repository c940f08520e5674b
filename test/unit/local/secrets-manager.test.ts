import { mkdtemp, rm, stat } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { createResolver } from '../../../local/intrinsics';
import {
  generateSecretString,
  type LocalSecretsManager,
  startSecretsManager,
} from '../../../local/secrets-manager';
import type { CfnTemplate } from '../../../local/types';
import { TEST_ENDPOINTS } from './gateway-test-kit';

const template: CfnTemplate = {
  Resources: {
    SigningKey: {
      Type: 'AWS::SecretsManager::Secret',
      Properties: { GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true } },
    },
    DbCredentials: {
      Type: 'AWS::SecretsManager::Secret',
      Properties: {
        Name: 'pulseboard/db',
        Description: 'database login',
        GenerateSecretString: {
          SecretStringTemplate: '{"username":"admin"}',
          GenerateStringKey: 'password',
          PasswordLength: 20,
          ExcludeCharacters: '"@/\\',
        },
      },
    },
    Webhook: {
      Type: 'AWS::SecretsManager::Secret',
      Properties: { SecretString: 'https://hooks.example/abc' },
    },
    // A function that gets the secret the way CDK wires it.
    Fn: {
      Type: 'AWS::Lambda::Function',
      Properties: { Environment: { Variables: { SIGNING_KEY_ARN: { Ref: 'SigningKey' } } } },
    },
  },
};

// The same resolver the runtime hands the Lambda runtime (endpoints rewritten).
const resolver = createResolver({ template, stackName: 'TestStack', endpoints: TEST_ENDPOINTS });
const signingKeyArn = resolver.resolveString({ Ref: 'SigningKey' });

const started: LocalSecretsManager[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const sm of started.splice(0)) await sm.stop();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function start(opts: { dataDir?: string; template?: CfnTemplate } = {}) {
  const t = opts.template ?? template;
  const sm = await startSecretsManager({
    template: t,
    resolver: opts.template ? createResolver({ template: t, stackName: 'TestStack' }) : resolver,
    dataDir: opts.dataDir,
    log: () => {},
  });
  started.push(sm);
  const client = new SecretsManagerClient({
    endpoint: sm.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return { sm, client };
}

async function tempDir() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pulseboard-secrets-'));
  dirs.push(dir);
  return dir;
}

describe('local Secrets Manager: GetSecretValue', () => {
  it('serves a generated value for the ARN functions get from Ref, the same on every call', async () => {
    // Prepare
    const { client } = await start();
    const envArn = (
      resolver.resolve(template.Resources.Fn?.Properties?.Environment) as {
        Variables: { SIGNING_KEY_ARN: string };
      }
    ).Variables.SIGNING_KEY_ARN;

    // Act
    const first = await client.send(new GetSecretValueCommand({ SecretId: envArn }));
    const second = await client.send(
      new GetSecretValueCommand({ SecretId: envArn, VersionStage: 'AWSCURRENT' }),
    );

    // Assess
    expect(envArn).toMatch(
      /^arn:aws:secretsmanager:us-east-1:000000000000:secret:SigningKey-[A-Za-z0-9]{6}$/,
    );
    expect(first.ARN).toBe(envArn);
    expect(first.Name).toBe('SigningKey');
    expect(first.SecretString).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(first.VersionStages).toEqual(['AWSCURRENT']);
    expect(first.CreatedDate).toBeInstanceOf(Date);
    expect(second.SecretString).toBe(first.SecretString);
    expect(second.VersionId).toBe(first.VersionId);
  });

  it('finds a secret by its name, its partial ARN and Fn::GetAtt Id', async () => {
    // Prepare
    const { client } = await start();
    const arn = resolver.resolveString({ Ref: 'DbCredentials' });
    const ids = [
      'pulseboard/db',
      arn.slice(0, -7),
      resolver.resolveString({ 'Fn::GetAtt': ['DbCredentials', 'Id'] }),
    ];

    // Act
    const values = await Promise.all(
      ids.map((SecretId) => client.send(new GetSecretValueCommand({ SecretId }))),
    );

    // Assess
    expect(new Set(values.map((v) => v.ARN))).toEqual(new Set([arn]));
    const secret = JSON.parse(values[0]?.SecretString ?? '{}');
    expect(secret.username).toBe('admin');
    expect(secret.password).toMatch(/^[^"@/\\]{20}$/);
  });

  it('serves a SecretString exactly as the template gives it', async () => {
    // Prepare
    const { client } = await start();

    // Act
    const value = await client.send(
      new GetSecretValueCommand({ SecretId: resolver.resolveString({ Ref: 'Webhook' }) }),
    );

    // Assess
    expect(value.SecretString).toBe('https://hooks.example/abc');
  });

  it.each([
    ['an unknown secret', { SecretId: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:nope-AbCdEf' }],
    ['a stage no version has yet', { SecretId: signingKeyArn, VersionStage: 'AWSPREVIOUS' }],
    ['an unknown version id', { SecretId: signingKeyArn, VersionId: '00000000-0000-0000-0000-000000000000' }],
  ])('throws the SDK’s ResourceNotFoundException for %s', async (_label, input) => {
    // Prepare
    const { client } = await start();

    // Act
    const attempt = client.send(new GetSecretValueCommand(input));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(attempt).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
  });
});

describe('local Secrets Manager: versions', () => {
  it('moves AWSCURRENT to a put value and AWSPREVIOUS to the value it replaced', async () => {
    // Prepare
    const { client } = await start();
    const original = await client.send(new GetSecretValueCommand({ SecretId: signingKeyArn }));

    // Act
    const put = await client.send(
      new PutSecretValueCommand({ SecretId: signingKeyArn, SecretString: 'rotated-1' }),
    );
    const current = await client.send(new GetSecretValueCommand({ SecretId: signingKeyArn }));
    const previous = await client.send(
      new GetSecretValueCommand({ SecretId: signingKeyArn, VersionStage: 'AWSPREVIOUS' }),
    );

    // Assess
    expect(put.VersionStages).toEqual(['AWSCURRENT']);
    expect(current).toMatchObject({ SecretString: 'rotated-1', VersionId: put.VersionId });
    expect(previous).toMatchObject({
      SecretString: original.SecretString,
      VersionId: original.VersionId,
      VersionStages: ['AWSPREVIOUS'],
    });
  });

  it('keeps only the last two values labelled after a second rotation', async () => {
    // Prepare
    const { client } = await start();
    const original = await client.send(new GetSecretValueCommand({ SecretId: signingKeyArn }));
    const first = await client.send(
      new PutSecretValueCommand({ SecretId: signingKeyArn, SecretString: 'one' }),
    );

    // Act
    const second = await client.send(
      new PutSecretValueCommand({ SecretId: signingKeyArn, SecretString: 'two' }),
    );
    const described = await client.send(new DescribeSecretCommand({ SecretId: signingKeyArn }));
    const listed = await client.send(new ListSecretVersionIdsCommand({ SecretId: signingKeyArn }));
    const all = await client.send(
      new ListSecretVersionIdsCommand({ SecretId: signingKeyArn, IncludeDeprecated: true }),
    );
    const byId = await client.send(
      new GetSecretValueCommand({ SecretId: signingKeyArn, VersionId: original.VersionId }),
    );

    // Assess
    expect(described).toMatchObject({ ARN: signingKeyArn, Name: 'SigningKey', RotationEnabled: false });
    expect(described.VersionIdsToStages).toEqual({
      [first.VersionId as string]: ['AWSPREVIOUS'],
      [second.VersionId as string]: ['AWSCURRENT'],
    });
    expect(listed.Versions?.map((v) => v.VersionId).sort()).toEqual(
      [first.VersionId, second.VersionId].sort(),
    );
    expect(all.Versions).toHaveLength(3);
    expect(byId).toMatchObject({ SecretString: original.SecretString, VersionStages: [] });
  });

  it('treats a retried put with the same ClientRequestToken as one version', async () => {
    // Prepare
    const { client } = await start();
    const token = 'a'.repeat(32);
    const put = (SecretString: string) =>
      client.send(
        new PutSecretValueCommand({ SecretId: signingKeyArn, SecretString, ClientRequestToken: token }),
      );

    // Act
    const first = await put('same');
    const retried = await put('same');
    const conflicting = put('different');

    // Assess
    expect(retried.VersionId).toBe(first.VersionId);
    await expect(conflicting).rejects.toBeInstanceOf(ResourceExistsException);
  });

  it('refuses a put with neither SecretString nor SecretBinary', async () => {
    // Prepare
    const { client } = await start();

    // Act
    const attempt = client.send(new PutSecretValueCommand({ SecretId: signingKeyArn }));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InvalidParameterException);
  });
});

describe('local Secrets Manager: persistence', () => {
  it('generates once into <dataDir>/secrets.json and serves the same values after a restart', async () => {
    // Prepare
    const dataDir = await tempDir();
    const before = await start({ dataDir });
    const generated = await before.client.send(new GetSecretValueCommand({ SecretId: signingKeyArn }));
    await before.client.send(
      new PutSecretValueCommand({ SecretId: 'pulseboard/db', SecretString: '{"u":"x"}' }),
    );
    await before.sm.stop();
    started.splice(started.indexOf(before.sm), 1);

    // Act
    const after = await start({ dataDir });
    const again = await after.client.send(new GetSecretValueCommand({ SecretId: signingKeyArn }));
    const db = await after.client.send(new GetSecretValueCommand({ SecretId: 'pulseboard/db' }));

    // Assess
    expect(after.sm.file).toBe(path.join(dataDir, 'secrets.json'));
    expect((await stat(path.join(dataDir, 'secrets.json'))).mode & 0o777).toBe(0o600);
    expect(again.SecretString).toBe(generated.SecretString);
    expect(again.VersionId).toBe(generated.VersionId);
    expect(db.SecretString).toBe('{"u":"x"}');
  });

  it('generates new values on each run without a data directory', async () => {
    // Prepare
    const first = await start();
    const second = await start();

    // Act
    const a = await first.client.send(new GetSecretValueCommand({ SecretId: signingKeyArn }));
    const b = await second.client.send(new GetSecretValueCommand({ SecretId: signingKeyArn }));

    // Assess
    expect(first.sm.file).toBeUndefined();
    expect(a.SecretString).not.toBe(b.SecretString);
  });

  it('makes a changed template SecretString the current value and keeps the old one as previous', async () => {
    // Prepare
    const dataDir = await tempDir();
    const withValue = (SecretString: string): CfnTemplate => ({
      Resources: { Hook: { Type: 'AWS::SecretsManager::Secret', Properties: { SecretString } } },
    });
    const before = await start({ dataDir, template: withValue('old') });
    await before.sm.stop();
    started.splice(started.indexOf(before.sm), 1);

    // Act
    const after = await start({ dataDir, template: withValue('new') });
    const current = await after.client.send(new GetSecretValueCommand({ SecretId: 'Hook' }));
    const previous = await after.client.send(
      new GetSecretValueCommand({ SecretId: 'Hook', VersionStage: 'AWSPREVIOUS' }),
    );

    // Assess
    expect([current.SecretString, previous.SecretString]).toEqual(['new', 'old']);
  });
});

describe('generateSecretString', () => {
  it('defaults to 32 characters with at least one of each character type', () => {
    for (let i = 0; i < 50; i++) {
      const password = generateSecretString();
      expect(password).toHaveLength(32);
      expect(password).toMatch(/[a-z]/);
      expect(password).toMatch(/[A-Z]/);
      expect(password).toMatch(/[0-9]/);
      expect(password).toMatch(/[^A-Za-z0-9]/);
      expect(password).not.toContain(' ');
    }
  });

  it('includes each required type even in the shortest password that can hold them', () => {
    for (let i = 0; i < 200; i++) {
      const password = generateSecretString({ PasswordLength: 4 });
      expect(password).toMatch(/^(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9])(?=.*[^A-Za-z0-9]).{4}$/);
    }
  });

  it('honours the exclusion options and IncludeSpace', () => {
    expect(
      generateSecretString({ PasswordLength: 200, ExcludeNumbers: true, ExcludePunctuation: true }),
    ).toMatch(/^[A-Za-z]{200}$/);
    expect(
      generateSecretString({ PasswordLength: 200, ExcludeUppercase: true, ExcludeLowercase: true }),
    ).toMatch(/^[^A-Za-z]{200}$/);
    expect(generateSecretString({ PasswordLength: 200, ExcludeCharacters: 'abcdefABCDEF012345' })).toMatch(
      /^[^a-fA-F0-5]{200}$/,
    );
    const withSpace = generateSecretString({
      PasswordLength: 3,
      IncludeSpace: true,
      ExcludeLowercase: true,
      ExcludeUppercase: true,
      ExcludeNumbers: true,
      ExcludePunctuation: true,
      RequireEachIncludedType: false,
    });
    expect(withSpace).toBe('   ');
  });

  it('puts the password into SecretStringTemplate at GenerateStringKey', () => {
    const value = JSON.parse(
      generateSecretString({
        SecretStringTemplate: '{"user":"a"}',
        GenerateStringKey: 'pw',
        PasswordLength: 10,
      }),
    );
    expect(value.user).toBe('a');
    expect(value.pw).toHaveLength(10);
  });

  it('refuses options Secrets Manager would refuse', () => {
    expect(() => generateSecretString({ PasswordLength: 3 })).toThrow(/too short/);
    expect(() => generateSecretString({ PasswordLength: 0 })).toThrow(/PasswordLength/);
    expect(() =>
      generateSecretString({
        ExcludeLowercase: true,
        ExcludeUppercase: true,
        ExcludeNumbers: true,
        ExcludePunctuation: true,
      }),
    ).toThrow(/every character/);
    expect(() => generateSecretString({ GenerateStringKey: 'pw' })).toThrow(/together/);
    expect(() => generateSecretString({ SecretStringTemplate: '[1]', GenerateStringKey: 'pw' })).toThrow(
      /JSON object/,
    );
  });
});
