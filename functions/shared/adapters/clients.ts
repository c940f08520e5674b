import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * SDK client factories. Handlers call these once, at module scope (once per cold start). Endpoints
 * come from the SDK's own configuration (AWS_ENDPOINT_URL_* locally), never from handler code.
 */
export function dynamoClient(): DynamoDBClient {
  return new DynamoDBClient({});
}

/** The document client over a DynamoDB client (a new one by default). */
export function documentClient(client: DynamoDBClient = dynamoClient()): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** The `@connections` client for one WebSocket stage, from its callback URL. */
export function managementApiClient(callbackUrl: string): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({ endpoint: callbackUrl });
}
