// SyncTransport on an outside MQTT broker (Mosquitto, EMQX …) through mqtt.js. MQTT 5 first,
// with `$share/kiosk-ingest/…` shared subscriptions for orders and requests (several server
// replicas split the work); a broker that refuses MQTT 5 gets 3.1.1 and plain subscriptions.
// Status stays a plain subscription (retained messages never go to shared subscribers).
// Identity comes from the topic: with an outside broker, its ACL is what guarantees that a
// device publishes only under kiosk/v1/{its tenant}/devices/{its id}/ (docs/sync-protocol.md
// §2; docs/operations.md: Mosquitto's dynamic-security plugin or an auth plugin).
// mqtt.js pitfalls (sync-anchors §6): our own publish timeout (#1974); explicit resubscribe
// when the session is gone (#1157); the in-memory store only — the devices resend without an ack.
import { randomBytes } from 'node:crypto';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { createKeyedQueue } from '../domain/keyed-queue.ts';
import type { InboundHandler, SyncTransport } from '../domain/sync-transport.ts';
import { inboundTopic } from './inbound-topics.ts';

export const SHARE_GROUP = 'kiosk-ingest';
export const DEFAULT_PUBLISH_TIMEOUT_MS = 10_000;

export interface MqttTransportOptions {
  readonly url: string;
  /** Stable per server replica (a persistent session); default random. */
  readonly clientId?: string;
  readonly username?: string;
  readonly password?: string;
  /** The shared-subscription group (MQTT 5); every replica of one deployment uses the same. */
  readonly shareGroup?: string;
  /** A persistent session (default true): queued messages survive a server restart. */
  readonly persistentSession?: boolean;
  /** MQTT 5 session expiry of a persistent session (default one day). */
  readonly sessionExpiryS?: number;
  /** Force a protocol (tests); default: 5, falling back to 4. */
  readonly protocolVersion?: 4 | 5;
  readonly publishTimeoutMs?: number;
  /** Extra mqtt.js options (TLS CA, …). */
  readonly extra?: IClientOptions;
  readonly onError?: (err: unknown) => void;
}

export interface MqttTransport extends SyncTransport {
  readonly protocolVersion: 4 | 5;
  /** The underlying client (tests cut its connection to prove the reconnect). */
  readonly client: MqttClient;
}

export async function createMqttTransport(options: MqttTransportOptions): Promise<MqttTransport> {
  const onError = options.onError ?? (() => undefined);
  const base: IClientOptions = {
    clientId: options.clientId ?? `kiosk-server-${randomBytes(6).toString('hex')}`,
    clean: options.persistentSession === false,
    keepalive: 30,
    reconnectPeriod: 1_000,
    connectTimeout: 10_000,
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
    ...options.extra,
  };
  let protocolVersion: 4 | 5 = options.protocolVersion ?? 5;
  let client: MqttClient;
  try {
    client = await connectAsync(options.url, { ...base, protocolVersion, ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: options.persistentSession === false ? 0 : (options.sessionExpiryS ?? 86_400) } } : {}) }, false);
  } catch (err) {
    if (options.protocolVersion !== undefined) throw err;
    protocolVersion = 4;
    client = await connectAsync(options.url, { ...base, protocolVersion }, false);
  }
  client.on('error', onError);

  const shared = (filter: string): string => (protocolVersion === 5 ? `$share/${options.shareGroup ?? SHARE_GROUP}/${filter}` : filter);
  const filters = [shared('kiosk/v1/+/devices/+/orders'), shared('kiosk/v1/+/devices/+/req'), 'kiosk/v1/+/devices/+/status'];
  const queue = createKeyedQueue(onError);
  let handler: InboundHandler | undefined;
  const subscribe = (): Promise<unknown> => client.subscribeAsync(filters, { qos: 1 });

  client.on('message', (topic, payload, packet) => {
    const target = inboundTopic(topic);
    if (!handler || !target) return;
    const h = handler;
    const identity = { tenant: target.tenant, deviceId: target.deviceId, ordersOnly: false };
    queue.push(`${target.tenant}/${target.deviceId}`, () => h({ kind: target.kind, identity, topic, payload, retained: packet.retain === true }));
  });
  client.on('connect', (connack) => {
    if (handler && !connack.sessionPresent) subscribe().catch(onError);
  });

  const publishTimeoutMs = options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
  return {
    kind: 'mqtt',
    protocolVersion,
    client,
    async consume(h) {
      if (handler) throw new Error('consume() was called already');
      handler = h;
      await subscribe();
    },
    publish(topic, payload, publishOptions = {}) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no PUBACK for ${topic} within ${publishTimeoutMs} ms`)), publishTimeoutMs);
        client.publish(topic, payload, { qos: 1, retain: publishOptions.retain === true }, (err) => {
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        });
      });
    },
    async close() {
      handler = undefined;
      await queue.idle();
      await client.endAsync();
    },
  };
}
