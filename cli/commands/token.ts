import { InvalidArgumentError, Option, type Command } from 'commander';
import { ROLES, type Role } from '../../domain/roles.ts';
import { signToken } from '../../runtime/tokens.ts';
import type { CliContext } from '../connect.ts';

interface TokenOptions {
  role: Role;
  sub: string;
  ttl?: string;
}

/** `deligo token --role R --sub ID [--ttl 12h]`: prints a development token and nothing else. */
export function defineTokenCommand(parent: Command, context: () => CliContext): void {
  parent
    .command('token')
    .description('print a signed access token on stdout')
    .addOption(new Option('--role <role>', 'who the token speaks for').choices(ROLES).makeOptionMandatory())
    .addOption(new Option('--sub <id>', 'user, rider or restaurant id (the JWT sub)').argParser(parseSub).makeOptionMandatory())
    .option('--ttl <duration>', 'lifetime such as 30m, 12h or 7d (default: JWT_TTL, else 12h)', parseTtl)
    .action(async (options: TokenOptions) => {
      const { config } = context();
      const ttl = options.ttl ?? config.jwt.ttl;
      const token = await signToken({ role: options.role, sub: options.sub }, { secret: config.jwt.secret, ttl });
      process.stdout.write(`${token}\n`);
    });
}

/** The API rejects a longer sub, so a token carrying one would be useless. */
function parseSub(input: string): string {
  if (input.length === 0 || input.length > 128) throw new InvalidArgumentError('expected 1 to 128 characters');
  return input;
}

function parseTtl(input: string): string {
  if (!/^\d+[smhd]$/.test(input)) throw new InvalidArgumentError('expected a duration such as 30m, 12h or 7d');
  return input;
}
