/**
 * `npm run users:create -- --table <AuthTableName> --username <name> [--role admin|editor|viewer]`
 *
 * Creates a user directly in a stage's auth table, with the AWS credentials and region of the
 * environment: the way to make the first admin of a deployed stage (later users come from
 * `POST /api/users`). The password comes from PULSEBOARD_NEW_PASSWORD, or is generated and printed
 * once. The table name is the stack output `AuthTableName`. An existing user is never replaced.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { USERNAME_PATTERN } from '../functions/auth/auth-api';
import { DynamoUserStore } from '../functions/shared/adapters/dynamo-auth-store';
import { hashPassword, passwordProblem } from '../functions/shared/domain/auth/passwords';
import { isRole } from '../functions/shared/domain/auth/roles';

const USAGE =
  'usage: npm run users:create -- --table <AuthTableName> --username <name> [--role admin|editor|viewer]\n' +
  '       the password is read from PULSEBOARD_NEW_PASSWORD, or generated and printed once';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      table: { type: 'string' },
      username: { type: 'string' },
      role: { type: 'string', default: 'admin' },
    },
  });
  if (!values.table || !values.username || !USERNAME_PATTERN.test(values.username) || !isRole(values.role)) {
    console.error(USAGE);
    return 2;
  }
  const given = process.env.PULSEBOARD_NEW_PASSWORD;
  const password = given ?? randomBytes(18).toString('base64url');
  const problem = passwordProblem(password);
  if (problem) {
    console.error(`PULSEBOARD_NEW_PASSWORD: ${problem}`);
    return 2;
  }
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const at = new Date().toISOString();
  const created = await new DynamoUserStore(client, values.table).put(
    {
      username: values.username,
      role: values.role,
      passwordHash: await hashPassword(password),
      createdAt: at,
      updatedAt: at,
    },
    { ifAbsent: true },
  );
  client.destroy();
  if (!created) {
    console.error(`User ${values.username} already exists; change it with PUT /api/users/${values.username}`);
    return 1;
  }
  console.log(`Created ${values.role} ${values.username}.`);
  if (!given) console.log(`Password (shown once): ${password}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`users:create failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
