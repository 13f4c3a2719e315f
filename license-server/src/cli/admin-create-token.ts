// `admin create-token [--name N] [--scopes a,b]`: a vendor API token for the HTTP API, printed
// as the last word of stdout, once (DESIGN §4.1). The server keeps only its SHA-256; the token
// is never logged or written to the audit log.
import { optionalString, type CommandSpec } from '../../../common/cli.ts';
import type { ServerContext } from '../app.ts';
import { API_SCOPES, createApiToken, parseApiScopes } from '../domain/api-tokens.ts';
import { isoTime } from '../domain/iso-time.ts';

export const adminCreateTokenCommand: CommandSpec<ServerContext> = {
  name: 'admin create-token',
  summary: `make a vendor API token (scopes ${API_SCOPES.join(', ')}; default admin); prints it (last word) once`,
  options: { name: { type: 'string' }, scopes: { type: 'string' } },
  async run({ values, io, json }, ctx) {
    const name = optionalString(values, 'name') ?? 'cli';
    const scopesFlag = optionalString(values, 'scopes');
    const scopes = scopesFlag === undefined ? ['admin' as const] : parseApiScopes(scopesFlag);
    const { token, record } = await createApiToken(await ctx.deps(), { name, scopes, actor: 'cli' });
    if (json) {
      io.stdout(JSON.stringify({ record: { id: record.id, name: record.name, scopes: record.scopes, createdAt: isoTime(record.createdAtMs) }, token }));
      return 0;
    }
    io.stdout(
      [
        `API token ${record.id} "${record.name}" created (scopes: ${record.scopes.join(', ')})`,
        'use it as "Authorization: Bearer TOKEN"; shown only now (the server keeps only its hash):',
        token,
      ].join('\n'),
    );
    return 0;
  },
};
