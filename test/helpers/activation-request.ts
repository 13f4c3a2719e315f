// Builds activation requests the way an agent does (common/fingerprint.ts hashing, a P-256
// device key, computeDeviceId) without depending on the agent's code.
import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { computeDeviceId, fingerprintKey, hashComponent } from '../../common/fingerprint.ts';
import type { ActivationRequest } from '../../common/license-token.ts';

export interface FakeDevice {
  /** Raw component values (as the agent reads them). */
  readonly raw: Readonly<Record<string, string>>;
  readonly virtualization?: string | null;
  readonly container?: string | null;
}

/** A physical x64 box: every component readable. `n` makes each one distinct. */
export function physicalDevice(n: number | string): FakeDevice {
  return {
    raw: {
      dmi_uuid: `4c4c4544-0000-1000-8000-${String(n).padStart(12, '0')}`,
      board_serial: `BOARD-${n}`,
      product_serial: `PRODUCT-${n}`,
      storage_id: `DISK-${n}`,
      mac: `00:1b:21:00:00:${String(n).padStart(2, '0')}`,
      machine_id: `machine-${n}`,
    },
  };
}

export function hashComponents(issuer: string, raw: Readonly<Record<string, string>>): Record<string, string> {
  const key = fingerprintKey(issuer);
  return Object.fromEntries(Object.entries(raw).map(([name, value]) => [name, hashComponent(key, name, value)]));
}

/** A request as `kiosk-agent fingerprint --json` prints it, with a fresh device key. */
export async function makeActivationRequest(issuer: string, device: FakeDevice): Promise<ActivationRequest> {
  const components = hashComponents(issuer, device.raw);
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { x, y } = publicKey.export({ format: 'jwk' });
  const devicePublicKey = { kty: 'EC' as const, crv: 'P-256' as const, x: x ?? '', y: y ?? '' };
  return {
    type: 'kiosk-activation-request',
    v: 1,
    issuer,
    deviceId: computeDeviceId(components),
    components,
    devicePublicKey,
    jkt: await calculateJwkThumbprint(devicePublicKey, 'sha256'),
    platform: { arch: 'x64', virtualization: device.virtualization ?? null, container: device.container ?? null },
    agentVersion: '0.1.0-test',
    createdAt: new Date(0).toISOString(),
  };
}
