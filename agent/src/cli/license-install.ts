// `kiosk-agent license install FILE|-`: offline activation or renewal. Verifies the token and
// decides it against this device now; only a token that is usable (licensed or grace) is
// installed, in one transaction. On refusal: exit 3, `error CODE: message`, the old license kept.
import type { CommandSpec } from '../../../common/cli.ts';
import { MAX_TOKEN_BYTES } from '../../../common/license-token.ts';
import { readFileCapped } from '../../../common/read-capped.ts';
import { licenseServiceDeps, type AgentContext } from '../app.ts';
import { installLicense, type LicenseStatus } from '../license/license-service.ts';
import { printWarnings } from './license-status.ts';

export const licenseInstallCommand: CommandSpec<AgentContext> = {
  name: 'license install',
  summary: 'install a license token from FILE (or - for stdin): offline activation or renewal',
  args: 'FILE',
  minArgs: 1,
  maxArgs: 1,
  async run({ io, json, positionals }, ctx) {
    const source = positionals[0] ?? '-';
    // Read one byte more than allowed: the verifier refuses an oversized token before parsing it.
    const text = source === '-' ? await readStdinCapped(MAX_TOKEN_BYTES + 1) : readFileCapped(source, MAX_TOKEN_BYTES).bytes.toString('utf8');
    const { outcome, status } = await installLicense(licenseServiceDeps(ctx, 'create'), text);
    if (json) io.stdout(JSON.stringify(status, null, 2));
    else {
      io.stdout(installSummary(outcome, status));
      printWarnings(io, status);
    }
    return 0;
  },
};

export function installSummary(outcome: 'installed' | 'unchanged', s: LicenseStatus): string {
  const head = outcome === 'installed' ? 'License installed' : 'This license token is installed already';
  const grace = s.mode === 'grace' ? ` (the token has expired; honoured until ${s.graceEndsAt ?? '-'}: renew it)` : '';
  return (
    `${head}: mode ${s.mode}${grace}; tenant ${s.tenant ?? '-'}; license ${s.licenseId ?? '-'}; ` +
    `features ${s.features.join(', ') || '-'}; token expires ${s.tokenExpiresAt ?? '-'}; ` +
    `license expires ${s.licenseExpiresAt ?? '-'}; device ${s.deviceId ?? '-'}.`
  );
}


async function readStdinCapped(maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    chunks.push(b);
    total += b.length;
    if (total >= maxBytes) break;
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}
