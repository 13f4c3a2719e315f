// `kiosk-agent license status [--json]`: mode, reason, features, token and license expiry,
// device id, trial and clock. Exit 0 for licensed/grace, 3 otherwise; the status is printed
// either way (with --json it is the status document, not an error object). Never creates the
// data dir, the database or the device key.
import type { CliIO, CommandSpec } from '../../../common/cli.ts';
import { licenseServiceDeps, type AgentContext } from '../app.ts';
import { evaluateLicense, isUsableMode, type LicenseStatus } from '../license/license-service.ts';

export const licenseStatusCommand: CommandSpec<AgentContext> = {
  name: 'license status',
  summary: 'show the license mode, reason, features, expiry, device id, trial and clock',
  maxArgs: 0,
  async run({ io, json }, ctx) {
    const status = await evaluateLicense(licenseServiceDeps(ctx, 'existing'));
    if (json) io.stdout(JSON.stringify(status, null, 2));
    else {
      io.stdout(formatLicenseStatus(status));
      for (const w of status.warnings) io.stderr(`warning: ${w}`);
    }
    return isUsableMode(status.mode) ? 0 : 3;
  },
};

const orDash = (v: string | null): string => v ?? '-';

export function formatLicenseStatus(s: LicenseStatus): string {
  const trial =
    s.trial.startedAt === null
      ? `${s.trial.daysLeft} days, not started (starts with the first run)`
      : `started ${s.trial.startedAt}, ends ${orDash(s.trial.endsAt)}, ${s.trial.daysLeft} days left`;
  return [
    `mode:             ${s.mode}`,
    `reason:           ${s.reason ?? '-'}${s.message ? ` (${s.message})` : ''}`,
    `features:         ${s.features.join(', ') || '-'}`,
    `tenant:           ${orDash(s.tenant)}`,
    `license id:       ${orDash(s.licenseId)}`,
    `token expires:    ${orDash(s.tokenExpiresAt)}`,
    `license expires:  ${orDash(s.licenseExpiresAt)}`,
    `grace ends:       ${orDash(s.graceEndsAt)}`,
    `device id:        ${orDash(s.deviceId)}`,
    `trial:            ${trial}; at most ${s.trial.maxOrdersPerDay} orders a day`,
    `clock:            ${s.clock.trusted ? `trusted (${s.clock.source})` : 'not trusted yet'}${s.clock.tampered ? ', SET BACK' : ''}; trusted floor ${s.clock.floor}`,
  ].join('\n');
}

/** Warnings (unreadable root-only files, an ignored revocation list …) go to stderr. */
export function printWarnings(io: CliIO, status: LicenseStatus): void {
  for (const w of status.warnings) io.stderr(`warning: ${w}`);
}
