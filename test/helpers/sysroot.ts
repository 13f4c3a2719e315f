// Fixture sysroots (test/fixtures/sysroots/<name>): copy one to a temp dir and mutate it, or
// build a small in-memory file system for unit tests of the sysroot reader (no IO).
import { cpSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import type { FileAccess, FileKind } from '../../agent/src/hardware/sysroot-reader.ts';
import { nodeFileAccess } from '../../agent/src/hardware/sysroot-reader.ts';
import { REPO_ROOT } from './cli.ts';
import { makeTempDir } from './tmp.ts';

export const FIXTURE_SYSROOTS = ['rpi4-32bit', 'rpi4-64bit', 'arm64-generic', 'x64-pc', 'x64-placeholder-dmi', 'vm-qemu', 'container'] as const;
export type FixtureName = (typeof FIXTURE_SYSROOTS)[number];

/** The committed fixture itself (read-only use). */
export function fixtureSysroot(name: FixtureName): string {
  return join(REPO_ROOT, 'test', 'fixtures', 'sysroots', name);
}

/** A private copy of a fixture (symlinks kept as they are), removed when the test finishes. */
export function copySysroot(name: FixtureName): string {
  const dir = join(makeTempDir(`sysroot-${name}-`), 'root');
  cpSync(fixtureSysroot(name), dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

/** Writes a file inside a sysroot copy (parents made); replaces a symlink that was there. */
export function writeIn(root: string, path: string, content: string | Buffer): void {
  const p = join(root, path);
  mkdirSync(dirname(p), { recursive: true });
  rmSync(p, { force: true });
  writeFileSync(p, content);
}

/** Makes a symlink inside a sysroot copy with a literal target (replacing what was there). */
export function linkIn(root: string, path: string, target: string): void {
  const p = join(root, path);
  mkdirSync(dirname(p), { recursive: true });
  rmSync(p, { force: true, recursive: true });
  symlinkSync(target, p);
}

export function removeIn(root: string, path: string): void {
  rmSync(join(root, path), { force: true, recursive: true });
}

/** The real file system, but reading the given host paths fails with EACCES (as for non-root). */
export function denyingFileAccess(deniedHostPaths: readonly string[]): FileAccess {
  const denied = new Set(deniedHostPaths.map((p) => normalize(p)));
  return {
    ...nodeFileAccess,
    readFile(hostPath, maxBytes) {
      if (denied.has(normalize(hostPath))) throw errno('EACCES', 'open', hostPath);
      return nodeFileAccess.readFile(hostPath, maxBytes);
    },
  };
}

export type MemoryEntry = string | Buffer | { readonly link: string } | { readonly dir: true } | { readonly error: string } | { readonly fifo: true };

/**
 * An in-memory file system: keys are absolute host paths; parent directories are implied.
 * `{ error: 'EACCES' }` makes reading that file fail with that code (lstat still works).
 */
export function memoryFileAccess(tree: Readonly<Record<string, MemoryEntry>>): FileAccess & { reads: string[] } {
  const entries = new Map<string, MemoryEntry>();
  for (const [path, entry] of Object.entries(tree)) {
    entries.set(normalize(path), entry);
    for (let d = dirname(normalize(path)); d !== '/' && !entries.has(d); d = dirname(d)) entries.set(d, { dir: true });
  }
  entries.set('/', { dir: true });
  const reads: string[] = [];
  const get = (p: string, syscall: string): MemoryEntry => {
    const e = entries.get(normalize(p));
    if (e === undefined) throw errno('ENOENT', syscall, p);
    return e;
  };
  const kind = (e: MemoryEntry): FileKind =>
    typeof e === 'string' || Buffer.isBuffer(e) || 'error' in e ? 'file' : 'link' in e ? 'link' : 'dir' in e ? 'dir' : 'other';
  return {
    reads,
    lstat: (p) => {
      const e = entries.get(normalize(p));
      return e === undefined ? null : kind(e);
    },
    readlink(p) {
      const e = get(p, 'readlink');
      if (typeof e === 'string' || Buffer.isBuffer(e) || !('link' in e)) throw errno('EINVAL', 'readlink', p);
      return e.link;
    },
    readdir(p) {
      const dir = normalize(p);
      if (kind(get(dir, 'scandir')) !== 'dir') throw errno('ENOTDIR', 'scandir', p);
      const prefix = dir === '/' ? '/' : `${dir}/`;
      return [...entries.keys()].filter((k) => k !== dir && k.startsWith(prefix) && !k.slice(prefix.length).includes('/')).map((k) => k.slice(prefix.length));
    },
    readFile(p, maxBytes) {
      const e = get(p, 'open');
      reads.push(normalize(p));
      if (typeof e === 'string') return Buffer.from(e, 'utf8').subarray(0, maxBytes);
      if (Buffer.isBuffer(e)) return e.subarray(0, maxBytes);
      if ('error' in e) throw errno(e.error, 'open', p);
      if ('link' in e) throw errno('ELOOP', 'open', p);
      throw errno('EISDIR', 'read', p);
    },
  };
}

function errno(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, syscall, path });
}
