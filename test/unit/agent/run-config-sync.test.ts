import { describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../../../agent/src/config.ts';

const resolveWith = (file: unknown, env: Record<string, string> = {}) =>
  resolveRunConfig({ flags: { config: '/etc/kiosk/agent.json' }, env, cwd: '/', readFile: () => JSON.stringify(file) });

describe('run config: api and sync', () => {
  it('defaults: API on 8787 without a token, sync on with window 16, ack timeout 30 s, acked kept 168 h', () => {
    const c = resolveRunConfig({ flags: {}, env: {}, cwd: '/' });
    expect(c.api).toEqual({ enabled: true, port: 8787, tokenFile: null });
    expect(c.sync).toEqual({ enabled: true, mqttUrl: null, windowSize: 16, ackTimeoutSeconds: 30, ackedRetentionHours: 168 });
  });

  it('file < env; the token file is relative to the config file', () => {
    const c = resolveWith({ api: { port: 9000, tokenFile: 'token' }, sync: { mqttUrl: 'mqtt://127.0.0.1:1883', windowSize: 4 } }, { KIOSK_AGENT_API_PORT: '0', KIOSK_AGENT_SYNC: 'off' });
    expect(c.api).toEqual({ enabled: true, port: 0, tokenFile: '/etc/kiosk/token' });
    expect(c.sync).toMatchObject({ enabled: false, mqttUrl: 'mqtt://127.0.0.1:1883', windowSize: 4 });
    expect(resolveWith({}, { KIOSK_AGENT_MQTT_URL: 'mqtts://b.example.com' }).sync.mqttUrl).toBe('mqtts://b.example.com');
  });

  it('out of bounds, unknown keys and bad env values are CONFIG_INVALID', () => {
    for (const file of [{ api: { port: 70000 } }, { api: { host: '0.0.0.0' } }, { sync: { windowSize: 0 } }, { sync: { mqttUrl: 'http://x' } }, { sync: { ackTimeoutSeconds: 1 } }]) {
      expect(() => resolveWith(file), JSON.stringify(file)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    }
    expect(() => resolveWith({}, { KIOSK_AGENT_API_PORT: 'eighty' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => resolveWith({}, { KIOSK_AGENT_SYNC: 'maybe' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
