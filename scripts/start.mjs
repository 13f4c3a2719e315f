#!/usr/bin/env node
// `npm start`: the licensing chain on this very machine, on embedded defaults.
//   1. dev signing keys for the license server (.data/server/keys), made once;
//   2. this device's activation request (kiosk-agent fingerprint --json);
//   3. a license issued for it and activated air-gapped (license-server activate-offline);
//   4. the license installed in the agent and its status.
// Re-running keeps what exists: a licensed agent just shows its status.
// No key, token or license key is printed by this script.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const keysDir = resolve(root, '.data/server/keys');
const agentDir = resolve(root, '.data/agent');
const requestFile = resolve(agentDir, 'activation-request.json');
const tokenFile = resolve(agentDir, 'license.jwt');

function run(program, args, { capture = false } = {}) {
  const r = spawnSync(process.execPath, [resolve(root, 'bin', `${program}.mjs`), ...args], {
    cwd: root,
    encoding: 'utf8',
    stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
  });
  return { code: r.status ?? 1, stdout: r.stdout ?? '' };
}

function step(text) {
  console.log(`\n== ${text}`);
}

function fail(text) {
  console.error(`npm start: ${text}`);
  process.exit(1);
}

const haveKeys = existsSync(keysDir) && readdirSync(keysDir).some((f) => f.endsWith('.private.pem'));
if (haveKeys) {
  step('license status of this device');
  const status = run('kiosk-agent', ['license', 'status', '--json'], { capture: true });
  let current;
  try {
    current = JSON.parse(status.stdout);
  } catch {
    current = undefined;
  }
  if (current && (current.mode === 'licensed' || current.mode === 'grace')) {
    run('kiosk-agent', ['license', 'status']);
    process.exit(0);
  }
  console.log(current ? `mode ${current.mode} (${current.reason ?? 'no reason'}): issuing a license for this device` : 'no usable status: issuing a license for this device');
}

if (!haveKeys) {
  step('dev signing keys (throw-away; a vendor makes real ones with "license-server keys generate")');
  if (run('license-server', ['keys', 'generate', '--out', keysDir, '--issuer', 'urn:kiosk:vendor:dev']).code !== 0) fail('keys generate failed');
}

step('activation request of this device (kiosk-agent fingerprint --json)');
mkdirSync(agentDir, { recursive: true, mode: 0o700 });
const fp = run('kiosk-agent', ['fingerprint', '--json'], { capture: true });
if (fp.code !== 0) fail('fingerprint failed');
writeFileSync(requestFile, fp.stdout);
const request = JSON.parse(fp.stdout);
console.log(`device ${request.deviceId}: ${Object.keys(request.components).join(', ')}${request.platform.virtualization ? ` (virtual: ${request.platform.virtualization})` : ''}`);

step('a license for tenant "demo" (license-server license create)');
const created = run('license-server', ['license', 'create', '--tenant', 'demo', '--features', 'sales,reports', '--max-devices', '3', '--days', '365', '--grace-days', '7', '--allow-virtual'], { capture: true });
if (created.code !== 0) fail('license create failed');
const words = created.stdout.trim().split(/\s+/);
const licenseKey = words[words.length - 1];
console.log('license created (its key is kept out of this output)');

step('air-gapped activation (license-server activate-offline)');
if (run('license-server', ['activate-offline', '--key', licenseKey, '--request', requestFile, '--out', tokenFile]).code !== 0) fail('activate-offline failed');

step('install it on the agent (kiosk-agent license install)');
if (run('kiosk-agent', ['license', 'install', tokenFile]).code !== 0) fail('license install failed');

step('license status');
process.exit(run('kiosk-agent', ['license', 'status']).code);
