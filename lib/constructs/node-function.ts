import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

const FUNCTIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'functions');

/** Lets the ESM bundle load CommonJS dependencies that call `require`. */
const CREATE_REQUIRE_BANNER =
  "import { createRequire as __pulseboardCreateRequire } from 'node:module'; const require = __pulseboardCreateRequire(import.meta.url);";

export interface NodeFunctionProps {
  /** The folder under functions/ holding `handler.ts`. */
  readonly name: string;
  readonly description: string;
  readonly environment?: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  readonly logLevel: string;
  readonly removalPolicy: RemovalPolicy;
  readonly timeout?: Duration;
  readonly memorySize?: number;
}

/**
 * Every Pulseboard function: Node 22 on arm64, bundled by the local esbuild as one ESM file with
 * source maps, the AWS SDK bundled in (a pinned, tree-shaken SDK rather than whatever the runtime
 * ships), Powertools settings, and its own log group with a role that may write only to it.
 */
export class NodeFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: NodeFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${props.name} function`,
    });
    super(scope, id, {
      entry: path.join(FUNCTIONS_DIR, props.name, 'handler.ts'),
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      role,
      logGroup,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'pulseboard',
        POWERTOOLS_LOG_LEVEL: props.logLevel,
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        mainFields: ['module', 'main'],
        externalModules: [],
        banner: CREATE_REQUIRE_BANNER,
        forceDockerBundling: false,
      },
    });
    logGroup.grantWrite(role);
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is pinned on purpose: the toolchain (vitest 5, middy 7, fauxqs 2) and the local runtime are ' +
        'tested on 22. Moving to nodejs24.x is a deliberate upgrade, not a drift.',
    });
  }
}
