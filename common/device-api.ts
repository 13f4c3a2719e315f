// The device side of the license server's HTTP API (DESIGN §4.7) and the device-signed
// documents: the contract between `kiosk-agent activate | deactivate | run` and the server.
// Every body is `unknown` until one of these schemas decodes it; errors are
// `{ "error": { "code", "message" } }` with the status of common/errors.ts.
import { z } from 'zod';
import { activationRequestSchema } from './license-token.ts';
import { DEVICE_ID_PATTERN } from './fingerprint.ts';

export const DEVICE_API = {
  activations: '/v1/activations',
  refresh: '/v1/activations/refresh',
  deactivations: '/v1/deactivations',
  revocations: '/v1/revocations',
  jwks: '/.well-known/jwks.json',
} as const;

/** The audience of every document a device signs for the server. */
export const SERVER_AUDIENCE = 'kiosk-license-server';
/** A device proof is valid this long at most (exp − iat). */
export const MAX_PROOF_LIFETIME_S = 300;
/** Largest body the device endpoints accept. */
export const MAX_DEVICE_BODY_BYTES = 64 * 1024;

const compactJws = z.string().min(16).max(32 * 1024).regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/);

/** POST /v1/activations — online activation with the license key and the activation request. */
export const activationBodySchema = z.object({
  licenseKey: z.string().min(1).max(64),
  request: activationRequestSchema,
});
export type ActivationBody = z.infer<typeof activationBodySchema>;

/** 201 answer to an activation, and 200 answer to a refresh (apiUrl/mqttUrl also then). */
export const tokenResponseSchema = z.object({
  token: compactJws,
  /** Where the agent talks to the server from now on (persisted by the agent). */
  apiUrl: z.string().url(),
  /** The MQTT broker for sync (DESIGN §4.5). */
  mqttUrl: z.string().min(1).max(512),
  /** The server's clock (ms since the epoch): lets an RTC-less device trust its time. */
  serverTimeMs: z.number().int().nonnegative(),
});
export type TokenResponse = z.infer<typeof tokenResponseSchema>;

/**
 * A device proof (typ kiosk-device-proof+jwt), signed with the device key whose thumbprint is
 * the license token's `cnf.jkt`. The same document is the MQTT password (DESIGN §4.5): a
 * copied license token alone opens nothing. Header: `{ alg: "ES256", typ, kid: jkt }`.
 */
export const deviceProofClaimsSchema = z.object({
  /** The device id of record (the token's `device.id`). */
  iss: z.string().regex(DEVICE_ID_PATTERN),
  aud: z.literal(SERVER_AUDIENCE),
  iat: z.number().int().nonnegative(),
  exp: z.number().int().nonnegative(),
  /** Random, single use. */
  jti: z.string().min(16).max(64),
  /** The license token the device holds (may be past `exp`: a refresh renews it). */
  lic: compactJws,
  /** The device's current fingerprint hashes (optional: the server re-checks the binding). */
  components: z.record(z.string(), z.string()).optional(),
});
export type DeviceProofClaims = z.infer<typeof deviceProofClaimsSchema>;

/** POST /v1/activations/refresh and POST /v1/deactivations. */
export const proofBodySchema = z.object({ proof: compactJws });
export type ProofBody = z.infer<typeof proofBodySchema>;

export const deactivationResponseSchema = z.object({
  deactivated: z.literal(true),
  licenseId: z.string(),
  deviceId: z.string(),
  /** The revocation list version that lists the device. */
  revocationVersion: z.number().int().nonnegative(),
});
export type DeactivationResponse = z.infer<typeof deactivationResponseSchema>;

/**
 * The offline deactivation file (typ kiosk-deactivation+jwt), written by
 * `kiosk-agent deactivate --out FILE` when the server cannot be reached and uploaded by the
 * vendor. Claims as a device proof, without an expiry: it is evidence that the device gave up
 * its seat at `iat` (the agent removes its license when writing it).
 */
export const deactivationClaimsSchema = deviceProofClaimsSchema.omit({ exp: true, components: true }).extend({
  action: z.literal('deactivate'),
});
export type DeactivationClaims = z.infer<typeof deactivationClaimsSchema>;

/** GET /v1/revocations — the signed list (common/revocation-list.ts) and its version. */
export const revocationsResponseSchema = z.object({
  list: z.string().min(16).max(4 * 1024 * 1024),
  version: z.number().int().nonnegative(),
});
export type RevocationsResponse = z.infer<typeof revocationsResponseSchema>;

export const errorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
