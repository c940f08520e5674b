/**
 * `pulseboard-agent`: the host agent's command line. Parses flags and `PULSEBOARD_*` variables,
 * then runs `startAgent` until SIGINT/SIGTERM, or once with `--once`. Bundled by agent/build.ts
 * into one file that plain Node ≥ 20 runs.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { type Agent, startAgent } from './agent';
import { type AgentCommand, parseAgentArgs, USAGE, UsageError } from './config';

/** With `--once`, CPU and network are measured over this window before the one sample. */
const ONCE_SAMPLE_WINDOW_MS = 1000;

const log = (line: string) => console.error(`${new Date().toISOString()} ${line}`);

async function main(): Promise<number> {
  let command: AgentCommand;
  try {
    command = parseAgentArgs(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`pulseboard-agent: ${error.message}\nRun "pulseboard-agent --help" for usage.`);
    return 2;
  }
  if (command.kind === 'help') {
    console.log(USAGE);
    return 0;
  }

  const agent = await startAgent({
    url: command.url,
    token: command.token,
    intervalMs: command.intervalMs,
    labels: command.labels,
    metrics: command.metrics,
    diskPaths: command.diskPaths,
    spoolDir: command.spoolDir,
    maxBufferBytes: command.maxBufferBytes,
    schedule: !command.once,
    log,
  });

  if (command.once) {
    await delay(ONCE_SAMPLE_WINDOW_MS);
    await agent.collect();
    await agent.flush();
    await agent.stop();
    const pending = agent.pending();
    if (pending === 0) return 0;
    log(`agent: ${pending} batch(es) stay buffered in ${agent.spoolDir}; the next run sends them`);
    return 1;
  }

  log(
    `agent: sending ${command.metrics.join(', ')} every ${command.intervalMs / 1000} s to ${command.url}/api/metrics; ` +
      `buffer ${agent.spoolDir} (${agent.pending()} batch(es) pending)`,
  );
  await stopOnSignal(agent);
  return 0;
}

/** Resolves after the first SIGINT/SIGTERM has stopped the agent; a second signal exits at once. */
function stopOnSignal(agent: Agent): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      process.once('SIGINT', () => process.exit(130)).once('SIGTERM', () => process.exit(143));
      log(`agent: ${signal}: stopping; undelivered batches stay buffered`);
      void agent.stop().then(resolve);
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`pulseboard-agent: ${(error as Error).message ?? String(error)}`);
    process.exitCode = 1;
  },
);
