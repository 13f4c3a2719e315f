import { describe, expect, it } from 'vitest';
import type { KioskError } from '../../../common/errors.ts';
import { computeDeviceId } from '../../../common/fingerprint.ts';
import { checkActivationRequest as check } from '../../../license-server/src/domain/activation-request.ts';
import { deviceKeyThumbprint } from '../../../license-server/src/signing/device-key.ts';
import { hashComponents, makeActivationRequest, physicalDevice } from '../../helpers/activation-request.ts';

const ISSUER = 'urn:kiosk:vendor:0011223344';
const checkActivationRequest = (value: unknown, issuer: string) => check(value, issuer, deviceKeyThumbprint);

async function refusal(value: unknown, issuer = ISSUER): Promise<string> {
  try {
    await checkActivationRequest(value, issuer);
  } catch (err) {
    expect((err as KioskError).code).toBe('ACTIVATION_REQUEST_INVALID');
    return (err as KioskError).message;
  }
  throw new Error('accepted');
}

describe('activation request checks', () => {
  it('accept a well-made request from real hardware', async () => {
    const request = await makeActivationRequest(ISSUER, physicalDevice(1));
    const checked = await checkActivationRequest(JSON.parse(JSON.stringify(request)), ISSUER);
    expect(checked.request.deviceId).toBe(request.deviceId);
    expect(checked.devicePublicJwk).toEqual(request.devicePublicKey);
    expect(checked.virtualReason).toBeNull();
  });

  it('take the thumbprint as jose computes it (RFC 7638), and refuse a point off the curve', async () => {
    const request = await makeActivationRequest(ISSUER, physicalDevice(2));
    expect(await deviceKeyThumbprint(request.devicePublicKey)).toBe(request.jkt);
    expect(await deviceKeyThumbprint({ ...request.devicePublicKey, y: request.devicePublicKey.x })).toBeNull();
  });

  it('refuse what is not a request, with a hint how to make one', async () => {
    expect(await refusal(null)).toMatch(/not valid .*kiosk-agent fingerprint --json/);
    expect(await refusal({ type: 'something-else' })).toMatch(/type/);
    const request = await makeActivationRequest(ISSUER, physicalDevice(3));
    expect(await refusal({ ...request, deviceId: 'nothex' })).toMatch(/deviceId/);
  });

  it('refuse a request made for another vendor\'s key set', async () => {
    const request = await makeActivationRequest('urn:kiosk:vendor:other', physicalDevice(1));
    expect(await refusal(request)).toMatch(/another vendor's key set/);
  });

  it('refuse a device id or jkt that does not belong to the request', async () => {
    const request = await makeActivationRequest(ISSUER, physicalDevice(1));
    const other = await makeActivationRequest(ISSUER, physicalDevice(2));
    expect(await refusal({ ...request, deviceId: other.deviceId })).toMatch(/deviceId does not belong/);
    expect(await refusal({ ...request, jkt: other.jkt })).toMatch(/jkt is not the thumbprint/);
    // swapped components without a new device id
    expect(await refusal({ ...request, components: other.components })).toMatch(/deviceId does not belong/);
    expect(await refusal({ ...request, devicePublicKey: { ...request.devicePublicKey, x: other.devicePublicKey.y } })).toMatch(/P-256|thumbprint/);
    expect(await refusal({ ...request, components: {}, deviceId: computeDeviceId({}) })).toMatch(/no hardware components/);
  });

  it('count VMs, containers and machine_id-only devices as virtual', async () => {
    const vm = await makeActivationRequest(ISSUER, { ...physicalDevice(1), virtualization: 'kvm' });
    expect((await checkActivationRequest(vm, ISSUER)).virtualReason).toMatch(/virtual machine \(kvm\)/);
    const ct = await makeActivationRequest(ISSUER, { ...physicalDevice(1), container: 'docker' });
    expect((await checkActivationRequest(ct, ISSUER)).virtualReason).toMatch(/container \(docker\)/);
    const weak = await makeActivationRequest(ISSUER, { raw: { machine_id: 'm-1' } });
    expect((await checkActivationRequest(weak, ISSUER)).virtualReason).toMatch(/only machine_id/);
    expect(hashComponents(ISSUER, { machine_id: 'm-1' })).toEqual(weak.components);
  });

  it('is a usage-class refusal (exit code 2)', async () => {
    await expect(checkActivationRequest({}, ISSUER)).rejects.toThrow(expect.objectContaining({ code: 'ACTIVATION_REQUEST_INVALID', exitCode: 2 }));
  });
});
