import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface SynthOptions {
  readonly stage?: string;
  /** Where the cloud assembly goes; a fresh temporary directory by default. */
  readonly outDir?: string;
  /** More CDK context, as `-c key=value` gives it (e.g. `alertmanagerConfig`). */
  readonly context?: Readonly<Record<string, string>>;
  /** Build the dashboard first (the stack deploys web/dist). */
  readonly buildWeb?: boolean;
}

/**
 * Builds the dashboard and synthesizes the CDK app exactly as `cdk synth` would (same app entry,
 * same context, cdk-nag included), and returns the cloud assembly directory.
 */
export async function synthesize(options: SynthOptions = {}): Promise<string> {
  const outDir = options.outDir ?? mkdtempSync(path.join(tmpdir(), 'pulseboard-cdk-'));
  if (options.buildWeb !== false) {
    await run(process.execPath, [
      path.join(PROJECT_ROOT, 'node_modules/vite/bin/vite.js'),
      'build',
      'web',
      '--emptyOutDir',
      '--logLevel',
      'warn',
    ]);
  }
  await run(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'bin/app.ts')], {
    CDK_OUTDIR: outDir,
    CDK_CONTEXT_JSON: JSON.stringify({
      ...options.context,
      stage: options.stage ?? 'dev',
      'aws:cdk:enable-asset-metadata': true,
    }),
  });
  return outDir;
}

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `${path.basename(args[args.length - 1] ?? command)} failed (exit ${code}):\n${output.trim()}`,
          ),
        );
    });
  });
}
