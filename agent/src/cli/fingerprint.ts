// `kiosk-agent fingerprint [--json]` (DESIGN §4.1, §4.3): the device id, the component hashes and
// the device public key (made in the data dir on first use). With --json: the activation request
// document an installer carries to an air-gapped vendor. Warnings go to stderr either way.
import type { CommandSpec } from '../../../common/cli.ts';
import { componentSpec } from '../../../common/fingerprint.ts';
import { makeActivationRequest, type AgentContext } from '../app.ts';
import type { ActivationRequestDocument } from '../domain/fingerprint-request.ts';
import { deviceKeyPath } from '../license/device-key.ts';

export const fingerprintCommand: CommandSpec<AgentContext> = {
  name: 'fingerprint',
  summary: 'device id, component hashes and device public key: the activation request (--json)',
  maxArgs: 0,
  async run({ io, json }, ctx) {
    const request = await makeActivationRequest(ctx);
    for (const w of request.warnings) io.stderr(`warning: ${w}`);
    io.stdout(json ? JSON.stringify(request, null, 2) : summary(request, deviceKeyPath(ctx.config.dataDir)));
    return 0;
  },
};

function summary(r: ActivationRequestDocument, keyFile: string): string {
  const names = Object.keys(r.components).sort();
  const width = Math.max(14, ...names.map((n) => n.length));
  const rows = names.map((n) => {
    const spec = componentSpec(n);
    return `  ${n.padEnd(width)}  ${r.components[n]}  weight ${spec.weight}${spec.anchor ? ' (anchor)' : ''}`;
  });
  const p = r.platform;
  return [
    `device id     ${r.deviceId}`,
    `issuer        ${r.issuer}`,
    `platform      ${p.arch}, virtualization ${p.virtualization ?? 'none'}, container ${p.container ?? 'none'}`,
    `components    ${names.length === 0 ? '(none readable)' : ''}`.trimEnd(),
    ...rows,
    `device key    jkt ${r.jkt}`,
    `              ${keyFile}`,
  ].join('\n');
}
