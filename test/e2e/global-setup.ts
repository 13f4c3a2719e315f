// Builds what the e2e tests drive, once per run (and only when an e2e file is selected: it is
// the e2e project's globalSetup in vitest.config.ts):
//   - a vendor key set and an outside one (same issuer id), generated for this run;
//   - `npm run build:executables` for the test and the release flavour, both arches, into a
//     temporary dist (the real CLI, as a subprocess; the build cache makes a rebuild take seconds);
//   - a test-flavour x64 kit of a newer version, for the upgrade test;
//   - Debian 11's libc for both arches (or the reason it could not be had).
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { readVersions } from '../../scripts/cross-build/build.ts';
import { defaultCacheDir } from '../../scripts/cross-build/lib/cache.ts';
import { debian11Root } from '../../scripts/cross-build/steps/debian11-root.ts';
import { REPO_ROOT } from '../helpers/cli.ts';
import { runServer } from '../helpers/server-cli.ts';
import type { E2eEnv } from './helpers/env.ts';

const ISSUER = 'urn:kiosk:vendor:e2e';
const UPGRADE_VERSION = '0.1.1-e2e';

function build(args: readonly string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [join(REPO_ROOT, 'scripts', 'cross-build', 'build.ts'), ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolvePromise() : reject(new Error(`build:executables ${args.join(' ')} failed with exit ${code}`))));
  });
}

async function generateKeys(out: string): Promise<void> {
  const r = await runServer(['keys', 'generate', '--out', out, '--issuer', ISSUER]);
  if (r.code !== 0) throw new Error(`keys generate failed: ${r.stderr}`);
}

export default async function setup(project: TestProject): Promise<() => void> {
  const started = Date.now();
  const runDir = mkdtempSync(join(tmpdir(), 'kiosk-e2e-'));
  chmodSync(runDir, 0o755); // the non-root tests run the executables as nobody
  const vendorKeysDir = join(runDir, 'vendor-keys');
  const outsideKeysDir = join(runDir, 'outside-keys');
  await generateKeys(vendorKeysDir);
  await generateKeys(outsideKeysDir);
  const distDir = join(runDir, 'dist');
  const upgradeDir = join(runDir, 'dist-upgrade');
  const common = ['--trusted-keys', join(vendorKeysDir, 'jwks.json'), '--work', join(runDir, 'work')];
  await build([...common, '--flavour', 'test', '--arch', 'all', '--out', distDir]);
  await build([...common, '--flavour', 'release', '--arch', 'all', '--out', distDir]);
  await build([...common, '--flavour', 'test', '--arch', 'x64', '--out', upgradeDir, '--product-version', UPGRADE_VERSION]);
  const buildSeconds = (Date.now() - started) / 1000;

  const versions = readVersions();
  const cacheDir = defaultCacheDir();
  const [d11x64, d11arm64] = [await debian11Root(cacheDir, 'x64', versions.debian11), await debian11Root(cacheDir, 'arm64', versions.debian11)];
  const productVersion = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const vendorKids = (JSON.parse(readFileSync(join(vendorKeysDir, 'jwks.json'), 'utf8')) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
  const exe = (flavour: 'test' | 'release', arch: string) => join(distDir, `kiosk-agent${flavour === 'test' ? '-test' : ''}-linux-${arch}`);
  const kit = (flavour: 'test' | 'release', arch: string, version = productVersion) =>
    join(flavour === 'test' && version === UPGRADE_VERSION ? upgradeDir : distDir, `kiosk-agent${flavour === 'test' ? '-test' : ''}-${version}-linux-${arch}.tar.gz`);
  const env: E2eEnv = {
    runDir,
    issuer: ISSUER,
    vendorKeysDir,
    outsideKeysDir,
    vendorKids,
    productVersion,
    upgradeVersion: UPGRADE_VERSION,
    nodeVersion: versions.node.version,
    executables: { test: { x64: exe('test', 'x64'), arm64: exe('test', 'arm64') }, release: { x64: exe('release', 'x64'), arm64: exe('release', 'arm64') } },
    kits: { test: { x64: kit('test', 'x64'), arm64: kit('test', 'arm64') }, release: { x64: kit('release', 'x64'), arm64: kit('release', 'arm64') } },
    upgradeKit: kit('test', 'x64', UPGRADE_VERSION),
    distDir,
    debian11: { x64: d11x64, arm64: d11arm64 },
    floor: versions.glibcFloor,
    crossSysroot: '/usr/aarch64-linux-gnu',
    buildSeconds,
  };
  project.provide('e2e', env);
  process.stderr.write(`[e2e] executables built in ${buildSeconds.toFixed(0)} s; Debian 11 roots: x64 ${d11x64.ok ? 'ok' : d11x64.reason}, arm64 ${d11arm64.ok ? 'ok' : d11arm64.reason}\n`);
  return () => {
    if (!process.env.KIOSK_E2E_KEEP) rmSync(runDir, { recursive: true, force: true });
  };
}
