// `kiosk-agent deactivate [--out FILE] [--json]`: frees the seat (DESIGN §4.1).
// Online (the device has a server link for its license): POST /v1/deactivations with a fresh
// device proof; on success the local license goes to the history and the link is removed.
// When the server cannot be reached (unreachable, 5xx) — or the license came in offline — and
// --out FILE is given: the signed deactivation document (typ kiosk-deactivation+jwt) is written
// crash-safely, then the local license is removed; the vendor uploads the file. A refusal by the
// server (4xx) is reported and the license kept. No license: LICENSE_MISSING (exit 3).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { optionalString, type CommandSpec } from '../../../common/cli.ts';
import { writeFileAtomic } from '../../../common/atomic-write.ts';
import { KioskError } from '../../../common/errors.ts';
import { licenseServiceDeps, type AgentContext } from '../app.ts';
import { classifyServerFailure } from '../domain/renewal.ts';
import { loadDeviceKey } from '../license/device-key.ts';
import { signDeactivation, signDeviceProof } from '../license/device-proof.ts';
import { evaluateLicense, type LicenseStatus } from '../license/license-service.ts';
import { createServerClient, failureToError } from '../license/server-client.ts';
import { verifyLicenseToken } from '../license/verify-token.ts';
import { agentDatabasePath } from '../store/agent-store.ts';

interface DeactivationReport {
  readonly deactivated: true;
  /** `online`: the server freed the seat; `offline`: the file must reach the vendor. */
  readonly via: 'online' | 'offline';
  readonly licenseId: string;
  readonly deviceId: string;
  readonly revocationVersion: number | null;
  readonly file: string | null;
  /** Why the server was not used (offline only). */
  readonly serverProblem: string | null;
  readonly status: LicenseStatus;
}

export const deactivateCommand: CommandSpec<AgentContext> = {
  name: 'deactivate',
  summary: 'free the seat: online, or write a signed deactivation file (--out FILE) when offline',
  maxArgs: 0,
  options: { out: { type: 'string' } },
  async run({ values, io, json }, ctx) {
    const outArg = optionalString(values, 'out');
    const out = outArg === undefined ? null : resolve(io.cwd, outArg);
    if (out !== null && existsSync(out)) throw new KioskError('USAGE', `--out ${out} exists already; name a new file (an earlier deactivation file is evidence: keep it)`);

    const { dataDir } = ctx.config;
    const missing = (): KioskError => new KioskError('LICENSE_MISSING', 'no license is installed: there is nothing to deactivate');
    if (!existsSync(agentDatabasePath(dataDir))) throw missing();
    const store = ctx.store();
    const installed = store.licenseState.readLicenseState().installed;
    if (!installed) throw missing();
    const verified = await verifyLicenseToken(installed.token, ctx.trustedKeys());
    if (!verified.ok) throw new KioskError(verified.reason, `the installed license does not verify with the trusted keys: ${verified.message}`);
    const claims = verified.claims;
    const key = await loadDeviceKey(dataDir);
    if (!key) throw new KioskError('DATA_DIR_UNUSABLE', `the device key is missing from ${dataDir}: this device cannot sign its deactivation; ask the vendor to free the seat`);
    const deviceId = claims.device.id;

    const link = store.serverLink.get();
    let serverProblem: string;
    if (link !== null && link.licenseId === claims.sub) {
      let components: Readonly<Record<string, string>> | undefined;
      try {
        components = (await licenseServiceDeps(ctx, 'create').readFingerprint()).components;
      } catch {
        components = undefined;
      }
      const proof = await signDeviceProof({
        deviceKey: key,
        licenseToken: verified.text,
        deviceId,
        ...(components === undefined ? {} : { components }),
        nowMs: ctx.clock.nowMs(),
      });
      const answer = await createServerClient(link.apiUrl).deactivate(proof.text);
      if (answer.ok) {
        store.licenseState.removeInstalledLicense(claims.jti, ctx.clock.nowMs());
        const status = await evaluateLicense(licenseServiceDeps(ctx, 'create'));
        return report(io, json, {
          deactivated: true,
          via: 'online',
          licenseId: claims.sub,
          deviceId,
          revocationVersion: answer.value.revocationVersion,
          file: null,
          serverProblem: null,
          status,
        });
      }
      if (classifyServerFailure(answer.failure).kind === 'refused') throw failureToError(answer.failure);
      if (out === null) {
        throw new KioskError(
          answer.failure.code === 'SERVER_ERROR' ? 'SERVER_ERROR' : 'SERVER_UNREACHABLE',
          `${answer.failure.message}; the license is kept. To deactivate without the server, run "kiosk-agent deactivate --out FILE" and give FILE to the vendor`,
        );
      }
      serverProblem = answer.failure.message;
    } else {
      if (out === null) {
        throw new KioskError('USAGE', 'this license was installed offline (no server link): run "kiosk-agent deactivate --out FILE" and give FILE to the vendor');
      }
      serverProblem = 'the license was installed offline (no server link)';
    }

    // Offline: the evidence first (temp file, fsync, rename), then the license goes.
    const doc = await signDeactivation({ deviceKey: key, licenseToken: verified.text, deviceId, nowMs: ctx.clock.nowMs() });
    writeFileAtomic(out, `${doc.text}\n`, 0o600);
    store.licenseState.removeInstalledLicense(claims.jti, ctx.clock.nowMs());
    const status = await evaluateLicense(licenseServiceDeps(ctx, 'create'));
    return report(io, json, {
      deactivated: true,
      via: 'offline',
      licenseId: claims.sub,
      deviceId,
      revocationVersion: null,
      file: out,
      serverProblem,
      status,
    });
  },
};

function report(io: { stdout(t: string): void }, json: boolean, r: DeactivationReport): number {
  if (json) {
    io.stdout(JSON.stringify(r, null, 2));
    return 0;
  }
  const mode = `mode now ${r.status.mode}${r.status.mode === 'trial' ? ` (${r.status.trial.daysLeft} trial days left)` : ''}`;
  if (r.via === 'online') {
    io.stdout(
      `Deactivated: the license server freed the seat of device ${r.deviceId} on license ${r.licenseId}` +
        `${r.revocationVersion === null ? '' : ` (revocation list version ${r.revocationVersion})`}; the local license is removed; ${mode}.`,
    );
  } else {
    io.stdout(
      `Deactivated offline (${r.serverProblem}): wrote the signed deactivation file ${r.file}; the local license is removed; ${mode}.\n` +
        'The seat is freed once the vendor uploads the file to the license server.',
    );
  }
  return 0;
}
