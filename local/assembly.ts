/**
 * Reads one stack of a synthesized cloud assembly (cdk.out): its template and its file assets.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { CfnTemplate, StackAssembly } from './types';

interface ManifestArtifact {
  type?: string;
  displayName?: string;
  properties?: { templateFile?: string; stackName?: string };
}

function readJson(path: string, what: string): unknown {
  if (!existsSync(path)) throw new Error(`${what} not found: ${path} (run \`npx cdk synth\` first)`);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${what} is not valid JSON: ${path}`, { cause: err });
  }
}

/**
 * Loads a stack from a cloud assembly directory.
 * @param stackName the artifact id or CloudFormation stack name; optional when the assembly has one stack.
 */
export function loadStackAssembly(assemblyDir: string, stackName?: string): StackAssembly {
  const dir = resolve(assemblyDir);
  const manifest = readJson(join(dir, 'manifest.json'), 'Cloud assembly manifest') as {
    artifacts?: Record<string, ManifestArtifact>;
  };
  const stacks = Object.entries(manifest.artifacts ?? {}).filter(
    ([, a]) => a.type === 'aws:cloudformation:stack',
  );
  if (stacks.length === 0) throw new Error(`No CloudFormation stack in ${join(dir, 'manifest.json')}`);
  const names = stacks.map(([id, a]) => a.properties?.stackName ?? id);
  let chosen: [string, ManifestArtifact] | undefined;
  if (stackName === undefined) {
    if (stacks.length > 1) {
      throw new Error(`The assembly in ${dir} has ${stacks.length} stacks (${names.join(', ')}); name one`);
    }
    chosen = stacks[0];
  } else {
    chosen = stacks.find(([id, a]) => id === stackName || a.properties?.stackName === stackName);
    if (!chosen) throw new Error(`Stack '${stackName}' not found in ${dir}; it has: ${names.join(', ')}`);
  }
  const [artifactId, artifact] = chosen as [string, ManifestArtifact];
  const templateFile = artifact.properties?.templateFile;
  if (!templateFile) throw new Error(`Stack artifact '${artifactId}' has no properties.templateFile`);
  const template = readJson(join(dir, templateFile), `Template of ${artifactId}`) as CfnTemplate;
  if (typeof template !== 'object' || template === null || typeof template.Resources !== 'object') {
    throw new Error(`Template ${join(dir, templateFile)} has no Resources`);
  }

  const assetsPath = join(dir, `${artifactId}.assets.json`);
  const assets = existsSync(assetsPath)
    ? ((readJson(assetsPath, 'Asset manifest') as { files?: Record<string, { source?: { path?: string } }> })
        .files ?? {})
    : {};

  return {
    stackName: artifact.properties?.stackName ?? artifactId,
    assemblyDir: dir,
    template,
    assetDir(assetHash: string): string {
      const path = assets[assetHash]?.source?.path;
      if (!path) throw new Error(`Asset ${assetHash} is not listed in ${assetsPath}`);
      const abs = isAbsolute(path) ? path : join(dir, path);
      if (!existsSync(abs)) throw new Error(`Asset ${assetHash} points to a missing path: ${abs}`);
      return abs;
    },
  };
}

/**
 * The directory holding a Lambda function's bundled code: the resource's `aws:asset:path`
 * metadata, or else the asset named by its `Code.S3Key` (`<hash>.zip`).
 */
export function functionAssetDir(assembly: StackAssembly, logicalId: string): string {
  const res = assembly.template.Resources[logicalId];
  if (!res) throw new Error(`Function '${logicalId}' is not in stack ${assembly.stackName}`);
  if (res.Type !== 'AWS::Lambda::Function')
    throw new Error(`'${logicalId}' is a ${res.Type}, not a Lambda function`);
  const assetPath = res.Metadata?.['aws:asset:path'];
  if (typeof assetPath === 'string') {
    const abs = isAbsolute(assetPath) ? assetPath : join(assembly.assemblyDir, assetPath);
    if (existsSync(abs)) return abs;
  }
  const code = res.Properties?.Code as { S3Key?: unknown; ZipFile?: unknown } | undefined;
  const key = code?.S3Key;
  if (typeof key === 'string' && key.endsWith('.zip')) return assembly.assetDir(key.slice(0, -'.zip'.length));
  if (code?.ZipFile !== undefined) {
    throw new Error(
      `Function '${logicalId}' has inline code (ZipFile); the local runtime runs file assets only`,
    );
  }
  throw new Error(
    `Cannot find the code of function '${logicalId}': no aws:asset:path metadata or <hash>.zip S3Key`,
  );
}
