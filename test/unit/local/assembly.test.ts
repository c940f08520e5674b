import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { functionAssetDir, loadStackAssembly } from '../../../local/assembly';

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

let dir: string;

function write(path: string, value: unknown): void {
  writeFileSync(join(dir, path), typeof value === 'string' ? value : JSON.stringify(value));
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'assembly-'));
  mkdirSync(join(dir, `asset.${HASH_A}`));
  mkdirSync(join(dir, `asset.${HASH_B}`));
  write('manifest.json', {
    version: '55.0.0',
    artifacts: {
      'Pulseboard-dev': {
        type: 'aws:cloudformation:stack',
        properties: { templateFile: 'Pulseboard-dev.template.json', stackName: 'Pulseboard-dev' },
      },
      'Pulseboard-dev.assets': {
        type: 'cdk:asset-manifest',
        properties: { file: 'Pulseboard-dev.assets.json' },
      },
      Tree: { type: 'cdk:tree', properties: { file: 'tree.json' } },
    },
  });
  write('Pulseboard-dev.template.json', {
    Resources: {
      WithMetadata: {
        Type: 'AWS::Lambda::Function',
        Properties: { Code: { S3Bucket: 'b', S3Key: `${HASH_B}.zip` } },
        Metadata: { 'aws:asset:path': `asset.${HASH_A}` },
      },
      ByS3Key: {
        Type: 'AWS::Lambda::Function',
        Properties: { Code: { S3Bucket: 'b', S3Key: `${HASH_B}.zip` } },
      },
      Inline: { Type: 'AWS::Lambda::Function', Properties: { Code: { ZipFile: 'exports.handler=()=>1' } } },
      Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
    },
  });
  write('Pulseboard-dev.assets.json', {
    version: '55.0.0',
    files: {
      [HASH_A]: { source: { path: `asset.${HASH_A}`, packaging: 'zip' }, destinations: {} },
      [HASH_B]: { source: { path: `asset.${HASH_B}`, packaging: 'zip' }, destinations: {} },
    },
  });
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('loadStackAssembly', () => {
  it('loads the only stack with its template and asset directories', () => {
    // Act
    const assembly = loadStackAssembly(dir);
    // Assess
    expect(assembly.stackName).toBe('Pulseboard-dev');
    expect(assembly.assemblyDir).toBe(dir);
    expect(Object.keys(assembly.template.Resources)).toContain('Table');
    expect(assembly.assetDir(HASH_A)).toBe(join(dir, `asset.${HASH_A}`));
  });

  it('finds a stack by name and lists the stacks when the name is wrong', () => {
    expect(loadStackAssembly(dir, 'Pulseboard-dev').stackName).toBe('Pulseboard-dev');
    expect(() => loadStackAssembly(dir, 'Other')).toThrow(/'Other' not found.*Pulseboard-dev/);
  });

  it('explains a missing manifest and an unknown asset', () => {
    // Prepare
    const empty = mkdtempSync(join(tmpdir(), 'assembly-empty-'));
    // Act / Assess
    try {
      expect(() => loadStackAssembly(empty)).toThrow(/manifest not found.*cdk synth/);
      expect(() => loadStackAssembly(dir).assetDir('c'.repeat(64))).toThrow(/not listed/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('functionAssetDir', () => {
  it('prefers the aws:asset:path metadata, then the S3Key asset', () => {
    // Prepare
    const assembly = loadStackAssembly(dir);
    // Act / Assess
    expect(functionAssetDir(assembly, 'WithMetadata')).toBe(join(dir, `asset.${HASH_A}`));
    expect(functionAssetDir(assembly, 'ByS3Key')).toBe(join(dir, `asset.${HASH_B}`));
  });

  it('explains inline code, non-functions and unknown ids', () => {
    // Prepare
    const assembly = loadStackAssembly(dir);
    // Act / Assess
    expect(() => functionAssetDir(assembly, 'Inline')).toThrow(/inline code/);
    expect(() => functionAssetDir(assembly, 'Table')).toThrow(/not a Lambda function/);
    expect(() => functionAssetDir(assembly, 'Nope')).toThrow(/not in stack/);
  });
});
