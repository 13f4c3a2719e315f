// Checks an activation request (what `kiosk-agent fingerprint --json` prints) before it can
// take a seat: the shape, the vendor it was made for, and that its ids are derived from its own
// contents (deviceId from the components, jkt from the device key). Pure.
import { KioskError } from '../../../common/errors.ts';
import { computeDeviceId, hasStrongComponent } from '../../../common/fingerprint.ts';
import { activationRequestSchema, type ActivationRequest } from '../../../common/license-token.ts';
import type { DeviceKeyThumbprint } from './deps.ts';
import type { DevicePublicJwk } from './server-storage.ts';

export interface CheckedActivationRequest {
  readonly request: ActivationRequest;
  readonly devicePublicJwk: DevicePublicJwk;
  /** Why the device counts as virtual (a license policy decides), or null for real hardware. */
  readonly virtualReason: string | null;
}

const HOW_TO = 'make it with "kiosk-agent fingerprint --json" on the device';

export async function checkActivationRequest(value: unknown, issuer: string, thumbprint: DeviceKeyThumbprint): Promise<CheckedActivationRequest> {
  const parsed = activationRequestSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first?.path.length ? first.path.join('.') : 'the document';
    invalid(`the activation request is not valid (${where}: ${first?.message ?? 'invalid'}); ${HOW_TO}`);
  }
  const request = parsed.data;
  if (request.issuer !== issuer) {
    invalid(`the activation request was made for another vendor's key set (issuer ${request.issuer}, this server is ${issuer}); make it with an agent that trusts this server's keys`);
  }
  if (Object.keys(request.components).length === 0) invalid(`the activation request carries no hardware components; ${HOW_TO}`);
  if (computeDeviceId(request.components) !== request.deviceId) {
    invalid('the activation request\'s deviceId does not belong to its components (edited or corrupted request)');
  }
  const devicePublicJwk: DevicePublicJwk = {
    kty: 'EC',
    crv: 'P-256',
    x: request.devicePublicKey.x,
    y: request.devicePublicKey.y,
  };
  const jkt = await thumbprint(devicePublicJwk);
  if (jkt === null) invalid('the activation request\'s devicePublicKey is not a P-256 public key');
  if (jkt !== request.jkt) {
    invalid('the activation request\'s jkt is not the thumbprint of its devicePublicKey (edited or corrupted request)');
  }
  return { request, devicePublicJwk, virtualReason: virtualReason(request) };
}

/**
 * A VM or container offers only clone-identical facts (DESIGN §4.3). Also counted as virtual: a
 * request with nothing but machine_id, which a copied disk image reproduces.
 */
export function virtualReason(request: ActivationRequest): string | null {
  if (request.platform.virtualization !== null) return `virtual machine (${request.platform.virtualization})`;
  if (request.platform.container !== null) return `container (${request.platform.container})`;
  if (!hasStrongComponent(request.components)) return 'only machine_id is readable (no hardware identity)';
  return null;
}

function invalid(message: string): never {
  throw new KioskError('ACTIVATION_REQUEST_INVALID', message);
}
