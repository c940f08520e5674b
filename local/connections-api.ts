/**
 * The API Gateway management API (`@connections`) of the local WebSocket API: PostToConnection,
 * GetConnection and DeleteConnection at `{base}/@connections/{connectionId}`, answering with the
 * status codes and error shapes that make the real `@aws-sdk/client-apigatewaymanagementapi`
 * throw its modeled exceptions.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A WebSocket connection as the management API sees it. */
export interface LiveConnection {
  readonly connectionId: string;
  readonly connectedAt: Date;
  readonly lastActiveAt: Date;
  readonly sourceIp: string;
  readonly userAgent: string;
  /** Sends data to the client; resolves false when the connection is already gone. */
  send(data: Buffer): Promise<boolean>;
  /** Closes the connection from the server side. */
  close(): void;
}

/** Finds open connections by id; connections still in `$connect` are not found. */
export interface ConnectionLookup {
  get(connectionId: string): LiveConnection | undefined;
}

/** Options of {@link handleConnectionsRequest}. */
export interface ConnectionsApiOptions {
  readonly connections: ConnectionLookup;
  /** Path the SDK endpoint points at, e.g. '/ws'. */
  readonly basePath: string;
  /** PostToConnection payload quota: 128 KB. */
  readonly maxMessageBytes: number;
}

/** True when the request is for the management API under `basePath`. */
export function isConnectionsRequest(req: IncomingMessage, basePath: string): boolean {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  return path.startsWith(`${basePath}/@connections/`) || path.startsWith(`${basePath}/%40connections/`);
}

/**
 * An error as the restJson1 protocol carries it: the `x-amzn-errortype` header names the modeled
 * exception (the SDK reads it first), and the body repeats it as `__type` with the message.
 */
function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  const body = JSON.stringify({ __type: type, message });
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-amzn-errortype': type,
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

/** Reads the body up to `limit` bytes; 'too-large' once it passes the limit. */
function readLimited(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Answers one `@connections` request. */
export async function handleConnectionsRequest(
  req: IncomingMessage,
  res: ServerResponse,
  opts: ConnectionsApiOptions,
): Promise<void> {
  // Local calls may carry any SigV4 signature, but an unsigned call is refused as AWS refuses it.
  if (!req.headers.authorization) {
    req.resume();
    sendError(res, 403, 'ForbiddenException', 'Missing Authentication Token');
    return;
  }
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const rest = path.slice(path.indexOf('connections/') + 'connections/'.length);
  let connectionId: string;
  try {
    connectionId = decodeURIComponent(rest);
  } catch {
    connectionId = rest;
  }
  if (connectionId === '' || connectionId.includes('/')) {
    req.resume();
    sendError(res, 403, 'ForbiddenException', 'Missing Authentication Token');
    return;
  }

  switch (req.method) {
    case 'POST': {
      const data = await readLimited(req, opts.maxMessageBytes);
      if (data === 'too-large') {
        sendError(res, 413, 'PayloadTooLargeException', 'Request entity too large');
        return;
      }
      const connection = opts.connections.get(connectionId);
      if (!connection || !(await connection.send(data))) {
        sendError(res, 410, 'GoneException', '');
        return;
      }
      res.writeHead(200, { 'content-length': '0' });
      res.end();
      return;
    }
    case 'GET': {
      req.resume();
      const connection = opts.connections.get(connectionId);
      if (!connection) {
        sendError(res, 410, 'GoneException', '');
        return;
      }
      const body = JSON.stringify({
        connectedAt: connection.connectedAt.toISOString(),
        identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
        lastActiveAt: connection.lastActiveAt.toISOString(),
      });
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
      });
      res.end(body);
      return;
    }
    case 'DELETE': {
      req.resume();
      const connection = opts.connections.get(connectionId);
      if (!connection) {
        sendError(res, 410, 'GoneException', '');
        return;
      }
      connection.close();
      res.writeHead(204);
      res.end();
      return;
    }
    default:
      req.resume();
      sendError(res, 403, 'ForbiddenException', 'Missing Authentication Token');
  }
}
