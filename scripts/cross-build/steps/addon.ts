// Step: better-sqlite3's native addon for one target, compiled against the packed Node 24
// runtime's headers (node-gyp --nodedir: the ABI is Node 24's, not the host Node's), with the
// glibc compat shims of research/build-probe.md §7 (compat/) so it asks for nothing newer than
// Debian 11 has. x64 with gcc/g++, arm64 with the aarch64-linux-gnu cross compilers. The result
// is stripped, its ELF machine and symbol versions are checked (a version above the floor in
// versions.json fails the build), and it is cached by a hash of every input.
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheKey, cachedDir, sha256File, treeHash } from '../lib/cache.ts';
import { symbolVersionReport, type SymbolVersionReport } from '../lib/elf.ts';
import { findTool, requireTool, run } from '../lib/exec.ts';
import { BuildError, progress, seconds } from '../lib/log.ts';
import { TARGETS, type Arch } from '../lib/targets.ts';
import type { Runtime } from './runtime.ts';

/** Bump when the recipe below changes in a way the inputs do not show. */
const RECIPE = 'addon-recipe-3';

export interface Addon {
  readonly arch: Arch;
  readonly file: string;
  readonly sha256: string;
  readonly symbols: SymbolVersionReport;
}

export interface AddonInputs {
  readonly cacheDir: string;
  readonly repoRoot: string;
  readonly floor: { readonly GLIBC: string; readonly GLIBCXX: string };
}

export async function buildAddon(inputs: AddonInputs, runtime: Runtime): Promise<Addon> {
  const started = Date.now();
  const t = TARGETS[runtime.arch];
  const cc = requireTool(t.cc, `to compile the SQLite addon for ${t.target}`);
  const cxx = requireTool(t.cxx, `to compile the SQLite addon for ${t.target}`);
  const strip = requireTool(t.strip, `to strip the SQLite addon for ${t.target}`);
  requireTool('make', 'by node-gyp');
  requireTool('python3', 'by node-gyp');
  requireTool('readelf', 'to check the addon');
  // node-gyp's host tools (gyp actions) are always the host compilers
  requireTool('gcc', 'by node-gyp');
  requireTool('g++', 'by node-gyp');
  const nodeGyp = resolveNodeGyp();
  const sourceDir = join(inputs.repoRoot, 'node_modules', 'better-sqlite3');
  const compatDir = join(inputs.repoRoot, 'scripts', 'cross-build', 'compat');
  const bs3Version = (JSON.parse(readFileSync(join(sourceDir, 'package.json'), 'utf8')) as { version: string }).version;
  const key = cacheKey({
    recipe: RECIPE,
    arch: runtime.arch,
    betterSqlite3: bs3Version,
    sources: treeHash(sourceDir, (rel) => /^(binding\.gyp|deps\/|src\/)/.test(rel)),
    compat: treeHash(compatDir),
    runtime: runtime.sha256,
    cc: await firstLine(cc, ['--version']),
    cxx: await firstLine(cxx, ['--version']),
    nodeGyp: await firstLine(process.execPath, [nodeGyp, '--version']),
    floor: JSON.stringify(inputs.floor),
  });
  const { dir, cached } = await cachedDir(inputs.cacheDir, 'addon', `${runtime.arch}-${key.slice(0, 16)}`, async (tmp) => {
    progress('addon', t.target, `compiling better-sqlite3 ${bs3Version} for Node ${runtime.version} (about a minute) …`);
    const src = join(tmp, 'better-sqlite3');
    cpSync(sourceDir, src, { recursive: true, filter: (from) => !/[/\\](build|node_modules)$/.test(from) });
    const shimC = join(tmp, 'glibc_compat.o');
    const shimCxx = join(tmp, 'cxx_compat.o');
    const log = join(tmp, 'build.log');
    await run(cc, ['-O2', '-fPIC', '-c', join(compatDir, 'glibc_compat.c'), '-o', shimC], { logFile: log, what: 'compiling glibc_compat.c' });
    await run(cxx, ['-O2', '-fPIC', '-c', join(compatDir, 'cxx_compat.cc'), '-o', shimCxx], { logFile: log, what: 'compiling cxx_compat.cc' });
    const include = `-include ${join(compatDir, 'glibc_compat.h')}`;
    await run(
      process.execPath,
      [nodeGyp, 'rebuild', '--release', `--arch=${t.gypArch}`, `--nodedir=${runtime.dir}`, '-j', '2'],
      { cwd: src, env: gypEnv({ CC: cc, CXX: cxx, LINK: cxx, CC_host: 'gcc', CXX_host: 'g++', CFLAGS: include, CXXFLAGS: include, LDFLAGS: `${shimC} ${shimCxx}` }), logFile: log, what: `node-gyp for ${t.target}` },
    );
    const out = join(tmp, 'better_sqlite3.node');
    cpSync(join(src, 'build', 'Release', 'better_sqlite3.node'), out);
    await run(strip, ['--strip-unneeded', out], { logFile: log, what: 'stripping the addon' });
    rmSync(src, { recursive: true, force: true });
    const machine = await firstLine('readelf', ['-h', out], /Machine:\s+(.*)$/m);
    if (machine !== t.elfMachine) throw new BuildError(`the ${t.target} addon is for "${machine}", not "${t.elfMachine}"`);
    const symbols = symbolVersionReport(out, inputs.floor);
    if (symbols.tooNew.length) {
      throw new BuildError(
        `the ${t.target} addon needs symbol versions above the floor (GLIBC ${inputs.floor.GLIBC}, GLIBCXX ${inputs.floor.GLIBCXX}): ` +
          `${symbols.tooNew.join(', ')}; extend scripts/cross-build/compat/ (build log ${log})`,
      );
    }
    writeFileSync(join(tmp, 'addon.json'), JSON.stringify({ sha256: sha256File(out), betterSqlite3: bs3Version, node: runtime.version, symbols }, null, 2));
  });
  const file = join(dir, 'better_sqlite3.node');
  const meta = JSON.parse(readFileSync(join(dir, 'addon.json'), 'utf8')) as { sha256: string; symbols: SymbolVersionReport };
  if (sha256File(file) !== meta.sha256) throw new BuildError(`the cached addon ${file} was altered; delete ${dir} and build again`);
  progress(
    'addon',
    t.target,
    `better_sqlite3.node sha256 ${meta.sha256.slice(0, 16)}… needs GLIBC ${meta.symbols.glibc}, GLIBCXX ${meta.symbols.glibcxx} ${cached ? '(cached)' : `built in ${seconds(started)}`}`,
  );
  return { arch: runtime.arch, file, sha256: meta.sha256, symbols: meta.symbols };
}

/** npm's own node-gyp: the one npm run provides, else the one beside npm. */
export function resolveNodeGyp(): string {
  const candidates = [process.env.npm_config_node_gyp];
  const npm = findTool('npm');
  if (npm) {
    // /usr/bin/npm → /usr/lib/node_modules/npm/bin/npm-cli.js
    candidates.push(join(dirname(dirname(npm)), 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  candidates.push(join(dirname(dirname(process.execPath)), 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  for (const c of candidates) if (c && existsSync(c)) return c;
  throw new BuildError('node-gyp is missing: it comes with npm (apt-get install -y npm), or set npm_config_node_gyp to node-gyp.js');
}

/** The environment for node-gyp: npm's config variables that would redirect it are dropped. */
function gypEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_config_(nodedir|arch|target|target_arch|runtime|dist_url|build_from_source|devdir)$/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

async function firstLine(cmd: string, args: readonly string[], pick?: RegExp): Promise<string> {
  const { stdout } = await run(cmd, args, { what: `${cmd} ${args.join(' ')}` });
  if (pick) return pick.exec(stdout)?.[1]?.trim() ?? '';
  return stdout.split('\n')[0]?.trim() ?? '';
}
