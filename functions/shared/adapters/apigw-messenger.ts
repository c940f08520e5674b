import {
  type ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { DependencyError } from '../errors';
import type { ConnectionMessenger, SendOutcome } from '../ports';

/** Sends through API Gateway's `@connections` management API; 410 Gone becomes the `gone` outcome. */
export class ApiGatewayMessenger implements ConnectionMessenger {
  constructor(private readonly client: ApiGatewayManagementApiClient) {}

  async send(connectionId: string, data: string): Promise<SendOutcome> {
    try {
      await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
      return 'sent';
    } catch (error) {
      if (error instanceof GoneException) return 'gone';
      throw new DependencyError(`PostToConnection failed for ${connectionId}`, { cause: error });
    }
  }
}
