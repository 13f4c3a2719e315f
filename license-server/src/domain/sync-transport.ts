// The server's ingest and publish side of sync (DESIGN §6): one interface, one implementation
// per broker engine — the embedded aedes broker (in-process, broker/embedded-transport.ts) and
// an outside MQTT broker through mqtt.js (broker/mqtt-transport.ts) — all passing
// test/contract/sync-transport.contract.ts. QoS 1 only, never QoS 2.

/** Who sent a device message: from the authenticated session (embedded broker), or from the
 * topic when an outside broker's ACL guarantees that a device publishes only under its own. */
export interface DeviceIdentity {
  readonly tenant: string;
  readonly deviceId: string;
  /** The session may only upload orders it took (revoked or expired; broker-access.ts). */
  readonly ordersOnly: boolean;
}

export type InboundKind = 'deviceOrders' | 'deviceReq' | 'deviceStatus';

export interface InboundMessage {
  readonly kind: InboundKind;
  readonly identity: DeviceIdentity;
  readonly topic: string;
  /** Raw bytes: `unknown` until decodeSyncMessage accepts them. */
  readonly payload: Buffer;
  /** A retained message delivered on subscription (a status seen before we subscribed). */
  readonly retained: boolean;
}

/** Handles one message; messages of one device arrive one at a time, in order. */
export type InboundHandler = (message: InboundMessage) => Promise<void>;

export interface PublishOptions {
  /** Retained (catalog head, revocations). */
  readonly retain?: boolean;
}

export interface SyncTransport {
  /** Which engine (logs, metrics). */
  readonly kind: 'embedded' | 'mqtt';
  /**
   * Starts delivering the devices' orders, requests and status of every tenant to `handler`.
   * Resolves once the subscriptions are in place. Call once.
   */
  consume(handler: InboundHandler): Promise<void>;
  /** QoS 1; resolves when the broker has the message (embedded: when it was routed). */
  publish(topic: string, payload: string | Buffer, options?: PublishOptions): Promise<void>;
  /** Stops consuming and releases the connection; messages in hand are finished first. */
  close(): Promise<void>;
}
