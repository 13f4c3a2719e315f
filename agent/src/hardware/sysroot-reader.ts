// Reads files under a sysroot without ever leaving it. Paths are "virtual" (absolute, as on the
// device: "/sys/class/net/eth0/address"); every component is resolved here with lstat/readlink —
// relative link targets within the sysroot (".." stops at its root), absolute ones re-rooted
// under it — so a link can never lead out. Only regular files are read (a FIFO or /dev/zero
// behind a link cannot block or flood us), opened with O_NOFOLLOW, size-capped.
// The file system itself is injected (FileAccess) so tests can simulate EACCES as root.
import { closeSync, constants, lstatSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';
import { join } from 'node:path';

export type FileKind = 'file' | 'dir' | 'link' | 'other';

/** Host file-system primitives; each throws a Node errno error (code ENOENT, EACCES …). */
export interface FileAccess {
  /** The kind of the entry itself (a link is not followed); null when nothing is there. */
  lstat(hostPath: string): FileKind | null;
  readlink(hostPath: string): string;
  readdir(hostPath: string): string[];
  /** Reads at most maxBytes of a regular file without following a final symlink. */
  readFile(hostPath: string, maxBytes: number): Buffer;
}

export const nodeFileAccess: FileAccess = {
  lstat(hostPath) {
    const st = lstatSync(hostPath, { throwIfNoEntry: false });
    if (st === undefined) return null;
    return st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  },
  readlink: (hostPath) => readlinkSync(hostPath, 'utf8'),
  readdir: (hostPath) => readdirSync(hostPath, 'utf8'),
  readFile(hostPath, maxBytes) {
    const fd = openSync(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const chunks: Buffer[] = [];
      let total = 0;
      for (;;) {
        const buf = Buffer.alloc(Math.min(64 * 1024, maxBytes - total));
        if (buf.length === 0) break;
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        chunks.push(buf.subarray(0, n));
        total += n;
      }
      return Buffer.concat(chunks);
    } finally {
      closeSync(fd);
    }
  },
};

export type ReadFailure = 'absent' | 'denied' | 'error';

export type ReadResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly failure: ReadFailure; readonly code: string };

export interface SysrootReader {
  readonly sysroot: string;
  /** The file's bytes (a regular file only). */
  readBytes(path: string): ReadResult<Buffer>;
  /** The file's text (UTF-8). */
  readText(path: string): ReadResult<string>;
  /** The path with every symlink resolved (virtual), or null when it does not resolve. */
  resolve(path: string): string | null;
  /** The target text of a symlink (not resolved), or null when the path is not a link. */
  readLink(path: string): string | null;
  /** Sorted directory entries; empty when the path is not a readable directory. */
  list(path: string): string[];
  exists(path: string): boolean;
}

/** Files larger than this are cut (a /proc/cpuinfo of 256 cores is ~400 KB). */
export const MAX_READ_BYTES = 1024 * 1024;
const MAX_LINK_HOPS = 40;

type Resolution =
  | { readonly ok: true; readonly parts: readonly string[]; readonly kind: FileKind }
  | { readonly ok: false; readonly failure: ReadFailure; readonly code: string };

export function createSysrootReader(sysroot: string, fs: FileAccess = nodeFileAccess): SysrootReader {
  const host = (parts: readonly string[]): string => join(sysroot, ...parts);
  // One reader serves one collection: path lookups repeat a lot (every /sys/class/net/X/… walks
  // the same links), so lstat and readlink results are remembered, errors included.
  const lstat = memoize((p) => fs.lstat(p));
  const readlink = memoize((p) => fs.readlink(p));

  /** Resolves all components (followFinal) or all but the last (for reading a link itself). */
  function resolveParts(path: string, followFinal: boolean): Resolution {
    let done: string[] = [];
    let todo = splitPath(path);
    let kind: FileKind = 'dir';
    let hops = 0;
    while (todo.length > 0) {
      const part = todo[0]!;
      todo = todo.slice(1);
      if (part === '.') continue;
      if (part === '..') {
        done = done.slice(0, -1);
        kind = 'dir';
        continue;
      }
      const candidate = [...done, part];
      let k: FileKind | null;
      try {
        k = lstat(host(candidate));
      } catch (err) {
        return failed(err);
      }
      if (k === null) return { ok: false, failure: 'absent', code: 'ENOENT' };
      if (k === 'link' && (followFinal || todo.length > 0)) {
        if (++hops > MAX_LINK_HOPS) return { ok: false, failure: 'error', code: 'ELOOP' };
        let target: string;
        try {
          target = readlink(host(candidate));
        } catch (err) {
          return failed(err);
        }
        if (target.startsWith('/')) done = [];
        todo = [...splitPath(target), ...todo];
        kind = 'dir';
        continue;
      }
      if (todo.length > 0 && k !== 'dir') return { ok: false, failure: 'absent', code: 'ENOTDIR' };
      done = candidate;
      kind = k;
    }
    return { ok: true, parts: done, kind };
  }

  function readBytes(path: string): ReadResult<Buffer> {
    const r = resolveParts(path, true);
    if (!r.ok) return r;
    if (r.kind !== 'file') return { ok: false, failure: r.kind === 'dir' ? 'error' : 'absent', code: r.kind === 'dir' ? 'EISDIR' : 'ENOTREG' };
    try {
      return { ok: true, value: fs.readFile(host(r.parts), MAX_READ_BYTES) };
    } catch (err) {
      return failed(err);
    }
  }

  return {
    sysroot,
    readBytes,
    readText(path) {
      const r = readBytes(path);
      return r.ok ? { ok: true, value: r.value.toString('utf8') } : r;
    },
    resolve(path) {
      const r = resolveParts(path, true);
      return r.ok ? `/${r.parts.join('/')}` : null;
    },
    readLink(path) {
      const r = resolveParts(path, false);
      if (!r.ok || r.kind !== 'link') return null;
      try {
        return readlink(host(r.parts));
      } catch {
        return null;
      }
    },
    list(path) {
      const r = resolveParts(path, true);
      if (!r.ok || r.kind !== 'dir') return [];
      try {
        return fs.readdir(host(r.parts)).sort();
      } catch {
        return [];
      }
    },
    exists(path) {
      return resolveParts(path, true).ok;
    },
  };
}

function memoize<T>(fn: (hostPath: string) => T): (hostPath: string) => T {
  const cache = new Map<string, { value: T } | { error: unknown }>();
  return (hostPath) => {
    let hit = cache.get(hostPath);
    if (hit === undefined) {
      try {
        hit = { value: fn(hostPath) };
      } catch (error) {
        hit = { error };
      }
      cache.set(hostPath, hit);
    }
    if ('error' in hit) throw hit.error;
    return hit.value;
  };
}

function splitPath(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

function failed(err: unknown): { ok: false; failure: ReadFailure; code: string } {
  const code = typeof (err as NodeJS.ErrnoException)?.code === 'string' ? (err as NodeJS.ErrnoException).code! : 'EUNKNOWN';
  if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, failure: 'absent', code };
  if (code === 'EACCES' || code === 'EPERM') return { ok: false, failure: 'denied', code };
  return { ok: false, failure: 'error', code };
}

/** The last component of a path or link target ("../../bus/pci/drivers/e1000e" → "e1000e"). */
export function baseName(path: string): string {
  const parts = splitPath(path);
  return parts[parts.length - 1] ?? '';
}

/** The parent of a virtual path ("/a/b/c" → "/a/b"). */
export function parentPath(path: string): string {
  const parts = splitPath(path);
  return `/${parts.slice(0, -1).join('/')}`;
}
