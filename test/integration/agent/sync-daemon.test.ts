// The sync services inside the daemon (`run`, in-process, fake scheduler) of a device activated
// against the real license server, syncing through an aedes broker: the services are wired, the
// retained revocation list over MQTT is verified with the trusted keys, stored only when newer,
// and the license is re-evaluated at once (mode changed → REVOKED).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'mqtt';
import { describe, expect, it, onTestFinished } from 'vitest';
import { fixedClock } from '../../../common/clock.ts';
import { topics } from '../../../common/sync-messages.ts';
import { agentDevice, MIN_MS, NOW_MS, startDaemon, startRealServer } from './helpers/online.ts';
import { startAedes, waitFor } from './helpers/sync-harness.ts';

describe('sync in the daemon', () => {
  it('revocations over MQTT: verified, stored when newer, the mode re-evaluated; garbage and older lists ignored', async () => {
    const clock = fixedClock(NOW_MS);
    const server = await startRealServer(clock);
    const device = agentDevice({ clock, keysFile: server.keysFile });
    const lic = await server.createLicense();
    const act = await device.run(['activate', '--server', server.url, '--key', lic.key, '--json']);
    expect(act.code, act.stderr).toBe(0);
    clock.advance(MIN_MS);
    const broker = await startAedes();
    const config = join(device.dir, 'agent.json');
    writeFileSync(config, JSON.stringify({ checkIntervalMinutes: 60, revocations: { intervalMinutes: 1440 }, sync: { mqttUrl: broker.url } }));
    const d = await startDaemon(device, ['--config', config], { env: { KIOSK_AGENT_SYNC: 'on' } });
    expect(d.logs().find((l) => l.msg === 'daemon started')?.services).toEqual(['license', 'sync', 'local-api']);
    await waitFor('MQTT connected', () => d.logs().some((l) => l.msg === 'MQTT connected'));

    const vendor = connect(broker.url, { protocolVersion: 4, clientId: 'vendor-test' });
    onTestFinished(() => vendor.endAsync(true));
    await new Promise((r) => vendor.once('connect', r));
    const iatS = Math.floor(clock.nowMs() / 1000);
    const publish = async (payload: string) => vendor.publishAsync(topics.revocations('shop-1'), payload, { qos: 1, retain: true });

    await publish(JSON.stringify({ type: 'revocations', v: 1, version: 50, list: 'x'.repeat(40) }));
    await waitFor('garbage refused', () => d.logs().some((l) => l.msg === 'the revocation list over MQTT does not verify: ignored'));

    const v50 = await server.signRevocationList({ version: 50, iatS, licenses: [lic.id] });
    await publish(JSON.stringify({ type: 'revocations', v: 1, version: 50, list: v50 }));
    await waitFor('mode changed', () => d.logs().some((l) => l.msg === 'mode changed'));
    expect(d.logs().find((l) => l.msg === 'revocation list stored')).toMatchObject({ version: 50, source: 'mqtt' });
    expect(d.logs().find((l) => l.msg === 'mode changed')).toMatchObject({ from: 'licensed', reason: 'REVOKED', cause: 'revocations' });

    const v40 = await server.signRevocationList({ version: 40, iatS });
    await publish(JSON.stringify({ type: 'revocations', v: 1, version: 40, list: v40 }));
    await new Promise((r) => setTimeout(r, 300));
    expect(device.withStore((s) => s.tables.revocations.get()?.version)).toBe(50);
    expect(await d.stop()).toBe(0);
    await vendor.publishAsync(topics.revocations('shop-1'), '', { qos: 1, retain: true });
  });
});
