// Step: the official Node runtime for a target, from the npm registry. `npm pack` (not install:
// the arm64 package refuses to install on x64) into the cache, SHA-256 checked against
// versions.json before anything of it is used (oclif's habit), then bin/node and the headers
// (include/node, for node-gyp --nodedir) unpacked beside it.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cachedDir, sha256File } from '../lib/cache.ts';
import { requireTool, run } from '../lib/exec.ts';
import { BuildError, progress, seconds } from '../lib/log.ts';
import { TARGETS, type Arch } from '../lib/targets.ts';

export interface RuntimePin {
  readonly version: string;
  readonly package: string;
  readonly sha256: string;
}

export interface Runtime {
  readonly arch: Arch;
  readonly version: string;
  /** The tarball's SHA-256 (as pinned). */
  readonly sha256: string;
  /** The unpacked package: bin/node, include/node */
  readonly dir: string;
  readonly node: string;
}

export async function fetchRuntime(cacheDir: string, arch: Arch, pin: RuntimePin): Promise<Runtime> {
  const started = Date.now();
  const target = TARGETS[arch].target;
  const spec = `${pin.package}@${pin.version}`;
  const name = `${pin.package}-${pin.version}-${pin.sha256.slice(0, 16)}`;
  const { dir, cached } = await cachedDir(cacheDir, 'runtime', name, async (tmp) => {
    const tarball = await packedTarball(cacheDir, spec, pin);
    requireTool('tar', 'to unpack the Node runtime');
    await run('tar', ['-xzf', tarball, '-C', tmp, 'package/bin/node', 'package/include/node', 'package/LICENSE'], { what: `unpacking ${spec}` });
  });
  progress('runtime', target, `${spec} sha256 ${pin.sha256.slice(0, 16)}… ${cached ? '(cached)' : `fetched and verified in ${seconds(started)}`}`);
  return { arch, version: pin.version, sha256: pin.sha256, dir: join(dir, 'package'), node: join(dir, 'package', 'bin', 'node') };
}

/** `<cache>/tarballs/<package>-<version>.tgz`, packed when absent, always checked against the pin. */
async function packedTarball(cacheDir: string, spec: string, pin: RuntimePin): Promise<string> {
  const dir = join(cacheDir, 'tarballs');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${pin.package}-${pin.version}.tgz`);
  if (!existsSync(file)) {
    const npm = requireTool('npm', 'to fetch the Node runtime from the npm registry');
    const tmp = join(dir, `.pack-${process.pid}-${Date.now()}`);
    mkdirSync(tmp);
    try {
      // cwd outside the repo: the project's own .npmrc and package.json play no part.
      await run(npm, ['pack', spec, '--pack-destination', tmp, '--silent'], { cwd: tmp, what: `npm pack ${spec}` });
      const packed = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
      if (!packed) throw new BuildError(`npm pack ${spec} wrote no tarball`);
      renameSync(join(tmp, packed), file);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const actual = sha256File(file);
  if (actual !== pin.sha256) {
    rmSync(file, { force: true });
    throw new BuildError(
      `${spec} from the registry has SHA-256 ${actual}, but scripts/cross-build/versions.json pins ${pin.sha256}: refusing it ` +
        '(the tarball was deleted; change the pin only after checking the new tarball)',
    );
  }
  return file;
}
