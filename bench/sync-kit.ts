// The sync bench's kit: simulated devices (hardware, device keys, activation requests), their
// device proofs, and the small tools its measures share (percentiles, timeouts, polling, ports).
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { calculateJwkThumbprint, CompactSign } from 'jose';
import { SERVER_AUDIENCE } from '../common/device-api.ts';
import { computeDeviceId, fingerprintKey, hashComponent } from '../common/fingerprint.ts';
import { DOCUMENT_TYPES, type ActivationRequest } from '../common/license-token.ts';
import type { Sample } from './harness.ts';

export const ISSUER = 'urn:kiosk:vendor:bench-sync';

export interface Device {
  readonly deviceId: string;
  readonly jkt: string;
  readonly privateKey: KeyObject;
  readonly request: ActivationRequest;
  token: string;
  tenant: string;
}

// --- devices and proofs ---------------------------------------------------------------------------

export async function makeDevices(n: number, first: number, tenant: string): Promise<Device[]> {
  const key = fingerprintKey(ISSUER);
  const out: Device[] = [];
  for (let i = first; i < first + n; i++) {
    const components = Object.fromEntries(
      Object.entries({ dmi_uuid: `4c4c4544-0000-1000-8000-${String(i).padStart(12, '0')}`, board_serial: `SB-${i}`, storage_id: `SD-${i}`, mac: `02:00:01:${hex2(i >> 16)}:${hex2(i >> 8)}:${hex2(i)}`, machine_id: `sm-${i}` }).map(([name, v]) => [name, hashComponent(key, name, v)]),
    );
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { x, y } = publicKey.export({ format: 'jwk' });
    const devicePublicKey = { kty: 'EC' as const, crv: 'P-256' as const, x: x ?? '', y: y ?? '' };
    const deviceId = computeDeviceId(components);
    const jkt = await calculateJwkThumbprint(devicePublicKey, 'sha256');
    out.push({ deviceId, jkt, privateKey, token: '', tenant, request: { type: 'kiosk-activation-request', v: 1, issuer: ISSUER, deviceId, components, devicePublicKey, jkt, platform: { arch: 'x64', virtualization: null, container: null }, agentVersion: '0.1.0-bench' } });
  }
  return out;
}

const hex2 = (n: number): string => (n & 0xff).toString(16).padStart(2, '0');

/** The device proof: a fresh compact JWS (typ kiosk-device-proof+jwt) carrying the license token. */
export function proof(d: Device): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  const claims = { iss: d.deviceId, aud: SERVER_AUDIENCE, iat, exp: iat + 120, jti: randomBytes(12).toString('hex'), lic: d.token };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader({ alg: 'ES256', typ: DOCUMENT_TYPES.deviceProof, kid: d.jkt }).sign(d.privateKey);
}

// --- helpers -------------------------------------------------------------------------------------

export function sampleOf(latencies: number[], opsPerSec: number): Sample {
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  return { opsPerSec, p50Ms: pct(50), p99Ms: pct(99), n: latencies.length };
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)))]).finally(() => clearTimeout(timer));
}

export async function poll(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
