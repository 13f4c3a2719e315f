// `license-server start` runs the embedded broker: devices are told its bound URL; a broker port
// in use stops start-up with a clear error (as a taken HTTP port does).
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startServer } from '../../../license-server/src/cli/start.ts';
import { resolveStartConfig } from '../../../license-server/src/config.ts';
import { capturingIO } from '../../helpers/cli.ts';
import { makeServerContext } from './helpers/http-fixture.ts';

async function start(flags: Record<string, string>) {
  const { ctx } = await makeServerContext();
  const io = capturingIO({}, ctx.io.cwd);
  const config = resolveStartConfig({ server: ctx.config, flags: { port: '0', ...flags }, env: {}, cwd: ctx.io.cwd });
  const server = await startServer(ctx, config, io);
  onTestFinished(() => server.stop());
  return { server, io };
}

describe('license-server start with the embedded broker', () => {
  it('listens on --mqtt-port 0 and tells devices the bound URL', async () => {
    const { server } = await start({ 'mqtt-port': '0' });
    expect(server.sync?.broker?.port).toBeGreaterThan(0);
    expect(server.urls.mqttUrl).toBe(`mqtt://127.0.0.1:${server.sync?.broker?.port}`);
    await server.stop();
  });

  it('a broker port in use: start-up stops with IO_ERROR naming the port and the fix', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => blocker.close(() => r())));
    const port = (blocker.address() as AddressInfo).port;
    const err = await start({ 'mqtt-port': String(port) }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'IO_ERROR' });
    expect((err as Error).message).toMatch(new RegExp(`embedded MQTT broker \\(port ${port}\\).*--mqtt-port`));
  });
});
