// `deactivation import FILE`: the vendor uploads the signed file an offline device wrote with
// `kiosk-agent deactivate --out FILE`. Verified against the device key of record; importing
// the same file again changes nothing and reports the same outcome.
import { resolve } from 'node:path';
import type { CommandSpec } from '../../../common/cli.ts';
import { MAX_DEVICE_BODY_BYTES } from '../../../common/device-api.ts';
import { KioskError } from '../../../common/errors.ts';
import { readFileCapped, textOf } from '../../../common/read-capped.ts';
import type { ServerContext } from '../app.ts';
import { deactivateByFile } from '../domain/deactivation.ts';

export const deactivationImportCommand: CommandSpec<ServerContext> = {
  name: 'deactivation import',
  summary: "free a seat with an offline device's deactivation file",
  args: 'FILE',
  minArgs: 1,
  maxArgs: 1,
  async run({ positionals, io, json }, ctx) {
    const path = resolve(io.cwd, positionals[0] ?? '');
    const document = readSmallText(path, MAX_DEVICE_BODY_BYTES);
    const outcome = await deactivateByFile(await ctx.issuanceDeps(), { document, actor: 'cli' });
    io.stdout(
      json
        ? JSON.stringify({ deactivated: true, ...outcome })
        : `device ${outcome.deviceId} holds no seat of license ${outcome.licenseId} now (revocation list version ${outcome.revocationVersion})`,
    );
    return 0;
  },
};

function readSmallText(path: string, maxBytes: number): string {
  const { bytes, oversized } = readFileCapped(path, maxBytes);
  if (oversized) throw new KioskError('PAYLOAD_TOO_LARGE', `${path} is larger than ${maxBytes} bytes: not a deactivation file`);
  return textOf(bytes).trim();
}
