// Step (for the e2e tests and the docs' proof): Debian 11's runtime libraries (glibc 2.31,
// libstdc++ of GCC 10) for one architecture, unpacked into the cache. apt-get download runs
// under a private apt configuration (its own sources list, lists and archives under the cache;
// the host's apt state is not touched), then dpkg-deb -x. The x64 executable then runs through
// that root's own dynamic linker (`ld-linux-x86-64.so.2 --library-path …`), the arm64 one with
// `qemu-aarch64 -L <root>`. When the mirror says no, the reason comes back instead of a root.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheKey, cachedDir } from '../lib/cache.ts';
import { findTool, run } from '../lib/exec.ts';
import { progress, seconds } from '../lib/log.ts';
import type { Arch } from '../lib/targets.ts';

export interface Debian11Spec {
  /** "http://deb.debian.org/debian bullseye main" */
  readonly source: string;
  readonly packages: readonly string[];
}

export type Debian11Root =
  | { readonly ok: true; readonly root: string; readonly glibc: string }
  | { readonly ok: false; readonly reason: string };

const DEB_ARCH: Readonly<Record<Arch, string>> = { x64: 'amd64', arm64: 'arm64' };
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

export async function debian11Root(cacheDir: string, arch: Arch, spec: Debian11Spec): Promise<Debian11Root> {
  const started = Date.now();
  for (const tool of ['apt-get', 'dpkg-deb']) {
    if (!findTool(tool)) return { ok: false, reason: `${tool} is not installed (this is not a Debian-like host)` };
  }
  const key = cacheKey({ source: spec.source, packages: spec.packages.join(','), arch });
  try {
    const { dir, cached } = await cachedDir(cacheDir, 'debian11', `${arch}-${key.slice(0, 16)}`, async (tmp) => {
      const apt = join(tmp, 'apt');
      for (const d of ['etc/apt.conf.d', 'etc/preferences.d', 'etc/sources.list.d', 'lists/partial', 'archives/partial', 'debs']) {
        mkdirSync(join(apt, d), { recursive: true });
      }
      writeFileSync(join(apt, 'status'), '');
      // Signed by Debian's archive keys when the host has them, else taken as trusted (build-probe.md did the same).
      const trust = existsSync(KEYRING) ? `signed-by=${KEYRING}` : 'trusted=yes';
      writeFileSync(join(apt, 'etc', 'sources.list'), `deb [${trust} arch=${DEB_ARCH[arch]}] ${spec.source}\n`);
      const conf = join(apt, 'apt.conf');
      writeFileSync(
        conf,
        [
          `Dir::Etc "${join(apt, 'etc')}/";`,
          `Dir::Etc::sourcelist "${join(apt, 'etc', 'sources.list')}";`,
          `Dir::Etc::sourceparts "${join(apt, 'etc', 'sources.list.d')}/";`,
          `Dir::Etc::parts "${join(apt, 'etc', 'apt.conf.d')}/";`,
          `Dir::Etc::preferencesparts "${join(apt, 'etc', 'preferences.d')}/";`,
          `Dir::State::lists "${join(apt, 'lists')}/";`,
          `Dir::State::status "${join(apt, 'status')}";`,
          `Dir::Cache "${join(apt, 'cache')}/";`,
          `Dir::Cache::archives "${join(apt, 'archives')}/";`,
          `APT::Architecture "${DEB_ARCH[arch]}";`,
          `APT::Architectures { "${DEB_ARCH[arch]}"; };`,
          'Acquire::Languages "none";',
          'APT::Sandbox::User "root";',
          '',
        ].join('\n'),
      );
      const env = { ...process.env, APT_CONFIG: conf, DEBIAN_FRONTEND: 'noninteractive' };
      const log = join(tmp, 'apt.log');
      await run('apt-get', ['-q', 'update'], { env, logFile: log, what: 'apt-get update (Debian 11 lists)' });
      const debs = join(apt, 'debs');
      await run('apt-get', ['-q', 'download', ...spec.packages.map((p) => `${p}:${DEB_ARCH[arch]}`)], {
        env,
        cwd: debs,
        logFile: log,
        what: 'apt-get download (Debian 11 libraries)',
      });
      const root = join(tmp, 'root');
      mkdirSync(root);
      for (const deb of readdirSync(debs).filter((f) => f.endsWith('.deb'))) {
        await run('dpkg-deb', ['-x', join(debs, deb), root], { what: `unpacking ${deb}` });
      }
    });
    const root = join(dir, 'root');
    const libc = readdirSync(join(dir, 'apt', 'debs')).find((f) => f.startsWith('libc6_')) ?? '';
    const glibc = /^libc6_([0-9.]+)/.exec(libc)?.[1] ?? 'unknown';
    progress('debian11', arch === 'x64' ? 'linux-x64' : 'linux-arm64', `glibc ${glibc} root ${root} ${cached ? '(cached)' : `fetched in ${seconds(started)}`}`);
    return { ok: true, root, glibc };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

/** argv that runs `exe args…` against a Debian 11 root: through its ld.so (x64) or qemu -L (arm64). */
export function debian11Command(arch: Arch, root: string, exe: string, args: readonly string[], qemu = 'qemu-aarch64'): [string, string[]] {
  if (arch === 'x64') {
    const lib = join(root, 'lib', 'x86_64-linux-gnu');
    const usrLib = join(root, 'usr', 'lib', 'x86_64-linux-gnu');
    return [join(lib, 'ld-linux-x86-64.so.2'), ['--library-path', `${lib}:${usrLib}`, exe, ...args]];
  }
  return [qemu, ['-L', root, exe, ...args]];
}
