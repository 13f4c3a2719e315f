// `license create`: prints a summary and the license key as the last word of stdout. The key
// is shown this once; the server keeps only its hash.
import { optionalString, parseIntFlag, requireString, type CommandSpec } from '../../../common/cli.ts';
import { KioskError } from '../../../common/errors.ts';
import type { ServerContext } from '../app.ts';
import { createLicense } from '../domain/licenses.ts';
import { MAX_DEVICES_LIMIT, MAX_GRACE_DAYS, MAX_LICENSE_DAYS } from '../domain/license-terms.ts';
import { licenseJson, licenseSummary } from './format.ts';

export const licenseCreateCommand: CommandSpec<ServerContext> = {
  name: 'license create',
  summary: 'issue a license; prints its key (last word) once',
  options: {
    tenant: { type: 'string' },
    features: { type: 'string' },
    'max-devices': { type: 'string' },
    days: { type: 'string' },
    expires: { type: 'string' },
    'grace-days': { type: 'string' },
    'allow-virtual': { type: 'boolean' },
  },
  async run({ values, io, json }, ctx) {
    const tenant = requireString(values, 'tenant');
    const features = requireString(values, 'features')
      .split(',')
      .map((f) => f.trim())
      .filter((f) => f.length > 0);
    const maxDevices = parseIntFlag(values, 'max-devices', 1, MAX_DEVICES_LIMIT);
    if (maxDevices === undefined) throw new KioskError('USAGE', '--max-devices is required');
    const days = parseIntFlag(values, 'days', 1, MAX_LICENSE_DAYS);
    const expires = optionalString(values, 'expires');
    if ((days === undefined) === (expires === undefined)) throw new KioskError('USAGE', 'give either --days D or --expires DATE');
    const graceDays = parseIntFlag(values, 'grace-days', 0, MAX_GRACE_DAYS);

    const { license, licenseKey } = await createLicense(await ctx.deps(), {
      tenant,
      features,
      maxDevices,
      ...(days === undefined ? {} : { days }),
      ...(expires === undefined ? {} : { expires }),
      ...(graceDays === undefined ? {} : { graceDays }),
      allowVirtual: values['allow-virtual'] === true,
      actor: 'cli',
    });
    if (json) {
      io.stdout(JSON.stringify({ license: licenseJson(license), licenseKey }));
      return 0;
    }
    io.stdout(
      [
        `license ${license.id} created`,
        ...licenseSummary(license, 0),
        'license key (shown only now; the server keeps only a hash of it):',
        licenseKey,
      ].join('\n'),
    );
    return 0;
  },
};
