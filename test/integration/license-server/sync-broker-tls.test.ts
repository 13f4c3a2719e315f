// The embedded broker speaks TLS (mqtts) with the HTTP certificate when the server has one.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startEmbeddedBroker } from '../../../license-server/src/broker/embedded-broker.ts';
import { connectTestClient } from '../../helpers/mqtt-device.ts';
import { makeTempDir } from '../../helpers/tmp.ts';

describe('embedded broker over TLS', () => {
  it('accepts mqtts with the certificate and refuses plain MQTT on the TLS port', async () => {
    const dir = makeTempDir('kiosk-mqtts-');
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
    const broker = await startEmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      tls: { cert: readFileSync(cert), key: readFileSync(key) },
      authenticator: { authenticate: async ({ clientId }) => ({ tenant: 'shop-1', deviceId: clientId, ordersOnly: false }), recheck: async () => null },
    });
    onTestFinished(() => broker.close());
    expect(broker.url).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    const id = 'c'.repeat(32);
    const client = await connectTestClient(broker.url, { clientId: id, username: id, password: 'x', ca: readFileSync(cert), rejectUnauthorized: true });
    expect(client.client.connected).toBe(true);
    await expect(connectTestClient(broker.url.replace('mqtts:', 'mqtt:'), { clientId: id, username: id, password: 'x', connectTimeout: 1_000 })).rejects.toThrow();
  });
});
