// The SyncTransport contract on the embedded aedes broker (in-process publish/subscribe), with
// an authenticator that takes the test device's identity from its credentials.
import { startEmbeddedBroker } from '../../license-server/src/broker/embedded-broker.ts';
import { createEmbeddedTransport } from '../../license-server/src/broker/embedded-transport.ts';
import { connectTestClient } from '../helpers/mqtt-device.ts';
import { describeSyncTransportContract } from './sync-transport.contract.ts';

describeSyncTransportContract('embedded aedes broker', async () => {
  const broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    authenticator: {
      // test credentials: username = device id, password = tenant
      authenticate: async ({ clientId, username, password }) => {
        if (username !== clientId) throw new Error('username must equal the client id');
        return { tenant: password, deviceId: clientId, ordersOnly: false };
      },
      recheck: async () => null,
    },
  });
  const transport = createEmbeddedTransport(broker);
  return {
    transport,
    device: (tenant, deviceId) => connectTestClient(broker.url, { clientId: deviceId, username: deviceId, password: tenant, clean: true }),
    async dispose() {
      await transport.close();
      await broker.close();
    },
  };
});
