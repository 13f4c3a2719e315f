// The SyncTransport contract on an outside broker: Mosquitto 2.0 on 127.0.0.1:1883 (.ci/run
// installs and starts it), through mqtt.js — MQTT 5 with $share subscriptions, and 3.1.1 with
// plain ones. Anonymous here: with an outside broker the per-device ACL is the broker's job.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMqttTransport } from '../../license-server/src/broker/mqtt-transport.ts';
import { connectTestClient, MOSQUITTO_URL } from '../helpers/mqtt-device.ts';
import { describeSyncTransportContract } from './sync-transport.contract.ts';

for (const protocolVersion of [5, 4] as const) {
  describeSyncTransportContract(`Mosquitto via mqtt.js, MQTT ${protocolVersion === 5 ? '5 ($share)' : '3.1.1'}`, async () => {
    // A group of its own per test, and sessions that end soon: leftover members of a shared
    // group would take their share of the messages.
    const transport = await createMqttTransport({
      url: MOSQUITTO_URL,
      protocolVersion,
      clientId: `contract-${randomBytes(6).toString('hex')}`,
      shareGroup: `contract-${randomBytes(6).toString('hex')}`,
      ...(protocolVersion === 5 ? { sessionExpiryS: 30 } : { persistentSession: false }),
    });
    return {
      transport,
      device: (_tenant, deviceId) => connectTestClient(MOSQUITTO_URL, { clientId: deviceId, clean: true }),
      cutTransportConnection: () => transport.client.stream.destroy(),
      async dispose() {
        await transport.close();
      },
    };
  });
}

describe('mqtt transport', () => {
  it('speaks MQTT 5 to Mosquitto by default (shared subscriptions)', async () => {
    const transport = await createMqttTransport({ url: MOSQUITTO_URL, clientId: `contract-${randomBytes(6).toString('hex')}`, persistentSession: false });
    try {
      expect(transport.protocolVersion).toBe(5);
    } finally {
      await transport.close();
    }
  });
});
