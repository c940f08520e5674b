/**
 * CloudFormation intrinsic functions evaluated against local physical values.
 *
 * Every resource gets a deterministic local identity (names, ARNs, URLs) derived from its
 * logical id and properties, so handlers see the same shapes they would see in AWS.
 */
import { createHash } from 'node:crypto';
import type { CfnResource, CfnTemplate, LocalEndpoints, Resolver } from './types';

export interface ResolverOptions {
  template: CfnTemplate;
  stackName: string;
  /** Default 'us-east-1'. */
  region?: string;
  /** Default '000000000000'. */
  accountId?: string;
  /**
   * When given, AWS endpoint URLs produced for this template's APIs / CloudFront distributions are
   * rewritten to these local URLs.
   */
  endpoints?: LocalEndpoints;
  /** Per logical id, e.g. SQS queue URLs known only after the engine created them. Wins over everything. */
  overrides?: Record<string, { ref?: string; attrs?: Record<string, string> }>;
}

/** Marker for AWS::NoValue: removes the enclosing key or array element. */
const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

/** Deterministic local API id: 10 lowercase [a-z0-9] chars derived from the logical id. */
export function localApiId(logicalId: string): string {
  return createHash('sha256').update(logicalId).digest('hex').slice(0, 10);
}

/** Deterministic local CloudFront distribution id (E + 13 uppercase chars), like AWS's. */
function localDistributionId(logicalId: string): string {
  return `E${createHash('sha256').update(`cloudfront:${logicalId}`).digest('hex').slice(0, 13).toUpperCase()}`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Builds a resolver of CloudFormation values for one template. */
export function createResolver(opts: ResolverOptions): Resolver {
  const { template, stackName } = opts;
  const region = opts.region ?? 'us-east-1';
  const account = opts.accountId ?? '000000000000';
  const overrides = opts.overrides ?? {};
  const resources = template.Resources ?? {};
  const conditionCache = new Map<string, boolean>();
  const conditionsInProgress = new Set<string>();

  const pseudo: Record<string, string> = {
    'AWS::Region': region,
    'AWS::AccountId': account,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': stackName,
    'AWS::StackId': `arn:aws:cloudformation:${region}:${account}:stack/${stackName}/00000000-0000-0000-0000-000000000000`,
  };

  function resource(logicalId: string, context: string): CfnResource {
    const res = resources[logicalId];
    if (!res) throw new Error(`${context}: unknown resource or parameter '${logicalId}'`);
    return res;
  }

  /** A string property of a resource (resolved), or the fallback when unset. */
  function propString(res: CfnResource, prop: string, fallback: string): string {
    const raw = res.Properties?.[prop];
    if (raw === undefined) return fallback;
    const v = resolveValue(raw);
    return v === NO_VALUE || v === undefined ? fallback : String(v);
  }

  function nameOf(logicalId: string): string {
    const res = resource(logicalId, 'name');
    const p = res.Properties ?? {};
    switch (res.Type) {
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable':
        return propString(res, 'TableName', logicalId);
      case 'AWS::Lambda::Function':
        return propString(res, 'FunctionName', logicalId);
      case 'AWS::Events::EventBus':
      case 'AWS::Events::Rule':
        return propString(res, 'Name', logicalId);
      case 'AWS::SNS::Topic':
        return propString(res, 'TopicName', p.FifoTopic === true ? `${logicalId}.fifo` : logicalId);
      case 'AWS::SQS::Queue':
        return propString(res, 'QueueName', p.FifoQueue === true ? `${logicalId}.fifo` : logicalId);
      case 'AWS::S3::Bucket':
        return propString(res, 'BucketName', logicalId.toLowerCase());
      case 'AWS::IAM::Role':
        return propString(res, 'RoleName', logicalId);
      case 'AWS::Logs::LogGroup':
        return propString(res, 'LogGroupName', logicalId);
      case 'AWS::SecretsManager::Secret':
        return propString(res, 'Name', logicalId);
      default:
        return logicalId;
    }
  }

  function arnOf(logicalId: string): string | undefined {
    const res = resource(logicalId, 'Arn');
    const name = () => nameOf(logicalId);
    switch (res.Type) {
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable':
        return `arn:aws:dynamodb:${region}:${account}:table/${name()}`;
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${region}:${account}:function:${name()}`;
      case 'AWS::Events::EventBus':
        return `arn:aws:events:${region}:${account}:event-bus/${name()}`;
      case 'AWS::Events::Rule': {
        const bus = propString(res, 'EventBusName', 'default');
        // A bus may be given by ARN; the rule ARN uses the bus name.
        const busName = bus.startsWith('arn:') ? bus.slice(bus.lastIndexOf('/') + 1) : bus;
        const path = busName === 'default' ? name() : `${busName}/${name()}`;
        return `arn:aws:events:${region}:${account}:rule/${path}`;
      }
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${region}:${account}:${name()}`;
      case 'AWS::SQS::Queue':
        return `arn:aws:sqs:${region}:${account}:${name()}`;
      case 'AWS::S3::Bucket':
        return `arn:aws:s3:::${name()}`;
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${account}:role/${name()}`;
      case 'AWS::Logs::LogGroup':
        return `arn:aws:logs:${region}:${account}:log-group:${name()}:*`;
      case 'AWS::SecretsManager::Secret':
        return `arn:aws:secretsmanager:${region}:${account}:secret:${name()}-AbCdEf`;
      case 'AWS::KMS::Key':
        return `arn:aws:kms:${region}:${account}:key/${kmsKeyId(logicalId)}`;
      default:
        return undefined;
    }
  }

  function kmsKeyId(logicalId: string): string {
    const h = createHash('sha256').update(`kms:${logicalId}`).digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  }

  function apiEndpoint(logicalId: string): string {
    const res = resource(logicalId, 'ApiEndpoint');
    const scheme = propString(res, 'ProtocolType', 'HTTP') === 'WEBSOCKET' ? 'wss' : 'https';
    return `${scheme}://${localApiId(logicalId)}.execute-api.${region}.amazonaws.com`;
  }

  function refOf(logicalId: string): unknown {
    const override = overrides[logicalId]?.ref;
    if (override !== undefined) return override;
    if (logicalId in pseudo) return pseudo[logicalId];
    if (logicalId === 'AWS::NoValue') return NO_VALUE;
    if (logicalId === 'AWS::NotificationARNs') return [];
    const param = template.Parameters?.[logicalId];
    if (param && !resources[logicalId]) {
      if (param.Default === undefined) throw new Error(`Ref: parameter '${logicalId}' has no Default`);
      const t = param.Type;
      if ((t.startsWith('List<') || t === 'CommaDelimitedList') && typeof param.Default === 'string') {
        return param.Default.split(',');
      }
      return param.Default;
    }
    const res = resource(logicalId, 'Ref');
    switch (res.Type) {
      case 'AWS::SNS::Topic':
      case 'AWS::SecretsManager::Secret':
        return arnOf(logicalId);
      case 'AWS::SQS::Queue':
        return getAtt(logicalId, 'QueueUrl');
      case 'AWS::ApiGatewayV2::Api':
        return localApiId(logicalId);
      case 'AWS::ApiGatewayV2::Stage':
        return propString(res, 'StageName', logicalId);
      case 'AWS::CloudFront::Distribution':
        return localDistributionId(logicalId);
      case 'AWS::KMS::Key':
        return kmsKeyId(logicalId);
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable':
      case 'AWS::Lambda::Function':
      case 'AWS::Events::EventBus':
      case 'AWS::Events::Rule':
      case 'AWS::S3::Bucket':
      case 'AWS::IAM::Role':
      case 'AWS::Logs::LogGroup':
        return nameOf(logicalId);
      default:
        return logicalId;
    }
  }

  function getAtt(logicalId: string, attr: string): string {
    const override = overrides[logicalId]?.attrs?.[attr];
    if (override !== undefined) return override;
    const res = resource(logicalId, 'Fn::GetAtt');
    const known = ((): string | undefined => {
      if (attr === 'Arn') return arnOf(logicalId);
      switch (res.Type) {
        case 'AWS::DynamoDB::Table':
        case 'AWS::DynamoDB::GlobalTable':
          return attr === 'StreamArn' ? `${arnOf(logicalId)}/stream/1970-01-01T00:00:00.000` : undefined;
        case 'AWS::Events::EventBus':
          return attr === 'Name' ? nameOf(logicalId) : undefined;
        case 'AWS::SNS::Topic':
          if (attr === 'TopicArn') return arnOf(logicalId);
          return attr === 'TopicName' ? nameOf(logicalId) : undefined;
        case 'AWS::SQS::Queue':
          if (attr === 'QueueUrl') {
            const ref = overrides[logicalId]?.ref;
            return ref ?? `http://sqs.${region}.localhost/${account}/${nameOf(logicalId)}`;
          }
          return attr === 'QueueName' ? nameOf(logicalId) : undefined;
        case 'AWS::ApiGatewayV2::Api':
          if (attr === 'ApiId') return localApiId(logicalId);
          return attr === 'ApiEndpoint' ? apiEndpoint(logicalId) : undefined;
        case 'AWS::S3::Bucket':
          if (attr === 'DomainName') return `${nameOf(logicalId)}.s3.amazonaws.com`;
          if (attr === 'RegionalDomainName') return `${nameOf(logicalId)}.s3.${region}.amazonaws.com`;
          if (attr === 'WebsiteURL') return `http://${nameOf(logicalId)}.s3-website-${region}.amazonaws.com`;
          return undefined;
        case 'AWS::CloudFront::Distribution':
          if (attr === 'Id') return localDistributionId(logicalId);
          return attr === 'DomainName'
            ? `${localDistributionId(logicalId).toLowerCase()}.cloudfront.net`
            : undefined;
        case 'AWS::KMS::Key':
          return attr === 'KeyId' ? kmsKeyId(logicalId) : undefined;
        case 'AWS::SecretsManager::Secret':
          // Like Ref, the Id attribute is the secret's ARN; the local Secrets Manager serves that ARN.
          return attr === 'Id' ? arnOf(logicalId) : undefined;
        default:
          return undefined;
      }
    })();
    return known ?? `${logicalId}.${attr}`;
  }

  function evalCondition(name: string): boolean {
    const cached = conditionCache.get(name);
    if (cached !== undefined) return cached;
    const def = template.Conditions?.[name];
    if (def === undefined) throw new Error(`Condition '${name}' is not defined in Conditions`);
    if (conditionsInProgress.has(name)) throw new Error(`Condition '${name}' refers to itself`);
    conditionsInProgress.add(name);
    try {
      const value = evalConditionExpr(def);
      conditionCache.set(name, value);
      return value;
    } finally {
      conditionsInProgress.delete(name);
    }
  }

  function evalConditionExpr(expr: unknown): boolean {
    if (isPlainObject(expr)) {
      const keys = Object.keys(expr);
      if (keys.length === 1 && keys[0] === 'Condition') return evalCondition(String(expr.Condition));
    }
    const v = resolveValue(expr);
    if (typeof v === 'boolean') return v;
    if (v === 'true') return true;
    if (v === 'false') return false;
    throw new Error(`Condition expression did not evaluate to a boolean: ${JSON.stringify(expr)}`);
  }

  function args(fn: string, v: unknown, count?: number): unknown[] {
    if (!Array.isArray(v) || (count !== undefined && v.length !== count)) {
      throw new Error(
        `${fn} expects an array${count !== undefined ? ` of ${count}` : ''}: ${JSON.stringify(v)}`,
      );
    }
    return v;
  }

  function sub(template: string, vars: Record<string, unknown>): string {
    return template.replace(/\$\{([^}]*)\}/g, (_m, expr: string) => {
      if (expr.startsWith('!')) return `\${${expr.slice(1)}}`;
      const name = expr.trim();
      if (Object.hasOwn(vars, name)) return stringify('Fn::Sub', vars[name]);
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::')) return getAtt(name.slice(0, dot), name.slice(dot + 1));
      return stringify('Fn::Sub', refOf(name));
    });
  }

  function stringify(fn: string, v: unknown): string {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw new Error(`${fn}: expected a string value, got ${JSON.stringify(v)}`);
  }

  function intrinsic(fn: string, arg: unknown): unknown {
    switch (fn) {
      case 'Ref':
        return refOf(stringify('Ref', resolveValue(arg)));
      case 'Fn::GetAtt': {
        const a = typeof arg === 'string' ? splitOnce(arg) : args(fn, resolveValue(arg), 2);
        return getAtt(stringify(fn, a[0]), stringify(fn, a[1]));
      }
      case 'Fn::Join': {
        const [sep, list] = args(fn, arg, 2);
        const items = resolveValue(list);
        return args(fn, items)
          .filter((i) => i !== NO_VALUE)
          .map((i) => stringify(fn, i))
          .join(stringify(fn, resolveValue(sep)));
      }
      case 'Fn::Sub': {
        if (typeof arg === 'string') return sub(arg, {});
        const [tpl, rawVars] = args(fn, arg, 2);
        const vars = resolveValue(rawVars);
        if (!isPlainObject(vars)) throw new Error(`Fn::Sub variables must be an object`);
        return sub(stringify(fn, tpl), vars);
      }
      case 'Fn::Select': {
        const [index, list] = args(fn, arg, 2);
        const i = Number(resolveValue(index));
        const items = args(fn, resolveValue(list));
        if (!Number.isInteger(i) || i < 0 || i >= items.length) {
          throw new Error(`Fn::Select index ${i} out of range (${items.length} items)`);
        }
        return items[i];
      }
      case 'Fn::Split': {
        const [sep, s] = args(fn, arg, 2);
        return stringify(fn, resolveValue(s)).split(stringify(fn, resolveValue(sep)));
      }
      case 'Fn::If': {
        const [cond, whenTrue, whenFalse] = args(fn, arg, 3);
        return resolveValue(evalCondition(stringify(fn, cond)) ? whenTrue : whenFalse);
      }
      case 'Fn::Equals': {
        const [a, b] = args(fn, arg, 2).map((x) => resolveValue(x));
        return JSON.stringify(a) === JSON.stringify(b) || String(a) === String(b);
      }
      case 'Fn::Not':
        return !evalConditionExpr(args(fn, arg, 1)[0]);
      case 'Fn::And':
        return args(fn, arg).every((c) => evalConditionExpr(c));
      case 'Fn::Or':
        return args(fn, arg).some((c) => evalConditionExpr(c));
      case 'Condition':
        return evalCondition(stringify(fn, arg));
      case 'Fn::FindInMap': {
        const [map, top, second] = args(fn, arg, 3).map((x) => stringify(fn, resolveValue(x)));
        const value = template.Mappings?.[map as string]?.[top as string]?.[second as string];
        if (value === undefined) throw new Error(`Fn::FindInMap: no value at ${map}.${top}.${second}`);
        return resolveValue(value);
      }
      case 'Fn::Base64':
        return Buffer.from(stringify(fn, resolveValue(arg)), 'utf8').toString('base64');
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((z) => `${region}${z}`);
      case 'Fn::ToJsonString':
        return JSON.stringify(resolveValue(arg));
      case 'Fn::Length':
        return args(fn, resolveValue(arg)).length;
      default:
        throw new Error(`Unsupported intrinsic function '${fn}' in the local runtime`);
    }
  }

  function splitOnce(s: string): [string, string] {
    const dot = s.indexOf('.');
    if (dot <= 0) throw new Error(`Fn::GetAtt: expected 'LogicalId.Attribute', got '${s}'`);
    return [s.slice(0, dot), s.slice(dot + 1)];
  }

  function resolveValue(value: unknown): unknown {
    if (Array.isArray(value)) {
      return value.map((v) => resolveValue(v)).filter((v) => v !== NO_VALUE);
    }
    if (!isPlainObject(value)) return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const key = keys[0] as string;
      if (key === 'Ref' || key.startsWith('Fn::')) return intrinsic(key, value[key]);
    }
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const v = resolveValue(value[key]);
      if (v !== NO_VALUE) out[key] = v;
    }
    return out;
  }

  const rewrite = opts.endpoints
    ? endpointRewriter(template, opts.endpoints, localDistributionId, resolveValue)
    : undefined;

  function finish(v: unknown): unknown {
    if (v === NO_VALUE) return undefined;
    if (!rewrite) return v;
    if (typeof v === 'string') return rewrite(v);
    if (Array.isArray(v)) return v.map(finish);
    if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, finish(x)]));
    return v;
  }

  return {
    resolve: (value) => finish(resolveValue(value)),
    resolveString(value) {
      const v = finish(resolveValue(value));
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'boolean') return String(v);
      throw new Error(`Expected a string after resolving ${JSON.stringify(value)}, got ${JSON.stringify(v)}`);
    },
  };
}

/**
 * Returns a function that maps AWS endpoint URLs of this template's APIs and distributions to
 * the local endpoints. Region is matched loosely so a hard-coded region in an output still maps.
 */
function endpointRewriter(
  template: CfnTemplate,
  endpoints: LocalEndpoints,
  distributionId: (logicalId: string) => string,
  resolveValue: (v: unknown) => unknown,
): (s: string) => string {
  const httpIds: string[] = [];
  const wsIds: string[] = [];
  const distIds: string[] = [];
  const stagesByApi = new Map<string, Set<string>>();
  for (const [id, res] of Object.entries(template.Resources ?? {})) {
    if (res.Type === 'AWS::ApiGatewayV2::Api') {
      (res.Properties?.ProtocolType === 'WEBSOCKET' ? wsIds : httpIds).push(localApiId(id));
    } else if (res.Type === 'AWS::CloudFront::Distribution') {
      distIds.push(distributionId(id).toLowerCase());
    } else if (res.Type === 'AWS::ApiGatewayV2::Stage') {
      try {
        const apiId = String(resolveValue(res.Properties?.ApiId));
        const stage = String(resolveValue(res.Properties?.StageName));
        const set = stagesByApi.get(apiId) ?? new Set<string>();
        set.add(stage);
        stagesByApi.set(apiId, set);
      } catch {
        // A stage we cannot resolve just means its path prefix is not stripped.
      }
    }
  }
  // The matched prefix is replaced and any trailing path kept, so bases must not end with '/'.
  const trim = (u: string) => u.replace(/\/+$/, '');
  const host = (id: string) => `${escapeRegExp(id)}\\.execute-api\\.[a-z0-9-]+\\.amazonaws\\.com`;
  const rules: Array<{ re: RegExp; to: string }> = [];
  for (const id of httpIds) {
    const stages = ['$default', ...(stagesByApi.get(id) ?? [])].map(escapeRegExp).join('|');
    rules.push({
      re: new RegExp(`https://${host(id)}(?:/(?:${stages})(?=/|$|[?#"'\\s]))?`, 'gi'),
      to: trim(endpoints.httpBase),
    });
  }
  for (const id of wsIds) {
    rules.push({ re: new RegExp(`wss://${host(id)}/[^/?#"'\\s]+`, 'gi'), to: trim(endpoints.webSocketUrl) });
    rules.push({
      re: new RegExp(`https://${host(id)}/[^/?#"'\\s]+`, 'gi'),
      to: trim(endpoints.connectionsBase),
    });
  }
  const localHost = new URL(endpoints.httpBase).host;
  for (const id of distIds) {
    rules.push({
      re: new RegExp(`https://${escapeRegExp(id)}\\.cloudfront\\.net`, 'gi'),
      to: trim(endpoints.httpBase),
    });
    rules.push({ re: new RegExp(`${escapeRegExp(id)}\\.cloudfront\\.net`, 'gi'), to: localHost });
  }
  return (s) => {
    let out = s;
    for (const { re, to } of rules) out = out.replace(re, () => to);
    return out;
  };
}
