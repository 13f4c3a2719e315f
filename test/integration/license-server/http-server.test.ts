// `start` on real sockets (port 0), in process: the bound URL on stdout, graceful shutdown with
// a request in flight, the shutdown bound, HTTPS with a self-signed certificate made by the
// openssl CLI, exact seats under 20 concurrent activations, and the start-up refusals.
import { execFileSync } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tokenResponseSchema } from '../../../common/device-api.ts';
import { createServerContext, type ServerContext } from '../../../license-server/src/app.ts';
import { startServer, type RunningServer } from '../../../license-server/src/cli/start.ts';
import { resolveServerConfig, resolveStartConfig, type StartConfigFlags } from '../../../license-server/src/config.ts';
import { createLicense } from '../../../license-server/src/domain/licenses.ts';
import { generateKey } from '../../../license-server/src/signing/key-dir.ts';
import { capturingIO } from '../../helpers/cli.ts';
import { runServer } from '../../helpers/server-cli.ts';
import { makeTempDir } from '../../helpers/tmp.ts';
import { HTTP_ISSUER, makeDevice, makeServerContext } from './helpers/http-fixture.ts';

type WatchedIO = ReturnType<typeof capturingIO> & { waitFor(pattern: RegExp): Promise<string> };

/** Captured output that can be waited on: resolves when a stderr line matching pattern was written. */
function watchedIO(cwd: string): WatchedIO {
  const io = capturingIO({}, cwd);
  const emitter = new EventEmitter();
  const write = io.stderr;
  io.stderr = (text) => {
    write(text);
    emitter.emit('line', text);
  };
  return Object.assign(io, {
    waitFor: (pattern: RegExp) =>
      new Promise<string>((resolve) => {
        const seen = io.err.find((l) => pattern.test(l));
        if (seen) return resolve(seen);
        const on = (line: string): void => {
          if (!pattern.test(line)) return;
          emitter.off('line', on);
          resolve(line);
        };
        emitter.on('line', on);
      }),
  });
}

async function start(ctx: ServerContext, flags: StartConfigFlags = {}, env: Record<string, string> = {}): Promise<{ server: RunningServer; io: WatchedIO }> {
  const io = watchedIO(ctx.io.cwd);
  const config = resolveStartConfig({ server: ctx.config, flags: { port: '0', 'mqtt-port': '0', ...flags }, env: { LICENSE_SERVER_ACTIVATIONS_PER_MINUTE: '100000', LICENSE_SERVER_ACTIVATION_BURST: '1000', ...env }, cwd: ctx.io.cwd });
  const server = await startServer(ctx, config, io);
  onTestFinished(() => server.stop());
  return { server, io };
}

/** Sends the headers and the first half of a JSON POST; the caller sends the rest. */
async function halfSentPost(url: string, path: string, body: unknown): Promise<{ socket: Socket; rest: string; response: Promise<string> }> {
  const { hostname, port } = new URL(url);
  const text = JSON.stringify(body);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  const half = Math.floor(text.length / 2);
  socket.write(`POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text.slice(0, half)}`);
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('utf8')));
  const response = once(socket, 'close').then(() => received);
  return { socket, rest: text.slice(half), response };
}

const statusOf = (raw: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);

describe('license-server start (in process, real sockets)', () => {
  it('prints the bound URL, serves, and on stop refuses new connections and closes the database', async () => {
    const { ctx } = await makeServerContext();
    const { server, io } = await start(ctx);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(io.out).toEqual([`listening on ${server.url}\n`]);
    const res = await fetch(`${server.url}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { issuer: string }).issuer).toBe(HTTP_ISSUER);

    await server.stop();
    await expect(fetch(`${server.url}/.well-known/jwks.json`)).rejects.toThrow();
    const logs = io.err.join('');
    expect(logs).toMatch(/"msg":"license server started"/);
    expect(logs).toMatch(/"msg":"stopped; database closed"/);
  });

  it('lets a request in flight finish during shutdown, with Connection: close', async () => {
    const { ctx } = await makeServerContext();
    const { licenseKey: key } = await createLicense(await ctx.deps(), { tenant: 't', features: ['pos'], maxDevices: 1, days: 30, actor: 'test' });
    const { server, io } = await start(ctx);
    const device = await makeDevice(HTTP_ISSUER, 1);
    const slow = await halfSentPost(server.url, '/v1/activations', { licenseKey: key, request: device.request });
    await io.waitFor(/"msg":"incoming request"/); // the server has the request's head, not its body
    let stopped = false;
    const stopping = server.stop().then(() => (stopped = true));
    await expect(fetch(`${server.url}/v1/revocations`)).rejects.toThrow(); // no new connections
    expect(stopped).toBe(false);
    slow.socket.write(slow.rest);
    const raw = await slow.response;
    expect(statusOf(raw)).toBe(201);
    expect(raw).toMatch(/\r\nconnection: close\r\n/i);
    tokenResponseSchema.parse(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)));
    await stopping;
    expect(stopped).toBe(true);
  });

  it('cuts what is still running at the shutdown deadline', async () => {
    const { ctx } = await makeServerContext();
    const { server, io } = await start(ctx, {}, { LICENSE_SERVER_SHUTDOWN_TIMEOUT_MS: '200' });
    const stuck = await halfSentPost(server.url, '/v1/activations', { licenseKey: 'x', request: {} });
    await io.waitFor(/"msg":"incoming request"/);
    await server.stop();
    expect(await stuck.response).toBe('');
    expect(io.err.join('')).toMatch(/cut/);
  });

  it('serves HTTPS with a certificate and key (self-signed, made by openssl)', async () => {
    const { ctx, dir } = await makeServerContext();
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
    const { server } = await start(ctx, { 'tls-cert': cert, 'tls-key': key });
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(server.urls.apiUrl).toBe(server.url);
    expect(server.urls.mqttUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    const { readFileSync } = await import('node:fs');
    const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpsRequest(`${server.url}/.well-known/jwks.json`, { ca: readFileSync(cert) }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(body.status).toBe(200);
    expect(JSON.parse(body.text).issuer).toBe(HTTP_ISSUER);
    await expect(fetch(server.url.replace('https:', 'http:'))).rejects.toThrow(); // no plain HTTP on the TLS port

    // a key that does not belong to the certificate stops start-up
    const other = join(dir, 'other-key.pem');
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', other], { stdio: 'ignore' });
    const config = resolveStartConfig({ server: ctx.config, flags: { port: '0', 'mqtt-port': '0', 'tls-cert': cert, 'tls-key': other }, env: {}, cwd: dir });
    await expect(startServer(ctx, config, capturingIO())).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('keeps maxDevices exact under 20 concurrent activations for 3 seats', async () => {
    const { ctx } = await makeServerContext();
    const { licenseKey: key, license } = await createLicense(await ctx.deps(), { tenant: 't', features: ['pos'], maxDevices: 3, days: 30, actor: 'test' });
    const { server } = await start(ctx);
    const devices = await Promise.all(Array.from({ length: 20 }, (_, i) => makeDevice(HTTP_ISSUER, i + 1)));
    const answers = await Promise.all(
      devices.map(async (d) => {
        const res = await fetch(`${server.url}/v1/activations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ licenseKey: key, request: d.request }) });
        return { status: res.status, body: (await res.json()) as { error?: { code: string } } };
      }),
    );
    expect(answers.filter((a) => a.status === 201), JSON.stringify(answers[0])).toHaveLength(3);
    const refused = answers.filter((a) => a.status !== 201);
    expect(refused).toHaveLength(17);
    for (const r of refused) expect([r.status, r.body.error?.code]).toEqual([409, 'SEATS_FULL']);
    const storage = await server.ctx.storage();
    expect(await storage.countActiveActivations(license.id)).toBe(3);
    expect(await storage.listIssuedTokens(license.id)).toHaveLength(3);
  });

  it('takes its settings from a --config file (flags still win)', async () => {
    const dir = makeTempDir('kiosk-http-');
    writeFileSync(join(dir, 'server.json'), JSON.stringify({ dataDir: 'state', port: 0, apiUrl: 'https://licenses.example.test/', mqttPort: 0, mqttUrl: 'mqtts://broker.example.test:8883', logLevel: 'warn' }));
    const config = resolveServerConfig({ flags: { config: join(dir, 'server.json') }, env: {}, cwd: '/' });
    expect(config.dataDir).toBe(join(dir, 'state'));
    await generateKey(config.keysDir, { issuer: HTTP_ISSUER });
    const ctx = createServerContext(config, {}, capturingIO({}, dir));
    onTestFinished(() => ctx.close());
    const { licenseKey: key } = await createLicense(await ctx.deps(), { tenant: 't', features: [], maxDevices: 1, days: 30, actor: 'test' });
    const { server, io } = await start(ctx, { port: undefined });
    const device = await makeDevice(HTTP_ISSUER, 1);
    const res = await fetch(`${server.url}/v1/activations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ licenseKey: key, request: device.request }) });
    expect(res.status).toBe(201);
    expect(tokenResponseSchema.parse(await res.json())).toMatchObject({ apiUrl: 'https://licenses.example.test', mqttUrl: 'mqtts://broker.example.test:8883' });
    expect(io.err.join('')).not.toMatch(/"level":30/); // logLevel warn from the file
    // --config is global: the CLI beside the server works on the same database
    const listed = await runServer(['license', 'list', '--config', join(dir, 'server.json'), '--json'], { cwd: '/' });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.json().licenses).toEqual([expect.objectContaining({ activeDevices: 1 })]);
  });
});

describe('license-server start refuses to start', () => {
  it('without signing keys: KEYS_MISSING, exit 1, no database made', async () => {
    const cwd = makeTempDir();
    const r = await runServer(['start', '--port', '0'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error KEYS_MISSING: no signing keys in /m);
    expect(r.stdout).toBe('');
    expect(existsSync(join(cwd, '.data/server/server.db'))).toBe(false);
  });

  it('with a wrong setting: error CONFIG_INVALID naming it, exit 1', async () => {
    const cwd = makeTempDir();
    expect((await runServer(['keys', 'generate'], { cwd })).code).toBe(0);
    writeFileSync(join(cwd, 'typo.json'), JSON.stringify({ prot: 8700 }));
    writeFileSync(join(cwd, 'broken.json'), '{');
    // every case fails before it listens; `--port 0` keeps a wrongly accepted one off 8700
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['--port', 'eighty'], {}, /--port "eighty": must be a whole number/],
      [['--port', '70000'], {}, /--port "70000": must be from 0 to 65535/],
      [[], { LICENSE_SERVER_PORT: '-1' }, /LICENSE_SERVER_PORT "-1"/],
      [['--port', '0', '--tls-cert', 'c.pem'], {}, /--tls-cert and --tls-key go together/],
      [['--port', '0', '--api-url', 'ftp://x'], {}, /--api-url "ftp:\/\/x": must be an http/],
      [['--port', '0', '--mqtt', 'mqtt://user:pw@broker', '--mqtt-port', '1884'], {}, /--mqtt-port is the embedded broker's port/],
      [['--port', '0', '--config', 'typo.json'], {}, /typo\.json: .*prot/],
      [['--port', '0', '--config', 'broken.json'], {}, /broken\.json is not JSON/],
      [['--port', '0', '--config', 'missing.json'], {}, /cannot read the config file .*missing\.json: ENOENT/],
      [['--port', '0', '--tls-cert', 'c.pem', '--tls-key', 'k.pem'], {}, /cannot read the TLS certificate .*c\.pem: ENOENT/],
    ];
    for (const [flags, env, message] of cases) {
      const r = await runServer(['start', ...flags], { cwd, env });
      expect(r.code, `${flags.join(' ')} → ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(/^error CONFIG_INVALID: /m);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toContain('pw@');
      expect(r.stdout).toBe('');
    }
  });

  it('when the port is taken: IO_ERROR, exit 1', async () => {
    const { ctx } = await makeServerContext();
    const { server } = await start(ctx);
    const r = await runServer(['start', '--data-dir', ctx.config.dataDir, '--port', String(new URL(server.url).port), '--mqtt-port', '0'], { cwd: ctx.io.cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error IO_ERROR: cannot listen on 127\.0\.0\.1:\d+: the port is in use/m);
  });
});
