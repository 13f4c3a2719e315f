// The activation request document (common/license-token.ts activationRequestSchema): what
// `kiosk-agent fingerprint --json` prints, an installer carries to an air-gapped vendor, and
// online activation posts. Pure: every fact comes in as a parameter.
import type { ActivationRequest } from '../../../common/license-token.ts';

export interface ActivationRequestInput {
  readonly issuer: string;
  readonly deviceId: string;
  readonly components: Readonly<Record<string, string>>;
  readonly devicePublicKey: { readonly kty: 'EC'; readonly crv: 'P-256'; readonly x: string; readonly y: string };
  readonly jkt: string;
  readonly platform: { readonly arch: string; readonly virtualization: string | null; readonly container: string | null };
  readonly agentVersion: string;
  readonly createdAtMs: number;
  readonly warnings: readonly string[];
}

export type ActivationRequestDocument = ActivationRequest & { readonly warnings: readonly string[] };

export function buildActivationRequest(input: ActivationRequestInput): ActivationRequestDocument {
  const { kty, crv, x, y } = input.devicePublicKey;
  return {
    type: 'kiosk-activation-request',
    v: 1,
    issuer: input.issuer,
    deviceId: input.deviceId,
    components: { ...input.components },
    devicePublicKey: { kty, crv, x, y },
    jkt: input.jkt,
    platform: {
      arch: input.platform.arch,
      virtualization: input.platform.virtualization,
      container: input.platform.container,
    },
    agentVersion: input.agentVersion,
    createdAt: new Date(input.createdAtMs).toISOString(),
    warnings: [...input.warnings],
  };
}
