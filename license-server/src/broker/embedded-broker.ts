// The embedded MQTT broker (aedes 1.x, MQTT 3.1.1) inside the license server: plain TCP, or TLS
// with the HTTP certificate. Devices authenticate through a BrokerAuthenticator (the session
// identity comes from the device proof; domain/broker-access.ts), and every publish and
// subscribe is checked against that identity — never against the topic. Live sessions are
// re-checked on demand (the wiring calls recheckSessions when the revocation list moves):
// a session that may no longer be full is dropped; it may reconnect orders-only.
// A second connect with a live client id: aedes closes the older session; we report a clone.
import { createServer as createNetServer, type AddressInfo, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { KioskError } from '../../../common/errors.ts';
import { mayPublish, mayReceive, maySubscribe } from '../domain/broker-access.ts';
import type { DeviceIdentity } from '../domain/sync-transport.ts';

/** Publishes larger than this close the connection at the broker (the decoder drops > 256 KiB). */
export const MAX_BROKER_PUBLISH_BYTES = 1024 * 1024;

export interface BrokerAuthenticator<S extends DeviceIdentity> {
  /** The session identity; throws (any error) to refuse the connect. */
  authenticate(connect: { readonly clientId: string; readonly username: string | undefined; readonly password: string }): Promise<S>;
  /** Null while a live session may stay, else the reason it must end. */
  recheck(session: S): Promise<string | null>;
}

export interface BrokerEvents<S extends DeviceIdentity> {
  /** A connect took over a live session of the same client id. */
  cloneSuspected?(session: S, previous: S | undefined): void;
  connected?(session: S): void;
  refused?(clientId: string, err: unknown): void;
  dropped?(session: S, reason: string): void;
}

export interface EmbeddedBrokerOptions<S extends DeviceIdentity> {
  readonly host: string;
  /** 0: any free port. */
  readonly port: number;
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  readonly authenticator: BrokerAuthenticator<S>;
  readonly events?: BrokerEvents<S>;
}

export interface EmbeddedBroker<S extends DeviceIdentity = DeviceIdentity> {
  readonly aedes: Aedes;
  readonly port: number;
  /** mqtt://host:port or mqtts://host:port, as bound. */
  readonly url: string;
  /** The session of a connected (or just disconnected) client. */
  sessionOf(client: Client): S | undefined;
  /** Re-checks every live session; drops those that may not stay. Returns how many were dropped. */
  recheckSessions(): Promise<number>;
  close(): Promise<void>;
}

export async function startEmbeddedBroker<S extends DeviceIdentity>(options: EmbeddedBrokerOptions<S>): Promise<EmbeddedBroker<S>> {
  const sessions = new WeakMap<Client, S>();
  const live = new Set<Client>();
  const { authenticator, events = {} } = options;
  const aedes = await Aedes.createBroker({
    // Every client id is a device id of 32 hex digits; the server's own side is in-process.
    maxClientsIdLength: 64,
    authenticate(client, username, password, done) {
      const refuse = (err: unknown, code: 4 | 5): void => {
        events.refused?.(client.id, err);
        const e = new Error(err instanceof Error ? err.message : 'refused') as AuthenticateError;
        e.returnCode = code as AuthenticateError['returnCode'];
        done(e, null);
      };
      if (password === undefined || password.length === 0 || password.length > 64 * 1024) return refuse(new KioskError('UNAUTHORIZED', 'no device proof'), 4);
      authenticator.authenticate({ clientId: client.id, username, password: password.toString('utf8') }).then(
        (session) => {
          const previous = liveClient(aedes, client.id);
          if (previous && previous !== client) events.cloneSuspected?.(session, sessions.get(previous));
          sessions.set(client, session);
          done(null, true);
        },
        (err: unknown) => refuse(err, 4),
      );
    },
    authorizePublish(client, packet, done) {
      if (client === null) return done(null); // the server's own (in-process) publishes
      const session = sessions.get(client);
      const size = typeof packet.payload === 'string' ? Buffer.byteLength(packet.payload) : packet.payload.length;
      if (!session || packet.qos > 1 || size > MAX_BROKER_PUBLISH_BYTES || !mayPublish(session, packet.topic, packet.retain === true)) {
        return done(new Error(`not authorized to publish on ${packet.topic.slice(0, 200)}`));
      }
      done(null);
    },
    authorizeForward(client, packet) {
      const session = sessions.get(client);
      return session && mayReceive(session, packet.topic) ? packet : null;
    },
    authorizeSubscribe(client, subscription, done) {
      const session = sessions.get(client);
      if (!session || !maySubscribe(session, subscription.topic)) return done(null, null);
      done(null, { ...subscription, qos: subscription.qos > 1 ? 1 : subscription.qos });
    },
  });
  aedes.on('clientReady', (client) => {
    live.add(client);
    const session = sessions.get(client);
    if (session) events.connected?.(session);
  });
  aedes.on('clientDisconnect', (client) => live.delete(client));

  const server: Server = options.tls ? createTlsServer({ cert: options.tls.cert, key: options.tls.key }, aedes.handle) : createNetServer(aedes.handle);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    const code = (err as NodeJS.ErrnoException).code;
    throw new KioskError(code === 'EADDRINUSE' ? 'IO_ERROR' : 'CONFIG_INVALID', `the embedded MQTT broker cannot listen on ${options.host}:${options.port}: ${code ?? String(err)}`, { cause: err });
  }
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  return {
    aedes,
    port,
    url: `${options.tls ? 'mqtts' : 'mqtt'}://${host}:${port}`,
    sessionOf: (client) => sessions.get(client),
    async recheckSessions() {
      let dropped = 0;
      for (const client of [...live]) {
        const session = sessions.get(client);
        if (!session) continue;
        const reason = await authenticator.recheck(session);
        if (reason === null || client.closed) continue;
        dropped += 1;
        events.dropped?.(session, reason);
        live.delete(client);
        client.close();
      }
      return dropped;
    },
    async close() {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function liveClient(aedes: Aedes, clientId: string): Client | undefined {
  const clients = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients;
  const client = clients[clientId];
  return client && !client.closed ? client : undefined;
}
