// `device deactivate --license KEY|ID --device DEVICE_ID`: the vendor frees a device's seat. The
// device id goes on the revocation list, so the freed seat cannot be used twice.
import { requireString, type CommandSpec } from '../../../common/cli.ts';
import type { ServerContext } from '../app.ts';
import { deactivateDevice } from '../domain/deactivation.ts';

export const deviceDeactivateCommand: CommandSpec<ServerContext> = {
  name: 'device deactivate',
  summary: "free a device's seat of a license; the device is listed as revoked",
  options: { license: { type: 'string' }, device: { type: 'string' } },
  async run({ values, io, json }, ctx) {
    const outcome = await deactivateDevice(await ctx.deps(), {
      licenseRef: requireString(values, 'license'),
      deviceId: requireString(values, 'device'),
      actor: 'cli',
    });
    io.stdout(
      json
        ? JSON.stringify({ deactivated: true, ...outcome })
        : `device ${outcome.deviceId} holds no seat of license ${outcome.licenseId} now (revocation list version ${outcome.revocationVersion})`,
    );
    return 0;
  },
};
