// Listening and graceful shutdown. close(): stop accepting, tell open connections to close
// after their answer, let in-flight requests finish — at most `shutdownTimeoutMs`, then the
// remaining connections are cut.
import type { FastifyInstance } from 'fastify';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { startDraining } from './http-app.ts';

export interface ListeningServer {
  /** http(s)://host:port as bound (port 0 resolved). */
  readonly url: string;
  readonly port: number;
  /** Resolves when every connection has ended; true when some had to be cut. */
  close(): Promise<{ readonly forced: boolean }>;
}

export async function listenHttp(app: FastifyInstance, options: { readonly host: string; readonly port: number; readonly tls: boolean; readonly shutdownTimeoutMs: number }): Promise<ListeningServer> {
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${options.tls ? 'https' : 'http'}://${host}:${address.port}`;
  let closing: Promise<{ forced: boolean }> | undefined;
  return {
    url,
    port: address.port,
    close() {
      closing ??= (async () => {
        startDraining(app);
        let forced = false;
        const ended = once(app.server, 'close'); // after the last connection has ended
        app.server.close(); // no new connections from now on; idle keep-alive ones are closed
        app.log.info({ shutdownTimeoutMs: options.shutdownTimeoutMs }, 'stopped accepting connections; waiting for requests in flight');
        const timer = setTimeout(() => {
          forced = true;
          app.server.closeAllConnections();
        }, options.shutdownTimeoutMs);
        timer.unref();
        try {
          await ended;
        } finally {
          clearTimeout(timer);
        }
        await app.close(); // onClose hooks; the server is closed already
        return { forced };
      })();
      return closing;
    },
  };
}
