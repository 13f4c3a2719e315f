// The README's first command: `npm start` (scripts/start.mjs) brings up the license server and
// a licensed local agent on embedded defaults, and Ctrl-C stops both cleanly.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT, runBin } from '../helpers/cli.ts';
import { makeTempDir } from '../helpers/tmp.ts';

it('npm start: server up, this device activated online and licensed, the daemon running; SIGINT stops all with exit 0', async () => {
  const root = makeTempDir('kiosk-start-');
  const child = spawn(process.execPath, [resolve(REPO_ROOT, 'scripts/start.mjs')], {
    cwd: REPO_ROOT,
    env: { ...process.env, KIOSK_START_ROOT: root, KIOSK_START_PORT: '0', KIOSK_START_MQTT_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const daemonStarted = new Promise<void>((resolveStarted, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        out.push(line);
        if (line.startsWith('[agent]') && line.includes('"daemon started"')) resolveStarted();
      });
    }
    void exited.then(() => reject(new Error(`start.mjs ended early:\n${out.join('\n')}`)));
  });
  await daemonStarted;

  const status = runBin('kiosk-agent', ['license', 'status', '--json'], { cwd: root });
  expect(status.code, status.stderr).toBe(0);
  expect(status.json()).toMatchObject({ mode: 'licensed', tenant: 'demo', features: ['sales', 'reports'] });
  // no license key, token or private key in what the script printed
  const printed = out.join('\n');
  expect(printed).not.toMatch(/[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}-/);
  expect(printed).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}\./);
  expect(printed).not.toContain('PRIVATE KEY');

  child.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(out.some((l) => l.startsWith('[server]') && l.includes('database closed'))).toBe(true);
}, 120_000);
