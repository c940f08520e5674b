/**
 * Bundles the agent's command line into agent/dist/pulseboard-agent.mjs: one dependency-free ESM
 * file with a shebang that plain Node ≥ 20 runs (`node pulseboard-agent.mjs …`, or as the `bin`).
 * Run with `tsx agent/build.ts [outfile]`.
 */
import { chmod } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));

export const DEFAULT_AGENT_BUNDLE = path.join(here, 'dist', 'pulseboard-agent.mjs');

/** Builds the agent bundle and returns its path. */
export async function buildAgent(outfile: string = DEFAULT_AGENT_BUNDLE): Promise<string> {
  await build({
    entryPoints: [path.join(here, 'cli.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    legalComments: 'none',
    logLevel: 'warning',
  });
  await chmod(outfile, 0o755);
  return outfile;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outfile = await buildAgent(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  console.log(`built ${path.relative(process.cwd(), outfile)}`);
}
