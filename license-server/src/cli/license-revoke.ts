// `license revoke KEY|ID`: takes effect at once for everything that reads the database.
import type { CommandSpec } from '../../../common/cli.ts';
import type { ServerContext } from '../app.ts';
import { revokeLicense } from '../domain/licenses.ts';
import { isoTime } from '../domain/iso-time.ts';
import { licenseJson } from './format.ts';

export const licenseRevokeCommand: CommandSpec<ServerContext> = {
  name: 'license revoke',
  summary: 'revoke a license: no activation or renewal from now on',
  args: 'KEY|ID',
  minArgs: 1,
  maxArgs: 1,
  async run({ positionals, io, json }, ctx) {
    const { license, changed } = await revokeLicense(await ctx.deps(), { ref: positionals[0] ?? '', actor: 'cli' });
    if (json) {
      io.stdout(JSON.stringify({ license: licenseJson(license), changed }));
      return 0;
    }
    const when = isoTime(license.revokedAtMs ?? 0);
    io.stdout(changed ? `license ${license.id} revoked at ${when}` : `license ${license.id} was revoked already (at ${when})`);
    return 0;
  },
};
