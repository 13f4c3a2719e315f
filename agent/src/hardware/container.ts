// Is this process in a container? Markers the container managers leave, read as files:
// /run/.containerenv (podman), /.dockerenv (docker), /run/systemd/container (systemd-nspawn and
// others write it), `container=` in init's environment, container cgroup paths of init.
import { containerFromCgroup, containerFromEnviron, normalizePlatformName } from '../domain/fingerprint-platform.ts';
import type { SysrootReader } from './sysroot-reader.ts';

export function detectContainer(reader: SysrootReader): string | null {
  if (reader.exists('/run/.containerenv')) return 'podman';
  if (reader.exists('/.dockerenv')) return 'docker';
  const systemd = reader.readText('/run/systemd/container');
  if (systemd.ok) {
    const name = normalizePlatformName(systemd.value);
    if (name !== null) return name;
  }
  // Root-only outside a container's own root; unreadable simply means no evidence.
  const environ = reader.readText('/proc/1/environ');
  if (environ.ok) {
    const name = containerFromEnviron(environ.value);
    if (name !== null) return name;
  }
  const cgroup = reader.readText('/proc/1/cgroup');
  return cgroup.ok ? containerFromCgroup(cgroup.value) : null;
}
