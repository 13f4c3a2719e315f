#!/usr/bin/env node
// `npm start`: the main job on embedded defaults, on this machine.
//   1. dev signing keys for the license server (.data/server/keys), made once;
//   2. `license-server start` (SQLite under .data/server, the embedded MQTT broker) on
//      127.0.0.1:8700 (HTTP) and 127.0.0.1:18830 (MQTT);
//   3. a license for tenant "demo" and this device activated online (`kiosk-agent activate`),
//      unless the agent already holds a usable license;
//   4. `kiosk-agent run`, the daemon (renewals, revocation list, catalog and order sync, the
//      kiosk's local API on 127.0.0.1:8787), until Ctrl-C.
// Re-running keeps what exists. No key, token or license key is printed by this script.
// KIOSK_START_ROOT moves the .data directory (tests); KIOSK_START_PORT and KIOSK_START_MQTT_PORT
// the server's HTTP and MQTT ports (defaults 8700 and 18830).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const repo = resolve(import.meta.dirname, '..');
const cwd = resolve(process.env.KIOSK_START_ROOT ?? repo);
const port = process.env.KIOSK_START_PORT ?? '8700';
// The embedded broker: not 1883, which a system Mosquitto often holds already.
const mqttPort = process.env.KIOSK_START_MQTT_PORT ?? '18830';
const keysDir = resolve(cwd, '.data/server/keys');
const bin = (program) => resolve(repo, 'bin', `${program}.mjs`);
const children = new Set();

function say(text) {
  console.log(`[start] ${text}`);
}

function fail(text) {
  console.error(`[start] ${text}`);
  stopAll(1);
}

function run(program, args, { capture = false } = {}) {
  const r = spawnSync(process.execPath, [bin(program), ...args], { cwd, encoding: 'utf8', stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit' });
  return { code: r.status ?? 1, stdout: r.stdout ?? '' };
}

/** Starts a long-running child; resolves with the first stdout line matching `ready`. */
function launch(name, program, args, ready) {
  const child = spawn(process.execPath, [bin(program), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (!stopping) fail(`${name} ended (${signal ?? `exit ${code}`})`);
  });
  createInterface({ input: child.stderr }).on('line', (line) => console.error(`[${name}] ${line}`));
  return new Promise((resolveReady, rejectReady) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      console.log(`[${name}] ${line}`);
      const m = ready && line.match(ready);
      if (m) resolveReady(m);
    });
    if (!ready) resolveReady(null);
    child.on('exit', () => rejectReady(new Error(`${name} did not start`)));
  });
}

let stopping = false;
function stopAll(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  const wait = setInterval(() => {
    if (children.size === 0) {
      clearInterval(wait);
      process.exit(code);
    }
  }, 50);
}
process.on('SIGINT', () => stopAll(0)).on('SIGTERM', () => stopAll(0));

if (!existsSync(keysDir) || !readdirSync(keysDir).some((f) => f.endsWith('.private.pem'))) {
  say('making dev signing keys (throw-away: a vendor makes real ones with "license-server keys generate" and keeps them offline)');
  if (run('license-server', ['keys', 'generate', '--out', keysDir, '--issuer', 'urn:kiosk:vendor:dev']).code !== 0) fail('keys generate failed');
}

const [, url] = await launch('server', 'license-server', ['start', '--port', port, '--mqtt-port', mqttPort], /^listening on (\S+)/).catch((err) => fail(err.message));
say(`license server at ${url}`);

const status = run('kiosk-agent', ['license', 'status', '--json'], { capture: true });
let mode;
try {
  mode = JSON.parse(status.stdout).mode;
} catch {
  mode = undefined;
}
if (mode !== 'licensed' && mode !== 'grace') {
  say('issuing a license for tenant "demo" and activating this device online');
  const created = run('license-server', ['license', 'create', '--tenant', 'demo', '--features', 'sales,reports', '--max-devices', '3', '--days', '365', '--grace-days', '7', '--allow-virtual'], { capture: true });
  if (created.code !== 0) fail('license create failed');
  const licenseKey = created.stdout.trim().split(/\s+/).pop();
  if (run('kiosk-agent', ['activate', '--server', url, '--key', licenseKey]).code !== 0) fail('activate failed');
}
run('kiosk-agent', ['license', 'status']);

say('starting the agent daemon (kiosk-agent run); Ctrl-C stops both');
await launch('agent', 'kiosk-agent', ['run'], null);
