// `kiosk-agent activate --server URL --key KEY [--json]`: online activation (DESIGN §4.1, §4.7).
// The key is checked here first (LICENSE_KEY_MALFORMED, exit 3, before any network), the server
// URL next (plain http only to loopback: off loopback the agent speaks TLS only). Then: read the
// fingerprint, make the device key pair (it stays: it is the device's identity), POST the
// activation request, and install the answer's token through installLicense together with the
// server link — verified first, so a token for another device or signed by an untrusted key is
// refused (exit 3). On any failure no license and no link are stored.
import { requireString, type CommandSpec } from '../../../common/cli.ts';
import { KioskError } from '../../../common/errors.ts';
import { normalizeLicenseKey } from '../../../common/license-key.ts';
import { licenseServiceDeps, makeActivationRequest, type AgentContext } from '../app.ts';
import { fetchAndStoreRevocationList, installTokenAnswer } from '../daemon/online-license.ts';
import { readClockTrust } from '../hardware/time-sync.ts';
import { checkServerUrl, createServerClient, failureToError } from '../license/server-client.ts';
import { installSummary } from './license-install.ts';
import { printWarnings } from './license-status.ts';

export const activateCommand: CommandSpec<AgentContext> = {
  name: 'activate',
  summary: 'online activation with a license key: stores the token and the server link',
  maxArgs: 0,
  options: {
    server: { type: 'string' },
    key: { type: 'string' },
  },
  async run({ values, io, json }, ctx) {
    const licenseKey = normalizeLicenseKey(requireString(values, 'key'));
    const server = checkServerUrl(requireString(values, 'server'));
    if (!server.ok) throw new KioskError('USAGE', `--server: ${server.message}`);

    const request = await makeActivationRequest(ctx);
    for (const w of request.warnings) io.stderr(`warning: ${w}`);

    const answer = await createServerClient(server.url).activate({ licenseKey, request });
    if (!answer.ok) throw failureToError(answer.failure);

    // Only now is the store opened (and created): a failed activation leaves no database behind.
    const store = ctx.store();
    const install = (): ReturnType<typeof installTokenAnswer> =>
      installTokenAnswer({
        deps: licenseServiceDeps(ctx, 'create'),
        store,
        answer: answer.value,
        receivedAtMs: ctx.clock.nowMs(),
        clockTrust: (serverTimeReceived) => readClockTrust(ctx.config.sysroot, { serverTimeReceived }),
      });
    let done: Awaited<ReturnType<typeof install>>;
    try {
      done = await install();
    } catch (err) {
      if (!(err instanceof KioskError) || err.code === 'SERVER_ERROR') throw err;
      // A device deactivated earlier is on the revocation list this device stored; the server
      // took it off when it activated the device again. A newer list settles it: try once more.
      const fetched = err.code === 'REVOKED' ? await fetchAndStoreRevocationList(createServerClient(server.url), store, ctx.trustedKeys(), ctx.clock.nowMs()) : null;
      if (fetched?.kind !== 'stored') throw refusedAfterActivation(err);
      try {
        done = await install();
      } catch (again) {
        throw again instanceof KioskError && again.code !== 'SERVER_ERROR' ? refusedAfterActivation(again) : again;
      }
    }
    for (const w of done.warnings) io.stderr(`warning: ${w}`);
    if (!done.serverTimeAgrees) {
      const skewS = Math.round((ctx.clock.nowMs() - answer.value.serverTimeMs) / 1000);
      io.stderr(`warning: the device clock differs from the license server's by ${skewS} s; check NTP`);
    }
    const status = done.result.status;
    if (json) {
      io.stdout(JSON.stringify({ ...status, server: { apiUrl: done.apiUrl, mqttUrl: done.mqttUrl } }, null, 2));
    } else {
      io.stdout(`${installSummary(done.result.outcome, status).replace(/^License installed/, 'Activated')}\nServer: ${done.apiUrl} (sync ${done.mqttUrl}).`);
      // The fingerprint's warnings were printed before the request went out.
      printWarnings(io, { ...status, warnings: status.warnings.filter((w) => !request.warnings.includes(w)) });
    }
    return 0;
  },
};

/** The server activated the device but this device refuses the token: say that the seat is held. */
function refusedAfterActivation(err: KioskError): KioskError {
  return new KioskError(
    err.code,
    `${err.message} (the license server has recorded the activation: once the cause is fixed, activating again reuses its seat)`,
    { cause: err, ...(err.details ? { details: { ...err.details } } : {}) },
  );
}
