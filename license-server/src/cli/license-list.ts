// `license list` and `license show KEY|ID`.
import { optionalString, type CommandSpec } from '../../../common/cli.ts';
import type { ServerContext } from '../app.ts';
import { getLicense, listLicenses } from '../domain/licenses.ts';
import { isoTime } from '../domain/iso-time.ts';
import { activationJson, licenseJson, licenseSummary, table } from './format.ts';

export const licenseListCommand: CommandSpec<ServerContext> = {
  name: 'license list',
  summary: 'list licenses (key hints only)',
  options: { tenant: { type: 'string' } },
  async run({ values, io, json }, ctx) {
    const tenant = optionalString(values, 'tenant');
    const rows = await listLicenses(await ctx.deps(), tenant === undefined ? undefined : { tenant });
    if (json) {
      io.stdout(JSON.stringify({ licenses: rows.map((r) => ({ ...licenseJson(r.license), activeDevices: r.activeDevices })) }));
      return 0;
    }
    if (rows.length === 0) {
      io.stdout('no licenses yet: license-server license create --tenant T --features a,b --max-devices N --days D');
      return 0;
    }
    io.stdout(
      table(
        ['ID', 'KEY', 'TENANT', 'STATUS', 'SEATS', 'EXPIRES', 'FEATURES'],
        rows.map(({ license: l, activeDevices }) => [
          l.id,
          `…${l.keyHint}`,
          l.tenant,
          l.status,
          `${activeDevices}/${l.maxDevices}`,
          isoTime(l.expiresAtMs),
          l.features.join(','),
        ]),
      ),
    );
    return 0;
  },
};

export const licenseShowCommand: CommandSpec<ServerContext> = {
  name: 'license show',
  summary: 'show a license and its activations',
  args: 'KEY|ID',
  minArgs: 1,
  maxArgs: 1,
  async run({ positionals, io, json }, ctx) {
    const { license, activations, activeDevices } = await getLicense(await ctx.deps(), positionals[0] ?? '');
    if (json) {
      io.stdout(JSON.stringify({ license: { ...licenseJson(license), activeDevices }, activations: activations.map(activationJson) }));
      return 0;
    }
    const lines = [
      `license ${license.id} (${license.status}${license.revokedAtMs === null ? '' : ` on ${isoTime(license.revokedAtMs)}`})`,
      `key: …${license.keyHint}`,
      ...licenseSummary(license, activeDevices),
      `created: ${isoTime(license.createdAtMs)}`,
    ];
    if (activations.length === 0) lines.push('activations: none');
    else {
      lines.push(
        'activations:',
        table(
          ['DEVICE', 'STATUS', 'MODE', 'ACTIVATED', 'LAST TOKEN'],
          activations.map((a) => [a.deviceId, a.status, a.mode, isoTime(a.createdAtMs), a.lastTokenIat === null ? '-' : isoTime(a.lastTokenIat * 1000)]),
        ),
      );
    }
    io.stdout(lines.join('\n'));
    return 0;
  },
};
