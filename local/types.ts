/**
 * Contracts shared by the local runtime's parts. The runtime reads everything from the
 * synthesized cloud assembly; these types describe what the parts hand each other.
 */

/** One resource of a synthesized CloudFormation template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly Condition?: string;
  readonly DependsOn?: string | string[];
}

/** A synthesized CloudFormation template (the subset the runtime reads). */
export interface CfnTemplate {
  readonly Parameters?: Record<string, { Type: string; Default?: unknown }>;
  readonly Conditions?: Record<string, unknown>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { Value: unknown; Description?: string }>;
}

/** One stack of a cloud assembly (cdk.out) and the means to find its assets on disk. */
export interface StackAssembly {
  readonly stackName: string;
  readonly assemblyDir: string;
  readonly template: CfnTemplate;
  /** Absolute directory of a file asset by its hash (from `<stack>.assets.json`). */
  assetDir(assetHash: string): string;
}

/** Turns CloudFormation values (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, …) into local values. */
export interface Resolver {
  resolve(value: unknown): unknown;
  /** Resolve and require a string. */
  resolveString(value: unknown): string;
}

/** The outcome of one synchronous (RequestResponse) invocation. */
export type InvokeOutcome =
  | { readonly kind: 'ok'; readonly payload: unknown }
  | { readonly kind: 'error'; readonly errorType: string; readonly errorMessage: string }
  | { readonly kind: 'timeout' };

/** Invokes a function of the template as Lambda would. Never rejects: failures are outcomes. */
export interface FunctionInvoker {
  /**
   * @param functionRef the function's logical id, its local name, or any ARN naming it
   *   (`arn:aws:lambda:…:function:<name>`, or the API Gateway `…/functions/<arn>/invocations` form).
   */
  invoke(functionRef: string, event: unknown): Promise<InvokeOutcome>;
  /** Invoke asynchronously (Event invocation type): retried per Lambda's async rules. */
  invokeAsync?(functionRef: string, event: unknown): void;
}

/** Local base URLs for the AWS endpoints the template names. */
export interface LocalEndpoints {
  /** e.g. http://127.0.0.1:3000 (HTTP API and dashboard share the port). */
  readonly httpBase: string;
  /** e.g. ws://127.0.0.1:3000/ws */
  readonly webSocketUrl: string;
  /** e.g. http://127.0.0.1:3000/ws — the `@connections` management API base. */
  readonly connectionsBase: string;
}
