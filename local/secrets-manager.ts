/**
 * A local Secrets Manager for the template's `AWS::SecretsManager::Secret`s, over the AWS JSON 1.1
 * protocol, so the unchanged @aws-sdk/client-secrets-manager works against it (through
 * `AWS_ENDPOINT_URL_SECRETS_MANAGER`). It runs in every mode, `--engines` (LocalStack) included,
 * since LocalStack's free tier has no Secrets Manager.
 *
 * Operations: `GetSecretValue` (by VersionId or VersionStage, default AWSCURRENT),
 * `PutSecretValue` (the new version takes AWSCURRENT and the old current one AWSPREVIOUS),
 * `DescribeSecret` and `ListSecretVersionIds`. Errors carry AWS's `__type`
 * (`ResourceNotFoundException`, `InvalidParameterException`, `InvalidRequestException`,
 * `ResourceExistsException`), so the SDK throws its own exception classes.
 *
 * A SecretId is the secret's ARN (what `Ref` and `Fn::GetAtt [.., Id]` of the secret resolve to),
 * that ARN without its 6-character suffix, or the secret's name.
 *
 * Values: `SecretString` as the template gives it, or `GenerateSecretString` (PasswordLength,
 * ExcludeCharacters, ExcludePunctuation, ExcludeNumbers, ExcludeUppercase, ExcludeLowercase,
 * IncludeSpace, RequireEachIncludedType, SecretStringTemplate + GenerateStringKey) generated
 * once. With a data directory every version is kept in `<dataDir>/secrets.json` (mode 0600) and
 * survives restarts; without one they live for the run.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { AwsJsonError, startAwsJsonServer } from './aws-json-server';
import type { CfnTemplate, Resolver } from './types';

/** Options of {@link startSecretsManager}. */
export interface StartSecretsManagerOptions {
  readonly template: CfnTemplate;
  /** Gives each secret its ARN (`Ref`), the same one functions see in their environment. */
  readonly resolver: Resolver;
  /** Keep the secrets in `<dataDir>/secrets.json` across restarts; in memory when unset. */
  readonly dataDir?: string;
  /** Default 127.0.0.1; the port is always a free one. */
  readonly host?: string;
  /** Clock of CreatedDate and LastChangedDate. Default: now. */
  readonly now?: () => Date;
  /** One-line messages. Default: console.warn. */
  readonly log?: (line: string) => void;
}

/** A running local Secrets Manager. */
export interface LocalSecretsManager {
  /** e.g. http://127.0.0.1:41234 */
  readonly endpoint: string;
  /** Where the secrets are kept, when they are persisted. */
  readonly file: string | undefined;
  stop(): Promise<void>;
}

/** `GenerateSecretString` of an `AWS::SecretsManager::Secret`. */
export interface GenerateSecretStringOptions {
  readonly PasswordLength?: number;
  readonly ExcludeCharacters?: string;
  readonly ExcludePunctuation?: boolean;
  readonly ExcludeNumbers?: boolean;
  readonly ExcludeUppercase?: boolean;
  readonly ExcludeLowercase?: boolean;
  readonly IncludeSpace?: boolean;
  readonly RequireEachIncludedType?: boolean;
  readonly SecretStringTemplate?: string;
  readonly GenerateStringKey?: string;
}

const LOWERCASE = 'abcdefghijklmnopqrstuvwxyz';
const UPPERCASE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const NUMBERS = '0123456789';
/** The punctuation Secrets Manager draws from. */
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/**
 * A random password as Secrets Manager's GetRandomPassword makes it (default 32 characters of
 * letters, numbers and punctuation, at least one of each included type), or, with
 * SecretStringTemplate and GenerateStringKey, that JSON object with the password at that key.
 * Throws on options Secrets Manager would refuse.
 */
export function generateSecretString(
  opts: GenerateSecretStringOptions = {},
  random: (max: number) => number = randomInt,
): string {
  const length = opts.PasswordLength ?? 32;
  if (!Number.isInteger(length) || length < 1 || length > 4096) {
    throw new Error(`PasswordLength must be an integer from 1 to 4096, got ${opts.PasswordLength}`);
  }
  const excluded = new Set(opts.ExcludeCharacters ?? '');
  const keep = (chars: string) => [...chars].filter((c) => !excluded.has(c)).join('');
  const types = [
    opts.ExcludeLowercase ? '' : keep(LOWERCASE),
    opts.ExcludeUppercase ? '' : keep(UPPERCASE),
    opts.ExcludeNumbers ? '' : keep(NUMBERS),
    opts.ExcludePunctuation ? '' : keep(PUNCTUATION),
  ].filter((chars) => chars !== '');
  const all = types.join('') + (opts.IncludeSpace && !excluded.has(' ') ? ' ' : '');
  if (all === '') throw new Error('GenerateSecretString excludes every character');
  const required = opts.RequireEachIncludedType === false ? [] : types;
  if (required.length > length) {
    throw new Error(
      `PasswordLength ${length} is too short to include each of the ${required.length} character types`,
    );
  }
  const pick = (chars: string) => chars[random(chars.length)] as string;
  const chars = [...required.map(pick), ...Array.from({ length: length - required.length }, () => pick(all))];
  for (let i = chars.length - 1; i > 0; i--) {
    const j = random(i + 1);
    [chars[i], chars[j]] = [chars[j] as string, chars[i] as string];
  }
  const password = chars.join('');

  if (opts.GenerateStringKey === undefined && opts.SecretStringTemplate === undefined) return password;
  if (opts.GenerateStringKey === undefined || opts.SecretStringTemplate === undefined) {
    throw new Error('SecretStringTemplate and GenerateStringKey must be given together');
  }
  let template: unknown;
  try {
    template = JSON.parse(opts.SecretStringTemplate);
  } catch {
    throw new Error('SecretStringTemplate is not valid JSON');
  }
  if (typeof template !== 'object' || template === null || Array.isArray(template)) {
    throw new Error('SecretStringTemplate must be a JSON object');
  }
  return JSON.stringify({ ...template, [opts.GenerateStringKey]: password });
}

// ─── State ────────────────────────────────────────────────────────────────────────────────────

interface SecretVersion {
  readonly versionId: string;
  readonly secretString?: string;
  /** base64 */
  readonly secretBinary?: string;
  /** Epoch ms. */
  readonly createdAt: number;
  stages: string[];
}

interface SecretState {
  readonly arn: string;
  readonly name: string;
  readonly description?: string;
  readonly kmsKeyId?: string;
  readonly tags: readonly { Key: string; Value: string }[];
  readonly createdAt: number;
  lastChangedAt: number;
  /** The template's SecretString the versions started from, to notice when the template changes it. */
  templateString?: string;
  versions: SecretVersion[];
}

/** What `<dataDir>/secrets.json` holds, by secret ARN. */
interface StoredSecrets {
  readonly secrets: Record<
    string,
    Pick<SecretState, 'createdAt' | 'lastChangedAt' | 'templateString' | 'versions'>
  >;
}

/** Unlabelled (deprecated) versions Secrets Manager keeps before dropping the oldest. */
const MAX_DEPRECATED_VERSIONS = 100;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The secret's name inside its ARN (`…:secret:<name>-AbCdEf`). */
function nameFromArn(arn: string): string {
  const afterSecret = arn.slice(arn.indexOf(':secret:') + ':secret:'.length);
  return afterSecret.replace(/-[A-Za-z0-9]{6}$/, '');
}

function readStore(file: string | undefined): StoredSecrets {
  if (!file || !existsSync(file)) return { secrets: {} };
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (isRecord(parsed) && isRecord(parsed.secrets)) return parsed as unknown as StoredSecrets;
  } catch (err) {
    throw new Error(`Cannot read the local secrets in ${file}: ${(err as Error).message}`, { cause: err });
  }
  throw new Error(`Cannot read the local secrets in ${file}: not a secrets file`);
}

/** The template's secrets, with their stored versions or new ones. */
function loadSecrets(opts: StartSecretsManagerOptions, stored: StoredSecrets, now: number): SecretState[] {
  const secrets: SecretState[] = [];
  for (const [logicalId, res] of Object.entries(opts.template.Resources)) {
    if (res.Type !== 'AWS::SecretsManager::Secret') continue;
    if (
      res.Condition !== undefined &&
      opts.resolver.resolve({ 'Fn::If': [res.Condition, true, false] }) !== true
    ) {
      continue;
    }
    const props = (opts.resolver.resolve(res.Properties ?? {}) ?? {}) as Record<string, unknown>;
    const arn = opts.resolver.resolveString({ Ref: logicalId });
    const templateString = typeof props.SecretString === 'string' ? props.SecretString : undefined;
    const initial = (): string => {
      if (templateString !== undefined) return templateString;
      const generate = isRecord(props.GenerateSecretString) ? props.GenerateSecretString : {};
      try {
        return generateSecretString(generate as GenerateSecretStringOptions);
      } catch (err) {
        throw new Error(`Secret ${logicalId}: ${(err as Error).message}`, { cause: err });
      }
    };
    const previous = stored.secrets[arn];
    const secret: SecretState = {
      arn,
      name: nameFromArn(arn),
      description: typeof props.Description === 'string' ? props.Description : undefined,
      kmsKeyId: typeof props.KmsKeyId === 'string' ? props.KmsKeyId : undefined,
      tags: Array.isArray(props.Tags)
        ? props.Tags.filter(isRecord).map((t) => ({ Key: String(t.Key), Value: String(t.Value) }))
        : [],
      createdAt: previous?.createdAt ?? now,
      lastChangedAt: previous?.lastChangedAt ?? now,
      templateString,
      versions: previous?.versions.map((v) => ({ ...v, stages: [...v.stages] })) ?? [],
    };
    if (secret.versions.length === 0) {
      secret.versions.push({ versionId: randomUUID(), secretString: initial(), createdAt: now, stages: [] });
      stage(secret, secret.versions[0] as SecretVersion, ['AWSCURRENT']);
    } else if (templateString !== undefined && previous?.templateString !== templateString) {
      // The template now gives another SecretString: CloudFormation would put it as a new version.
      const version: SecretVersion = {
        versionId: randomUUID(),
        secretString: templateString,
        createdAt: now,
        stages: [],
      };
      secret.versions.push(version);
      stage(secret, version, ['AWSCURRENT']);
      secret.lastChangedAt = now;
    }
    secrets.push(secret);
  }
  return secrets;
}

/**
 * Moves staging labels to a version: each label leaves the version that had it; when AWSCURRENT
 * moves, the version that had it becomes AWSPREVIOUS.
 */
function stage(secret: SecretState, target: SecretVersion, labels: readonly string[]): void {
  for (const label of labels) {
    const holder = secret.versions.find((v) => v !== target && v.stages.includes(label));
    if (holder) holder.stages = holder.stages.filter((s) => s !== label);
    if (!target.stages.includes(label)) target.stages.push(label);
    if (label === 'AWSCURRENT' && holder) {
      for (const v of secret.versions) v.stages = v.stages.filter((s) => s !== 'AWSPREVIOUS');
      holder.stages.push('AWSPREVIOUS');
    }
  }
  const deprecated = secret.versions.filter((v) => v.stages.length === 0);
  const drop = new Set(deprecated.slice(0, Math.max(0, deprecated.length - MAX_DEPRECATED_VERSIONS)));
  secret.versions = secret.versions.filter((v) => !drop.has(v));
}

// ─── Operations ───────────────────────────────────────────────────────────────────────────────

/** Starts the local Secrets Manager on a free loopback port. */
export async function startSecretsManager(opts: StartSecretsManagerOptions): Promise<LocalSecretsManager> {
  const now = opts.now ?? (() => new Date());
  const log = opts.log ?? ((line: string) => console.warn(line));
  const file = opts.dataDir ? path.join(opts.dataDir, 'secrets.json') : undefined;
  const secrets = loadSecrets(opts, readStore(file), now().getTime());

  const save = () => {
    if (!file) return;
    const stored: StoredSecrets = {
      secrets: Object.fromEntries(
        secrets.map((s) => [
          s.arn,
          {
            createdAt: s.createdAt,
            lastChangedAt: s.lastChangedAt,
            templateString: s.templateString,
            versions: s.versions,
          },
        ]),
      ),
    };
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  };
  save();

  const epochSeconds = (ms: number) => ms / 1000;

  const find = (secretId: unknown): SecretState => {
    if (typeof secretId !== 'string' || secretId === '') {
      throw new AwsJsonError('InvalidParameterException', 'You must provide a SecretId.');
    }
    const found = secrets.find(
      (s) =>
        s.arn === secretId ||
        s.name === secretId ||
        // A partial ARN: the full one without its random 6-character suffix.
        (secretId.startsWith('arn:') &&
          s.arn.length === secretId.length + 7 &&
          s.arn.startsWith(`${secretId}-`)),
    );
    if (!found)
      throw new AwsJsonError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return found;
  };

  const operations: Record<string, (input: Record<string, unknown>) => unknown> = {
    GetSecretValue(input) {
      const secret = find(input.SecretId);
      const { VersionId: versionId, VersionStage: versionStage } = input;
      let version: SecretVersion | undefined;
      if (versionId !== undefined) {
        version = secret.versions.find((v) => v.versionId === versionId);
        if (!version) {
          throw new AwsJsonError(
            'ResourceNotFoundException',
            `Secrets Manager can't find the specified secret value for VersionId: ${String(versionId)}`,
          );
        }
        if (versionStage !== undefined && !version.stages.includes(String(versionStage))) {
          throw new AwsJsonError(
            'InvalidRequestException',
            'You provided a VersionStage that is not associated to the provided VersionId.',
          );
        }
      } else {
        const label = versionStage === undefined ? 'AWSCURRENT' : String(versionStage);
        version = secret.versions.find((v) => v.stages.includes(label));
        if (!version) {
          throw new AwsJsonError(
            'ResourceNotFoundException',
            `Secrets Manager can't find the specified secret value for staging label: ${label}`,
          );
        }
      }
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.versionId,
        ...(version.secretString !== undefined ? { SecretString: version.secretString } : {}),
        ...(version.secretBinary !== undefined ? { SecretBinary: version.secretBinary } : {}),
        VersionStages: [...version.stages],
        CreatedDate: epochSeconds(version.createdAt),
      };
    },

    PutSecretValue(input) {
      const secret = find(input.SecretId);
      const { SecretString: secretString, SecretBinary: secretBinary } = input;
      if ((secretString === undefined) === (secretBinary === undefined)) {
        throw new AwsJsonError(
          'InvalidParameterException',
          'You must provide either SecretString or SecretBinary, but not both.',
        );
      }
      if (secretString !== undefined && typeof secretString !== 'string') {
        throw new AwsJsonError('InvalidParameterException', 'SecretString must be a string.');
      }
      if (secretBinary !== undefined && typeof secretBinary !== 'string') {
        throw new AwsJsonError('InvalidParameterException', 'SecretBinary must be base64-encoded.');
      }
      const labels = Array.isArray(input.VersionStages) ? input.VersionStages.map(String) : ['AWSCURRENT'];
      if (labels.length === 0 || labels.length > 20) {
        throw new AwsJsonError('InvalidParameterException', 'VersionStages must have 1 to 20 labels.');
      }
      const token = input.ClientRequestToken === undefined ? randomUUID() : String(input.ClientRequestToken);
      if (token.length < 32 || token.length > 64) {
        throw new AwsJsonError(
          'InvalidParameterException',
          'ClientRequestToken must be between 32 and 64 characters long.',
        );
      }
      const existing = secret.versions.find((v) => v.versionId === token);
      if (existing) {
        // A retried request is idempotent; the same token with another value is refused.
        if (existing.secretString !== secretString || existing.secretBinary !== secretBinary) {
          throw new AwsJsonError(
            'ResourceExistsException',
            `A version with VersionId ${token} already exists with different values.`,
          );
        }
        return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...existing.stages] };
      }
      const version: SecretVersion = {
        versionId: token,
        ...(secretString !== undefined ? { secretString: secretString as string } : {}),
        ...(secretBinary !== undefined ? { secretBinary: secretBinary as string } : {}),
        createdAt: now().getTime(),
        stages: [],
      };
      secret.versions.push(version);
      stage(secret, version, labels);
      secret.lastChangedAt = version.createdAt;
      save();
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.versionId,
        VersionStages: [...version.stages],
      };
    },

    DescribeSecret(input) {
      const secret = find(input.SecretId);
      return {
        ARN: secret.arn,
        Name: secret.name,
        ...(secret.description !== undefined ? { Description: secret.description } : {}),
        ...(secret.kmsKeyId !== undefined ? { KmsKeyId: secret.kmsKeyId } : {}),
        RotationEnabled: false,
        CreatedDate: epochSeconds(secret.createdAt),
        LastChangedDate: epochSeconds(secret.lastChangedAt),
        Tags: secret.tags,
        VersionIdsToStages: Object.fromEntries(
          secret.versions.filter((v) => v.stages.length > 0).map((v) => [v.versionId, [...v.stages]]),
        ),
      };
    },

    ListSecretVersionIds(input) {
      const secret = find(input.SecretId);
      const all = secret.versions.filter((v) => input.IncludeDeprecated === true || v.stages.length > 0);
      const max = input.MaxResults === undefined ? 100 : Number(input.MaxResults);
      if (!Number.isInteger(max) || max < 1 || max > 100) {
        throw new AwsJsonError('InvalidParameterException', 'MaxResults must be from 1 to 100.');
      }
      const start = input.NextToken === undefined ? 0 : Number(input.NextToken);
      if (!Number.isInteger(start) || start < 0 || start > all.length) {
        throw new AwsJsonError('InvalidNextTokenException', 'The NextToken value is not valid.');
      }
      const page = all.slice(start, start + max);
      return {
        ARN: secret.arn,
        Name: secret.name,
        Versions: page.map((v) => ({
          VersionId: v.versionId,
          VersionStages: [...v.stages],
          CreatedDate: epochSeconds(v.createdAt),
        })),
        ...(start + max < all.length ? { NextToken: String(start + max) } : {}),
      };
    },
  };

  const server = await startAwsJsonServer({
    targetPrefix: 'secretsmanager',
    serviceName: 'Secrets Manager',
    operations,
    // SecretString and SecretBinary are at most 64 KB; the rest of a request is small.
    maxRequestBytes: 1024 * 1024,
    messageKey: 'Message',
    internalErrorType: 'InternalServiceError',
    host: opts.host,
    log,
  });
  return {
    endpoint: server.endpoint,
    file,
    stop: () => server.close(),
  };
}
