// `deactivation import FILE`: the vendor uploads the signed file an offline device wrote with
// `kiosk-agent deactivate --out FILE`. Verified against the device key of record; importing
// the same file again changes nothing and reports the same outcome.
import { closeSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CommandSpec } from '../../../common/cli.ts';
import { MAX_DEVICE_BODY_BYTES } from '../../../common/device-api.ts';
import { KioskError } from '../../../common/errors.ts';
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
  const buf = Buffer.alloc(maxBytes + 1);
  let length = 0;
  const fd = openSync(path, 'r');
  try {
    while (length < buf.length) {
      const n = readSync(fd, buf, length, buf.length - length, null);
      if (n === 0) break;
      length += n;
    }
  } finally {
    closeSync(fd);
  }
  if (length > maxBytes) throw new KioskError('PAYLOAD_TOO_LARGE', `${path} is larger than ${maxBytes} bytes: not a deactivation file`);
  return buf.subarray(0, length).toString('utf8').replace(/^\uFEFF/, '').trim();
}
