import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The AWS JSON 1.1 protocol as the local engines serve it (EventBridge, Secrets Manager): POST
 * with `X-Amz-Target: <prefix>.<Operation>`, a JSON body, and errors as `{"__type", message}` with
 * the status AWS uses, so the unchanged SDK clients throw their own exception classes.
 */
export class AwsJsonError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface AwsJsonServerOptions {
  /** e.g. `AWSEvents`, `secretsmanager`. */
  readonly targetPrefix: string;
  /** Named for messages: "not supported by the local Secrets Manager". */
  readonly serviceName: string;
  readonly operations: Readonly<Record<string, (input: Record<string, unknown>) => unknown>>;
  readonly maxRequestBytes: number;
  /** Services differ in the casing of the error message key. */
  readonly messageKey: 'message' | 'Message';
  /** The `__type` of an unexpected failure (500). */
  readonly internalErrorType: string;
  readonly host?: string;
  readonly log?: (line: string) => void;
}

export interface AwsJsonServer {
  readonly endpoint: string;
  close(): Promise<void>;
}

export async function startAwsJsonServer(opts: AwsJsonServerOptions): Promise<AwsJsonServer> {
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify(body));
  };
  const fail = (res: ServerResponse, type: string, message: string, status: number) =>
    send(res, status, { __type: type, [opts.messageKey]: message });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > opts.maxRequestBytes) {
          const type =
            opts.targetPrefix === 'secretsmanager' ? 'InvalidRequestException' : 'ValidationException';
          throw new AwsJsonError(type, 'Request is too large.', 413);
        }
        chunks.push(chunk as Buffer);
      }
      const target = String(req.headers['x-amz-target'] ?? '');
      const prefix = `${opts.targetPrefix}.`;
      const operation = target.startsWith(prefix) ? opts.operations[target.slice(prefix.length)] : undefined;
      if (
        req.method !== 'POST' ||
        !operation ||
        !Object.hasOwn(opts.operations, target.slice(prefix.length))
      ) {
        throw new AwsJsonError(
          'UnknownOperationException',
          `Operation ${target || '(none)'} is not supported by the local ${opts.serviceName}`,
        );
      }
      let input: unknown;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        throw new AwsJsonError('SerializationException', 'Request body is not valid JSON');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw new AwsJsonError('SerializationException', 'Request body is not an object');
      }
      send(res, 200, operation(input as Record<string, unknown>));
    } catch (err) {
      if (err instanceof AwsJsonError) fail(res, err.type, err.message, err.status);
      else {
        opts.log?.(`Local ${opts.serviceName}: ${(err as Error).message}`);
        fail(res, opts.internalErrorType, (err as Error).message, 500);
      }
    }
  }

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
