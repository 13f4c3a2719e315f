// SyncTransport on the embedded broker, in-process: device messages are taken from aedes's
// publish events with the SESSION identity of the client that sent them (authorizePublish has
// already held the topic to that identity), and the server publishes through aedes directly —
// no socket, no password: internal clients bypass device authentication by construction.
import type { Client } from 'aedes';
import { createKeyedQueue } from '../domain/keyed-queue.ts';
import type { DeviceIdentity, InboundHandler, SyncTransport } from '../domain/sync-transport.ts';
import type { EmbeddedBroker } from './embedded-broker.ts';
import { inboundTopic } from './inbound-topics.ts';

export function createEmbeddedTransport(broker: EmbeddedBroker<DeviceIdentity>, onError: (err: unknown) => void = () => undefined): SyncTransport {
  const queue = createKeyedQueue(onError);
  let listener: ((packet: { topic: string; payload: Buffer | string; retain?: boolean }, client: Client | null) => void) | undefined;
  return {
    kind: 'embedded',
    async consume(handler: InboundHandler) {
      if (listener) throw new Error('consume() was called already');
      listener = (packet, client) => {
        if (client === null) return; // our own publishes
        const target = inboundTopic(packet.topic);
        const session = broker.sessionOf(client);
        if (!target || !session) return;
        const identity: DeviceIdentity = { tenant: session.tenant, deviceId: session.deviceId, ordersOnly: session.ordersOnly };
        const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
        queue.push(`${identity.tenant}/${identity.deviceId}`, () =>
          handler({ kind: target.kind, identity, topic: packet.topic, payload, retained: false }),
        );
      };
      broker.aedes.on('publish', listener);
    },
    publish(topic, payload, options = {}) {
      return new Promise<void>((resolve, reject) => {
        broker.aedes.publish(
          { cmd: 'publish', topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos: 1, retain: options.retain === true, dup: false },
          (err) => (err ? reject(err) : resolve()),
        );
      });
    },
    async close() {
      if (listener) broker.aedes.off('publish', listener);
      listener = undefined;
      await queue.idle();
    },
  };
}
