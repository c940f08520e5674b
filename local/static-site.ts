/**
 * Serves the dashboard as the template deploys it: the files of every `Custom::CDKBucketDeployment`
 * (sources in order, later ones overwriting earlier ones, deploy-time markers substituted), with
 * the CloudFront distribution's DefaultRootObject, CustomErrorResponses and the security headers of
 * its default behavior's ResponseHeadersPolicy (so the dashboard runs under its real CSP locally).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, sep } from 'node:path';
import type { CfnResource, Resolver, StackAssembly } from './types';

/** One deployed object: its bytes and the markers of the source it came from. */
interface SiteObject {
  readonly data: Buffer;
  /** The source's raw SourceMarkers map (values are resolved when served). */
  readonly markers: Record<string, unknown>;
  readonly jsonEscape: boolean;
}

interface ErrorResponse {
  readonly errorCode: number;
  readonly responseCode: number | undefined;
  readonly responsePagePath: string | undefined;
}

/** The dashboard's files, ready to serve. */
export interface StaticSite {
  /** Object keys as deployed, e.g. `index.html`, `assets/app.js`. */
  readonly keys: readonly string[];
  /** Answers a GET or HEAD request (the gateway sends only those here). */
  handle(req: IncomingMessage, res: ServerResponse): void;
}

/** Options of {@link loadStaticSite}. */
export interface StaticSiteOptions {
  readonly assembly: StackAssembly;
  readonly resolver: Resolver;
  readonly log?: (message: string) => void;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.htm': 'text/html',
  '.css': 'text/css',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.json': 'application/json',
  '.map': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/vnd.microsoft.icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain',
  '.xml': 'application/xml',
  '.wasm': 'application/wasm',
};

/** The content type `aws s3 sync` would give a key (S3's default for unknown extensions). */
export function contentTypeOf(key: string): string {
  return CONTENT_TYPES[extname(key).toLowerCase()] ?? 'binary/octet-stream';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** `aws s3 sync --exclude/--include` patterns: `*` matches across '/', `?` one character. */
function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Replaces every marker token in the bytes, as the BucketDeployment handler does at deploy time. */
export function substituteMarkers(
  data: Buffer,
  markers: Record<string, string>,
  jsonEscape: boolean,
): Buffer {
  let out = data;
  for (const [token, rawValue] of Object.entries(markers)) {
    const needle = Buffer.from(token);
    if (out.indexOf(needle) < 0) continue;
    // jsonEscape mirrors Python's json.dumps(value)[1:-1] (ensure_ascii escapes non-ASCII).
    const value = jsonEscape
      ? JSON.stringify(rawValue)
          .slice(1, -1)
          .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
      : rawValue;
    const replacement = Buffer.from(value);
    const parts: Buffer[] = [];
    let from = 0;
    for (let at = out.indexOf(needle); at >= 0; at = out.indexOf(needle, from)) {
      parts.push(out.subarray(from, at), replacement);
      from = at + needle.length;
    }
    parts.push(out.subarray(from));
    out = Buffer.concat(parts);
  }
  return out;
}

/**
 * Reads every BucketDeployment's sources from the assembly once, in template order (sources in
 * their listed order), so a later source overwrites an earlier one as on S3.
 */
export function loadStaticSite({ assembly, resolver, log = console.error }: StaticSiteOptions): StaticSite {
  const live = Object.entries(assembly.template.Resources).filter(
    ([, res]) =>
      res.Condition === undefined || resolver.resolve({ 'Fn::If': [res.Condition, true, false] }) === true,
  );
  const objects = new Map<string, SiteObject>();
  const deployments = live.filter(([, res]) => res.Type === 'Custom::CDKBucketDeployment');
  for (const [logicalId, res] of deployments) {
    const p = res.Properties ?? {};
    const resolve = (name: string): unknown =>
      p[name] === undefined ? undefined : resolver.resolve(p[name]);
    const keys = resolve('SourceObjectKeys');
    const markerMaps = p.SourceMarkers;
    const markerConfigs = resolve('SourceMarkersConfig');
    const prefix = String(resolve('DestinationBucketKeyPrefix') ?? '').replace(/^\/+|\/+$/g, '');
    const excludes = asStrings(resolve('Exclude')).map(globToRegExp);
    const includes = asStrings(resolve('Include')).map(globToRegExp);
    if (!Array.isArray(keys)) continue;
    keys.forEach((key, i) => {
      const hash = String(key).replace(/\.zip$/, '');
      let dir: string;
      try {
        dir = assembly.assetDir(hash);
      } catch (err) {
        log(
          `Local site: ${logicalId} source ${key} skipped: ${err instanceof Error ? err.message : String(err)}`,
        );
        return;
      }
      if (!statSync(dir).isDirectory()) {
        log(`Local site: ${logicalId} source ${key} is a packaged file, not a directory; skipped`);
        return;
      }
      // Markers stay unresolved here: the resolver turns them into local values when a file is served.
      const markers = Array.isArray(markerMaps) && isRecord(markerMaps[i]) ? markerMaps[i] : {};
      const config = Array.isArray(markerConfigs) ? markerConfigs[i] : undefined;
      const jsonEscape = isRecord(config) && (config.jsonEscape === true || config.jsonEscape === 'true');
      for (const file of listFiles(dir)) {
        const relKey = relative(dir, file).split(sep).join('/');
        if (excludes.some((re) => re.test(relKey)) && !includes.some((re) => re.test(relKey))) continue;
        objects.set(prefix ? `${prefix}/${relKey}` : relKey, {
          data: readFileSync(file),
          markers,
          jsonEscape,
        });
      }
    });
  }

  const distribution = chooseDistribution(live, deployments, resolver);
  const config = isRecord(distribution?.DistributionConfig) ? distribution.DistributionConfig : {};
  const rootObject =
    config.DefaultRootObject === undefined ? 'index.html' : resolver.resolveString(config.DefaultRootObject);
  const customErrors =
    config.CustomErrorResponses === undefined ? [] : resolver.resolve(config.CustomErrorResponses);
  const errorResponses: ErrorResponse[] = Array.isArray(customErrors)
    ? customErrors.filter(isRecord).map((e) => ({
        errorCode: Number(e.ErrorCode),
        responseCode: e.ResponseCode === undefined ? undefined : Number(e.ResponseCode),
        responsePagePath: e.ResponsePagePath === undefined ? undefined : String(e.ResponsePagePath),
      }))
    : [];

  const body = (object: SiteObject): Buffer => {
    if (Object.keys(object.markers).length === 0) return object.data;
    const resolved = resolver.resolve(object.markers);
    const values = isRecord(resolved)
      ? Object.fromEntries(Object.entries(resolved).map(([k, v]) => [k, String(v)]))
      : {};
    // CDK gives each token inside a string its own marker (`wss://<<m1>>.execute-api.<<m2>>…`),
    // so AWS endpoint URLs only exist once the whole file is substituted: map them to local then.
    const substituted = substituteMarkers(object.data, values, object.jsonEscape).toString('utf8');
    return Buffer.from(resolver.resolveString(substituted));
  };

  const securityHeaders = responseHeaders(distribution, live, resolver);
  const send = (req: IncomingMessage, res: ServerResponse, status: number, key: string, data: Buffer) => {
    res.writeHead(status, {
      ...securityHeaders,
      'content-type': contentTypeOf(key),
      'content-length': String(data.length),
    });
    res.end(req.method === 'HEAD' ? undefined : data);
  };

  return {
    keys: [...objects.keys()],
    handle(req, res) {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      let key: string;
      try {
        key = decodeURIComponent(path).replace(/^\/+/, '');
      } catch {
        key = path.replace(/^\/+/, '');
      }
      if (key === '') key = rootObject;
      const object = objects.get(key);
      if (object) {
        send(req, res, 200, key, body(object));
        return;
      }
      // A missing object: S3 answers 404 (403 without s3:ListBucket); the distribution may map either.
      const mapped =
        errorResponses.find((e) => e.errorCode === 404) ?? errorResponses.find((e) => e.errorCode === 403);
      const pageKey = mapped?.responsePagePath?.replace(/^\/+/, '');
      const page = pageKey === undefined ? undefined : objects.get(pageKey);
      if (mapped && pageKey !== undefined && page) {
        send(req, res, mapped.responseCode ?? mapped.errorCode, pageKey, body(page));
        return;
      }
      const text = Buffer.from('Not Found');
      res.writeHead(404, { 'content-type': 'text/plain', 'content-length': String(text.length) });
      res.end(req.method === 'HEAD' ? undefined : text);
    },
  };
}

function asStrings(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

/** The distribution a deployment invalidates, else the template's only (or first) distribution. */
function chooseDistribution(
  live: [string, CfnResource][],
  deployments: [string, CfnResource][],
  resolver: Resolver,
): Record<string, unknown> | undefined {
  const distributions = live.filter(([, res]) => res.Type === 'AWS::CloudFront::Distribution');
  for (const [, dep] of deployments) {
    const raw = dep.Properties?.DistributionId;
    if (raw === undefined) continue;
    const id = resolver.resolve(raw);
    const found = distributions.find(([logicalId]) => resolver.resolve({ Ref: logicalId }) === id);
    if (found) return found[1].Properties;
  }
  return distributions[0]?.[1].Properties;
}

/**
 * The headers a `AWS::CloudFront::ResponseHeadersPolicy`'s SecurityHeadersConfig adds, for the
 * distribution's default behavior. AWS endpoint hosts in the CSP resolve to the local gateway, the
 * same origin as the site, so `'self'` already covers them.
 */
export function responseHeaders(
  distribution: Record<string, unknown> | undefined,
  live: readonly [string, CfnResource][],
  resolver: Resolver,
): Record<string, string> {
  const config = distribution?.DistributionConfig as Record<string, unknown> | undefined;
  const behavior = config?.DefaultCacheBehavior as Record<string, unknown> | undefined;
  const ref = behavior?.ResponseHeadersPolicyId as { Ref?: string } | undefined;
  const policy = live.find(
    ([id, res]) => id === ref?.Ref && res.Type === 'AWS::CloudFront::ResponseHeadersPolicy',
  )?.[1];
  const resolved = resolver.resolve(policy?.Properties?.ResponseHeadersPolicyConfig ?? {});
  const security =
    isRecord(resolved) && isRecord(resolved.SecurityHeadersConfig) ? resolved.SecurityHeadersConfig : {};
  const headers: Record<string, string> = {};
  const section = (name: string) =>
    isRecord(security[name]) ? (security[name] as Record<string, unknown>) : undefined;
  const csp = section('ContentSecurityPolicy');
  if (typeof csp?.ContentSecurityPolicy === 'string')
    headers['content-security-policy'] = csp.ContentSecurityPolicy;
  if (section('ContentTypeOptions')) headers['x-content-type-options'] = 'nosniff';
  const frame = section('FrameOptions');
  if (typeof frame?.FrameOption === 'string') headers['x-frame-options'] = frame.FrameOption;
  const referrer = section('ReferrerPolicy');
  if (typeof referrer?.ReferrerPolicy === 'string') headers['referrer-policy'] = referrer.ReferrerPolicy;
  const hsts = section('StrictTransportSecurity');
  if (hsts && hsts.AccessControlMaxAgeSec !== undefined) {
    // Browsers ignore HSTS over plain http, but the header is sent as CloudFront would.
    headers['strict-transport-security'] = [
      `max-age=${hsts.AccessControlMaxAgeSec}`,
      ...(hsts.IncludeSubdomains === true || hsts.IncludeSubdomains === 'true' ? ['includeSubDomains'] : []),
      ...(hsts.Preload === true || hsts.Preload === 'true' ? ['preload'] : []),
    ].join('; ');
  }
  return headers;
}
