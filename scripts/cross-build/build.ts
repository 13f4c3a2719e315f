// `npm run build:executables -- --trusted-keys FILE [--flavour release|test] [--arch x64|arm64|all]`
//
// Cross-builds the kiosk-agent single executables for linux-x64 and linux-arm64 on one x64 (or
// arm64) Debian machine (DESIGN §5, research/build-probe.md), one step per file in steps/:
//   runtime   official Node 24 LTS from the npm registry, SHA-256 checked (versions.json)   cached
//   addon     better-sqlite3 per arch against Node 24's headers, glibc compat shims         cached
//   strip     a stripped copy of each runtime (before injection)                           cached
//   bundle    esbuild → one CommonJS file per target, build info defined
//   blob      SEA blob made by the packed Node 24 (execArgvExtension none for release)
//   inject    postject into the stripped copy → dist/kiosk-agent[-test]-linux-<arch>
//   smoke     `--version` of each executable (arm64 under qemu-user)
//   kit       dist/kiosk-agent[-test]-<version>-linux-<arch>.tar.gz
//   checksums dist/SHA256SUMS
// The cache lives in $KIOSK_BUILD_CACHE or $HOME/.cache/kiosk-agent-build (--cache DIR).
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseTrustedKeySetText, type TrustedKeySet } from '../../common/trusted-keys.ts';
import { defaultCacheDir } from './lib/cache.ts';
import { requireTool } from './lib/exec.ts';
import { BuildError, progress, seconds } from './lib/log.ts';
import { ARCHES, hostArch, TARGETS, type Arch } from './lib/targets.ts';
import { buildAddon, type Addon } from './steps/addon.ts';
import { bundleAgent, type Flavour } from './steps/bundle.ts';
import { writeChecksums } from './steps/checksums.ts';
import { injectBlob } from './steps/inject.ts';
import { makeKit } from './steps/kit.ts';
import { fetchRuntime, type Runtime } from './steps/runtime.ts';
import { makeSeaBlob } from './steps/sea-blob.ts';
import { smokeTest } from './steps/smoke.ts';
import { strippedRuntime } from './steps/strip.ts';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Versions {
  readonly node: { readonly version: string; readonly tarballs: Record<Arch, { readonly package: string; readonly sha256: string }> };
  readonly glibcFloor: { readonly GLIBC: string; readonly GLIBCXX: string };
  readonly debian11: { readonly source: string; readonly packages: readonly string[] };
}

export function readVersions(repoRoot = REPO_ROOT): Versions {
  return JSON.parse(readFileSync(join(repoRoot, 'scripts', 'cross-build', 'versions.json'), 'utf8')) as Versions;
}

export interface BuildOptions {
  readonly flavour: Flavour;
  readonly arches: readonly Arch[];
  readonly trustedKeys: TrustedKeySet | null;
  readonly outDir: string;
  readonly workDir: string;
  readonly cacheDir: string;
  readonly version: string;
  readonly kit: boolean;
}

export interface BuiltTarget {
  readonly arch: Arch;
  readonly executable: string;
  readonly kit: string | null;
  readonly addon: Addon;
  readonly bundle: string;
  readonly strippedRuntime: string;
  readonly runtime: Runtime;
}

export interface BuildResult {
  readonly targets: readonly BuiltTarget[];
  readonly checksums: string;
  /** The packed runtime of the host's architecture (it made the blobs). */
  readonly hostRuntime: Runtime;
}

const USAGE =
  'usage: npm run build:executables -- --trusted-keys FILE [--flavour release|test] [--arch x64|arm64|all]\n' +
  '       [--out DIR (dist)] [--work DIR (.build/cross)] [--cache DIR] [--product-version V] [--no-kit]';

export function parseBuildArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): BuildOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      'trusted-keys': { type: 'string' },
      flavour: { type: 'string', default: 'release' },
      arch: { type: 'string', default: 'all' },
      out: { type: 'string' },
      work: { type: 'string' },
      cache: { type: 'string' },
      'product-version': { type: 'string' },
      'no-kit': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) throw new UsageError(USAGE);
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}\n${USAGE}`);
  const flavour = values.flavour;
  if (flavour !== 'release' && flavour !== 'test') throw new UsageError(`--flavour must be release or test\n${USAGE}`);
  const arch = values.arch;
  if (arch !== 'all' && arch !== 'x64' && arch !== 'arm64') throw new UsageError(`--arch must be x64, arm64 or all\n${USAGE}`);
  let trustedKeys: TrustedKeySet | null = null;
  const keysFile = values['trusted-keys'];
  if (keysFile) {
    let text: string;
    try {
      text = readFileSync(resolve(cwd, keysFile), 'utf8');
    } catch (err) {
      throw new BuildError(`cannot read --trusted-keys ${keysFile}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
    trustedKeys = parseTrustedKeySetText(text, keysFile); // KioskError KEYS_INVALID when it is not a key set
  } else if (flavour === 'release') {
    throw new UsageError(
      'a release build needs --trusted-keys FILE: the vendor\'s public key set (jwks.json as "license-server keys generate" writes it); ' +
        'it is the only key set the release executable will trust',
    );
  }
  const version = values['product-version'] ?? (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  if (!/^[0-9A-Za-z][0-9A-Za-z.+-]*$/.test(version)) throw new UsageError(`--product-version ${version} is not a version`);
  return {
    flavour,
    arches: arch === 'all' ? ARCHES : [arch],
    trustedKeys,
    outDir: resolve(cwd, values.out ?? join(REPO_ROOT, 'dist')),
    workDir: resolve(cwd, values.work ?? join(REPO_ROOT, '.build', 'cross')),
    cacheDir: resolve(cwd, values.cache ?? defaultCacheDir(env)),
    version,
    kit: !values['no-kit'],
  };
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function executableName(flavour: Flavour, arch: Arch): string {
  return `kiosk-agent${flavour === 'test' ? '-test' : ''}-linux-${arch}`;
}

/** Every tool the requested build needs, checked before any long step starts. */
function checkTools(arches: readonly Arch[], kit: boolean): void {
  requireTool('npm', 'to fetch the Node runtime from the npm registry');
  requireTool('tar', 'to unpack the Node runtime');
  for (const tool of ['make', 'python3', 'gcc', 'g++', 'readelf']) requireTool(tool, 'to compile the SQLite addon');
  for (const arch of arches) {
    const t = TARGETS[arch];
    requireTool(t.cc, `to compile the SQLite addon for ${t.target}`);
    requireTool(t.cxx, `to compile the SQLite addon for ${t.target}`);
    requireTool(t.strip, `to strip the Node runtime for ${t.target}`);
  }
  if (kit) requireTool('gzip', 'to pack the installer kit');
}

export async function buildExecutables(opts: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  const host = hostArch();
  checkTools(opts.arches, opts.kit);
  const versions = readVersions();
  const nodeVersion = versions.node.version;
  progress('setup', 'all', `flavour ${opts.flavour}, ${opts.arches.map((a) => TARGETS[a].target).join(' + ')}, version ${opts.version}, Node ${nodeVersion}, cache ${opts.cacheDir}`);
  mkdirSync(opts.outDir, { recursive: true });
  mkdirSync(opts.cacheDir, { recursive: true });

  const pin = (arch: Arch) => ({ version: nodeVersion, ...versions.node.tarballs[arch] });
  const needed = [...new Set<Arch>([host, ...opts.arches])];
  const runtimes = new Map<Arch, Runtime>();
  for (const arch of needed) runtimes.set(arch, await fetchRuntime(opts.cacheDir, arch, pin(arch)));
  const hostRuntime = runtimes.get(host)!;

  // The two addon compiles are single-threaded for most of their minute: run them side by side.
  const addons = await Promise.all(
    opts.arches.map((arch) => buildAddon({ cacheDir: opts.cacheDir, repoRoot: REPO_ROOT, floor: versions.glibcFloor }, runtimes.get(arch)!)),
  );
  const stripped = await Promise.all(opts.arches.map((arch) => strippedRuntime(opts.cacheDir, runtimes.get(arch)!)));

  const targets: BuiltTarget[] = [];
  for (const [i, arch] of opts.arches.entries()) {
    const addon = addons[i]!;
    const workDir = join(opts.workDir, `${opts.flavour}-${arch}`);
    mkdirSync(workDir, { recursive: true });
    const bundle = await bundleAgent({
      repoRoot: REPO_ROOT,
      outFile: join(workDir, 'kiosk-agent.cjs'),
      arch,
      flavour: opts.flavour,
      version: opts.version,
      trustedKeys: opts.trustedKeys,
      addonSha256: addon.sha256,
    });
    const blob = await makeSeaBlob({ workDir, arch, flavour: opts.flavour, bundle, addon: addon.file, hostNode: hostRuntime.node });
    const executable = await injectBlob({
      repoRoot: REPO_ROOT,
      workDir,
      arch,
      strippedNode: stripped[i]!,
      blob,
      outFile: join(opts.outDir, executableName(opts.flavour, arch)),
    });
    await smokeTest(executable, arch, { version: opts.version, flavour: opts.flavour, nodeVersion });
    const kit = opts.kit
      ? await makeKit({ repoRoot: REPO_ROOT, workDir, outDir: opts.outDir, exe: executable, arch, flavour: opts.flavour, version: opts.version, nodeVersion })
      : null;
    targets.push({ arch, executable, kit, addon, bundle, strippedRuntime: stripped[i]!, runtime: runtimes.get(arch)! });
  }
  const checksums = writeChecksums(opts.outDir);
  progress('setup', 'all', `done in ${seconds(started)}`);
  return { targets, checksums, hostRuntime };
}

async function main(): Promise<void> {
  let opts: BuildOptions;
  try {
    opts = parseBuildArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof UsageError ? '' : 'error: '}${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
    return;
  }
  try {
    await buildExecutables(opts);
  } catch (err) {
    process.stderr.write(`error: ${err instanceof BuildError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}

// Run as a script (tsx scripts/cross-build/build.ts …), not when imported by tests or the bench.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
