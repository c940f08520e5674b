import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { synthesize } from '../../local/synth';

declare module 'vitest' {
  export interface ProvidedContext {
    assemblyDir: string;
  }
}

/** Synthesizes the app once per test run; every test file's local runtime serves this assembly. */
export default async function setup(project: TestProject) {
  const assemblyDir = await synthesize();
  project.provide('assemblyDir', assemblyDir);
  return () => rmSync(assemblyDir, { recursive: true, force: true });
}
