// The license token contract (DESIGN §4.2, pinned in docs/license-format.md) and the other
// signed document types. Pure: schemas and constants only; signing lives in the license server,
// verification in the agent.
import { z } from 'zod';
import { COMPONENT_HASH_PATTERN, DEVICE_ID_PATTERN } from './fingerprint.ts';

/** Every signed document type has its own `typ`; a verifier requires the exact one it expects. */
export const DOCUMENT_TYPES = {
  license: 'kiosk-license+jwt',
  revocationList: 'kiosk-revocations+jwt',
  deviceProof: 'kiosk-device-proof+jwt',
  deactivation: 'kiosk-deactivation+jwt',
} as const;
export type DocumentKind = keyof typeof DOCUMENT_TYPES;

export const SIGNING_ALG = 'ES256';
export const LICENSE_AUDIENCE = 'kiosk-agent';
/** A license token is a few KB; anything far larger is refused before parsing. */
export const MAX_TOKEN_BYTES = 16 * 1024;

/** Tenant and device ids appear in MQTT topics: `[A-Za-z0-9_-]` only (DESIGN §4.5, §6). */
export const TENANT_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const FEATURE_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
export const ISSUER_PATTERN = /^[A-Za-z0-9_.:/-]{1,128}$/;

const seconds = z.number().int().nonnegative();

export const deviceBindingSchema = z.strictObject({
  v: z.literal(1),
  id: z.string().regex(DEVICE_ID_PATTERN),
  components: z.record(z.string().regex(/^[a-z0-9_]{1,32}$/), z.string().regex(COMPONENT_HASH_PATTERN)),
});
export type DeviceBinding = z.infer<typeof deviceBindingSchema>;

export const licenseClaimsSchema = z
  .object({
    iss: z.string().regex(ISSUER_PATTERN),
    aud: z.literal(LICENSE_AUDIENCE),
    sub: z.string().min(1).max(64),
    jti: z.string().min(1).max(64),
    iat: seconds,
    nbf: seconds,
    exp: seconds,
    lexp: seconds,
    tenant: z.string().regex(TENANT_PATTERN),
    features: z.array(z.string().regex(FEATURE_PATTERN)).max(256),
    grace: seconds,
    device: deviceBindingSchema,
    cnf: z.strictObject({ jkt: z.string().regex(/^[A-Za-z0-9_-]{43}$/) }),
  })
  .refine((c) => c.lexp >= c.exp, { message: 'lexp must not be before exp', path: ['lexp'] })
  .refine((c) => c.nbf <= c.exp, { message: 'nbf must not be after exp', path: ['nbf'] });
export type LicenseClaims = z.infer<typeof licenseClaimsSchema>;

/**
 * The activation request: what `kiosk-agent fingerprint --json` prints and what
 * `license-server activate-offline --request FILE` and `POST /v1/activations` take.
 * Raw serials never appear; only the keyed component hashes.
 */
export const activationRequestSchema = z.object({
  type: z.literal('kiosk-activation-request'),
  v: z.literal(1),
  issuer: z.string().regex(ISSUER_PATTERN),
  deviceId: z.string().regex(DEVICE_ID_PATTERN),
  components: z.record(z.string().regex(/^[a-z0-9_]{1,32}$/), z.string().regex(COMPONENT_HASH_PATTERN)),
  devicePublicKey: z.object({ kty: z.literal('EC'), crv: z.literal('P-256'), x: z.string(), y: z.string() }),
  jkt: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  platform: z
    .object({
      arch: z.string().max(32),
      virtualization: z.string().max(64).nullable(),
      container: z.string().max(64).nullable(),
    })
    .passthrough(),
  agentVersion: z.string().max(64).optional(),
  createdAt: z.string().max(64).optional(),
});
export type ActivationRequest = z.infer<typeof activationRequestSchema>;
