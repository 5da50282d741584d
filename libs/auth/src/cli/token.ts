/**
 * Prints a bearer token for local use; the token is the last line of output.
 *   npm run token -- --account <id> [--user <id>] [--expires 30d]
 * The secret is AUTH_JWT_SECRET, or the embedded mode's development secret.
 */
import { parseArgs } from 'node:util';
import { mintToken } from '../tokens';
import { DEV_JWT_SECRET } from '../dev-secret';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      account: { type: 'string', short: 'a' },
      user: { type: 'string', short: 'u' },
      expires: { type: 'string', short: 'e', default: '30d' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.account) {
    process.stderr.write('usage: npm run token -- --account <id> [--user <id>] [--expires 30d]\n');
    process.exit(values.help ? 0 : 2);
  }
  const secret = process.env.AUTH_JWT_SECRET || DEV_JWT_SECRET;
  if (!process.env.AUTH_JWT_SECRET) process.stderr.write('AUTH_JWT_SECRET not set: using the development secret\n');
  const token = await mintToken({
    accountId: values.account,
    userId: values.user,
    secret,
    expiresIn: values.expires,
    issuer: process.env.AUTH_ISSUER || undefined,
    audience: process.env.AUTH_AUDIENCE || undefined,
  });
  process.stdout.write(`${token}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`token: ${err.message}\n`);
  process.exit(1);
});
