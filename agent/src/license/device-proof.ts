// Documents the device signs with its device key (common/device-api.ts): the device proof
// (typ kiosk-device-proof+jwt) that authenticates a refresh and an online deactivation — and
// later the MQTT password (DESIGN §4.5) — and the offline deactivation file
// (typ kiosk-deactivation+jwt). Header `{ alg: "ES256", typ, kid: jkt }`: the server finds the
// key by the token's `cnf.jkt`, so a copied license token alone opens nothing.
// The claims are checked against their schema before signing: the agent never signs a document
// the server would have to refuse for its shape.
import { randomBytes } from 'node:crypto';
import { CompactSign } from 'jose';
import type { z } from 'zod';
import {
  deactivationClaimsSchema,
  deviceProofClaimsSchema,
  MAX_PROOF_LIFETIME_S,
  SERVER_AUDIENCE,
  type DeactivationClaims,
  type DeviceProofClaims,
} from '../../../common/device-api.ts';
import { KioskError } from '../../../common/errors.ts';
import { DOCUMENT_TYPES, SIGNING_ALG } from '../../../common/license-token.ts';
import type { DeviceKey } from './device-key.ts';

/** How long a proof is valid by default: long enough for a slow link, far below the maximum. */
export const DEFAULT_PROOF_LIFETIME_S = 120;

/** A random, single-use id (16 random bytes, base64url: 22 characters); injected in tests. */
export type ProofIdSource = () => string;
export const randomProofId: ProofIdSource = () => randomBytes(16).toString('base64url');

export interface DeviceProofInput {
  readonly deviceKey: Pick<DeviceKey, 'privateKey' | 'jkt'>;
  /** The installed license token (compact JWS), carried as `lic`. */
  readonly licenseToken: string;
  /** The device id of record: the token's `device.id`. */
  readonly deviceId: string;
  /** The fingerprint hashes read now (omitted when they could not be read). */
  readonly components?: Readonly<Record<string, string>>;
  readonly nowMs: number;
  /** Seconds, 1 … MAX_PROOF_LIFETIME_S; default DEFAULT_PROOF_LIFETIME_S. */
  readonly lifetimeS?: number;
  readonly newId?: ProofIdSource;
}

export interface SignedDocument<C> {
  /** The compact JWS. Secret-ish: never logged. */
  readonly text: string;
  readonly claims: C;
}

/** Signs a device proof (refresh, online deactivation, MQTT password). */
export async function signDeviceProof(input: DeviceProofInput): Promise<SignedDocument<DeviceProofClaims>> {
  const lifetimeS = input.lifetimeS ?? DEFAULT_PROOF_LIFETIME_S;
  if (!Number.isInteger(lifetimeS) || lifetimeS < 1 || lifetimeS > MAX_PROOF_LIFETIME_S) {
    throw new KioskError('INTERNAL', `a device proof lives 1 to ${MAX_PROOF_LIFETIME_S} s, not ${lifetimeS}`);
  }
  const iat = Math.floor(input.nowMs / 1000);
  const claims = checked(deviceProofClaimsSchema, {
    iss: input.deviceId,
    aud: SERVER_AUDIENCE,
    iat,
    exp: iat + lifetimeS,
    jti: (input.newId ?? randomProofId)(),
    lic: input.licenseToken.trim(),
    ...(input.components === undefined ? {} : { components: { ...input.components } }),
  }, 'device proof');
  return { text: await sign(DOCUMENT_TYPES.deviceProof, claims, input.deviceKey), claims };
}

export interface DeactivationInput {
  readonly deviceKey: Pick<DeviceKey, 'privateKey' | 'jkt'>;
  readonly licenseToken: string;
  readonly deviceId: string;
  readonly nowMs: number;
  readonly newId?: ProofIdSource;
}

/** Signs the offline deactivation document (`deactivate --out FILE`): no expiry, it is evidence. */
export async function signDeactivation(input: DeactivationInput): Promise<SignedDocument<DeactivationClaims>> {
  const claims = checked(deactivationClaimsSchema, {
    iss: input.deviceId,
    aud: SERVER_AUDIENCE,
    iat: Math.floor(input.nowMs / 1000),
    jti: (input.newId ?? randomProofId)(),
    lic: input.licenseToken.trim(),
    action: 'deactivate',
  }, 'deactivation document');
  return { text: await sign(DOCUMENT_TYPES.deactivation, claims, input.deviceKey), claims };
}

function checked<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new KioskError('INTERNAL', `the ${what} does not pass its schema (${first?.path.join('.') || 'claims'}: ${first?.message ?? 'invalid'})`);
  }
  return parsed.data;
}

async function sign(typ: string, claims: object, key: Pick<DeviceKey, 'privateKey' | 'jkt'>): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: SIGNING_ALG, typ, kid: key.jkt })
    .sign(key.privateKey);
}
