import { describe, expect, it } from 'vitest';
import { KioskError } from '../../../common/errors.ts';
import { resolveServerConfig, resolveStartConfig, type ServerConfig, type StartConfigFlags } from '../../../license-server/src/config.ts';

const cwd = '/srv/repo';
const files: Record<string, string> = {
  '/etc/ls/server.json': JSON.stringify({
    dataDir: 'state',
    keys: '/keys',
    db: 'db/server.db',
    host: '0.0.0.0',
    port: 9000,
    tls: { cert: 'tls/cert.pem', key: '/tls/key.pem' },
    apiUrl: 'https://licenses.example.com/',
    mqtt: 'embedded',
    mqttPort: 1884,
    rateLimit: { activations: { burst: 5, perMinute: 30 } },
    shutdownTimeoutMs: 2000,
    logLevel: 'warn',
    trustProxy: true,
    activationThread: false,
  }),
  '/etc/ls/min.json': '{}',
};
const readFile = (path: string): string => {
  const text = files[path];
  if (text === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  return text;
};
const server = (flags: Record<string, string | undefined> = {}, env: Record<string, string> = {}): ServerConfig => resolveServerConfig({ flags, env, cwd, readFile });
const start = (base: ServerConfig, flags: StartConfigFlags = {}, env: Record<string, string> = {}) => resolveStartConfig({ server: base, flags, env, cwd });

function refusal(fn: () => unknown): KioskError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KioskError);
    expect((err as KioskError).code).toBe('CONFIG_INVALID');
    return err as KioskError;
  }
  throw new Error('accepted');
}

describe('start config', () => {
  it('has loopback defaults and is frozen', () => {
    const c = start(server());
    expect(c).toEqual({
      host: '127.0.0.1',
      port: 8700,
      tls: null,
      apiUrl: null,
      mqtt: { kind: 'embedded', port: 1883 },
      mqttUrl: null,
      rateLimit: { activations: { burst: 10, perMinute: 60 } },
      shutdownTimeoutMs: 10_000,
      logLevel: 'info',
      trustProxy: false,
      activationThread: true,
      dev: false,
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.rateLimit.activations)).toBe(true);
    expect(Object.isFrozen(c.mqtt)).toBe(true);
  });

  it('reads the --config file, resolving its paths against its directory', () => {
    const base = server({ config: '/etc/ls/server.json' });
    expect(base.dataDir).toBe('/etc/ls/state');
    expect(base.keysDir).toBe('/keys');
    expect(base.database).toEqual({ kind: 'sqlite', file: '/etc/ls/db/server.db' });
    expect(Object.isFrozen(base.file)).toBe(true);
    expect(start(base)).toEqual({
      host: '0.0.0.0',
      port: 9000,
      tls: { certFile: '/etc/ls/tls/cert.pem', keyFile: '/tls/key.pem' },
      apiUrl: 'https://licenses.example.com',
      mqtt: { kind: 'embedded', port: 1884 },
      mqttUrl: null,
      rateLimit: { activations: { burst: 5, perMinute: 30 } },
      shutdownTimeoutMs: 2000,
      logLevel: 'warn',
      trustProxy: true,
      activationThread: false,
      dev: false,
    });
    expect(server({}, { LICENSE_SERVER_CONFIG: '/etc/ls/server.json' }).dataDir).toBe('/etc/ls/state');
  });

  it('takes flags over env over the file over defaults', () => {
    const base = server({ config: '/etc/ls/server.json', 'data-dir': 'flagdir' }, { LICENSE_SERVER_KEYS: 'envkeys' });
    expect(base.dataDir).toBe('/srv/repo/flagdir');
    expect(base.keysDir).toBe('/srv/repo/envkeys');
    const env = { LICENSE_SERVER_PORT: '9100', LICENSE_SERVER_HOST: '::1', LICENSE_SERVER_ACTIVATION_BURST: '50', LICENSE_SERVER_LOG_LEVEL: 'debug', LICENSE_SERVER_TRUST_PROXY: 'false' };
    const fromEnv = start(base, {}, env);
    expect([fromEnv.port, fromEnv.host, fromEnv.rateLimit.activations, fromEnv.logLevel, fromEnv.trustProxy, fromEnv.activationThread]).toEqual([9100, '::1', { burst: 50, perMinute: 30 }, 'debug', false, false]);
    expect(start(base, {}, { LICENSE_SERVER_ACTIVATION_THREAD: 'true' }).activationThread).toBe(true);
    expect(refusal(() => start(base, {}, { LICENSE_SERVER_ACTIVATION_THREAD: 'maybe' })).message).toMatch(/^LICENSE_SERVER_ACTIVATION_THREAD "maybe": /);
    const fromFlags = start(base, { port: '0', host: '127.0.0.2', 'tls-cert': 'c.pem', 'tls-key': 'k.pem', dev: true }, env);
    expect([fromFlags.port, fromFlags.host, fromFlags.tls, fromFlags.dev]).toEqual([0, '127.0.0.2', { certFile: '/srv/repo/c.pem', keyFile: '/srv/repo/k.pem' }, true]);
    const min = start(server({ config: '/etc/ls/min.json' }));
    expect(min.port).toBe(8700);
  });

  it('takes an outside broker and public URLs', () => {
    const c = start(server(), { mqtt: 'mqtts://broker.example.com:8883', 'mqtt-url': 'wss://broker.example.com/mqtt', 'api-url': 'https://x.example.com/api/' });
    expect(c.mqtt).toEqual({ kind: 'external', url: 'mqtts://broker.example.com:8883' });
    expect(c.mqttUrl).toBe('wss://broker.example.com/mqtt');
    expect(c.apiUrl).toBe('https://x.example.com/api');
  });

  it('refuses wrong values naming where they came from', () => {
    const base = server();
    expect(refusal(() => start(base, { port: '8o' })).message).toBe('--port "8o": must be a whole number');
    expect(refusal(() => start(base, {}, { LICENSE_SERVER_PORT: '65536' })).message).toBe('LICENSE_SERVER_PORT "65536": must be from 0 to 65535');
    expect(refusal(() => start(base, { host: 'a host' })).message).toMatch(/^--host "a host": must be an IP address or a host name/);
    expect(refusal(() => start(base, { 'tls-key': 'k.pem' })).message).toMatch(/--tls-cert and --tls-key go together/);
    expect(refusal(() => start(base, { mqtt: 'amqp://x' })).message).toMatch(/^--mqtt "amqp:\/\/x"/);
    expect(refusal(() => start(base, { mqtt: 'mqtt://u:secret@b:1883', 'mqtt-port': '1' })).message).not.toContain('secret');
    expect(refusal(() => start(base, {}, { LICENSE_SERVER_ACTIVATION_BURST: '0' })).message).toMatch(/^LICENSE_SERVER_ACTIVATION_BURST "0": must be from 1/);
    expect(refusal(() => start(base, {}, { LICENSE_SERVER_LOG_LEVEL: 'loud' })).message).toMatch(/^LICENSE_SERVER_LOG_LEVEL "loud"/);
    expect(refusal(() => start(base, {}, { LICENSE_SERVER_TRUST_PROXY: 'yes' })).message).toMatch(/^LICENSE_SERVER_TRUST_PROXY "yes"/);
  });

  it('refuses a config file that is missing, not JSON, or has an unknown or wrong key', () => {
    files['/etc/ls/bad.json'] = '{"port": "8700"}';
    files['/etc/ls/typo.json'] = '{"prot": 8700}';
    files['/etc/ls/broken.json'] = '{';
    files['/etc/ls/deep.json'] = '{"rateLimit": {"activations": {"burst": -1}}}';
    expect(refusal(() => server({ config: '/etc/ls/none.json' })).message).toBe('cannot read the config file /etc/ls/none.json: ENOENT');
    expect(refusal(() => server({ config: '/etc/ls/broken.json' })).message).toBe('/etc/ls/broken.json is not JSON');
    expect(refusal(() => server({ config: '/etc/ls/bad.json' })).message).toMatch(/^\/etc\/ls\/bad\.json: port: /);
    expect(refusal(() => server({ config: '/etc/ls/typo.json' })).message).toMatch(/^\/etc\/ls\/typo\.json: .*prot/);
    expect(refusal(() => server({ config: '/etc/ls/deep.json' })).message).toMatch(/^\/etc\/ls\/deep\.json: rateLimit\.activations\.burst: /);
  });
});
