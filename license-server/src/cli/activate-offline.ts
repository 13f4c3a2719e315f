// `activate-offline --key KEY --request FILE --out FILE`: air-gapped activation or renewal.
// Reads the request `kiosk-agent fingerprint --json` printed, writes the token file
// crash-safely, and prints a summary — the token itself only when --out is `-`.
import { resolve } from 'node:path';
import { requireString, type CommandSpec } from '../../../common/cli.ts';
import { writeFileAtomic } from '../../../common/atomic-write.ts';
import { KioskError } from '../../../common/errors.ts';
import { readFileCapped, textOf } from '../../../common/read-capped.ts';
import type { ServerContext } from '../app.ts';
import { activate } from '../domain/activation.ts';
import { isoTime } from '../domain/iso-time.ts';

/** A request is a few KB; anything far larger is not one. */
export const MAX_REQUEST_BYTES = 64 * 1024;

export const activateOfflineCommand: CommandSpec<ServerContext> = {
  name: 'activate-offline',
  summary: 'air-gapped activation or renewal: request file in, token file out',
  options: { key: { type: 'string' }, request: { type: 'string' }, out: { type: 'string' } },
  async run({ values, io, json }, ctx) {
    const licenseKey = requireString(values, 'key');
    const requestPath = resolve(io.cwd, requireString(values, 'request'));
    const out = requireString(values, 'out');
    const request = readRequest(requestPath);

    const result = await activate(await ctx.issuanceDeps(), { licenseKey, request, mode: 'offline', actor: 'cli' });
    const { claims, activation, license } = result;
    const summary = [
      `${result.seat === 'new' ? 'activated' : 'renewed'} device ${activation.deviceId} on license ${license.id} (seat ${result.activeDevices} of ${license.maxDevices} in use${result.seat === 'reused' ? ', this device\'s seat reused' : ''})`,
      `token ${claims.jti} valid until ${isoTime(claims.exp * 1000)} (air-gapped: to the license's end; renew with a new request file)`,
    ];
    const facts = {
      licenseId: license.id,
      activationId: activation.id,
      deviceId: activation.deviceId,
      seat: result.seat,
      jti: claims.jti,
      exp: isoTime(claims.exp * 1000),
      lexp: isoTime(claims.lexp * 1000),
    };

    if (out === '-') {
      io.stdout(json ? JSON.stringify({ ...facts, token: result.token }) : result.token);
      io.stderr(summary.join('\n'));
      return 0;
    }
    const outPath = resolve(io.cwd, out);
    writeFileAtomic(outPath, `${result.token}\n`, 0o644);
    if (json) io.stdout(JSON.stringify({ ...facts, out: outPath }));
    else io.stdout([...summary, `token written to ${outPath}; install it with: kiosk-agent license install FILE`].join('\n'));
    return 0;
  },
};

function readRequest(path: string): unknown {
  const { bytes, oversized } = readFileCapped(path, MAX_REQUEST_BYTES);
  if (oversized) {
    throw new KioskError('PAYLOAD_TOO_LARGE', `${path} is larger than ${MAX_REQUEST_BYTES} bytes: not an activation request`);
  }
  try {
    return JSON.parse(textOf(bytes));
  } catch {
    throw new KioskError('ACTIVATION_REQUEST_INVALID', `${path} is not JSON: make it with "kiosk-agent fingerprint --json > FILE" on the device`);
  }
}
