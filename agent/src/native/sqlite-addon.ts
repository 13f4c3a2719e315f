// The one module that loads better-sqlite3's native addon from inside the single executable
// (STYLE 6; DESIGN §5). The addon travels as an SEA asset; a process cannot dlopen memory, so it
// is written once to `<dataDir>/native/<sha256 prefix>/better_sqlite3.node` (temp file, fsync,
// rename: atomic, race-safe between two starting processes) and `process.dlopen`ed from there.
//
// The SHA-256 is fixed at build time (scripts/cross-build puts it into the bundle). Before every
// load the file on disk is hashed and compared with it: a missing, truncated, stale or altered
// copy is replaced from the executable's own asset, and a file that still does not match is
// never loaded. Called only when the store is first opened (app.ts), so `--version`, `fingerprint`
// and a `license status` without a database never touch the data dir for it.
//
// Failures name the fix: a read-only data dir, one the agent's user may not write, and one on a
// file system mounted noexec (dlopen maps the file executable) are DATA_DIR_UNUSABLE.
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../../../common/atomic-write.ts';
import { KioskError } from '../../../common/errors.ts';

/** The SEA asset key and the file name on disk. */
export const SQLITE_ADDON_ASSET = 'better_sqlite3.node';
export const SQLITE_ADDON_FILE = 'better_sqlite3.node';
/** Hex digits of the hash used for the directory name. */
const DIR_HASH_CHARS = 16;

export interface SqliteAddonSource {
  /** The hex SHA-256 of the addon, fixed at build time. */
  readonly sha256: string;
  /** The addon's bytes (the SEA asset); read only when the copy on disk is missing or wrong. */
  readBytes(): Uint8Array;
}

export interface LoadSqliteAddonDeps {
  /** process.dlopen by default; tests and the bench may wrap it. */
  readonly dlopen?: (file: string) => unknown;
  /** /proc/self/mountinfo text, to tell a noexec mount apart from other dlopen failures. */
  readonly readMountInfo?: () => string;
}

/** `<dataDir>/native/<first 16 hex digits of the hash>/better_sqlite3.node` */
export function sqliteAddonPath(dataDir: string, sha256: string): string {
  return join(dataDir, 'native', sha256.slice(0, DIR_HASH_CHARS), SQLITE_ADDON_FILE);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Makes sure `<dataDir>/native/<hash>/better_sqlite3.node` holds exactly the build-time addon
 * and loads it. Returns better-sqlite3's binding (its `nativeBinding` option).
 */
export function loadSqliteAddon(dataDir: string, source: SqliteAddonSource, deps: LoadSqliteAddonDeps = {}): unknown {
  const expected = source.sha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(expected)) throw new KioskError('INTERNAL', 'this build carries no valid hash of its SQLite addon');
  const file = sqliteAddonPath(resolve(dataDir), expected);
  if (fileSha256(file) !== expected) {
    const bytes = source.readBytes();
    if (sha256Hex(bytes) !== expected) {
      throw new KioskError('INTERNAL', 'the SQLite addon inside this executable does not match its build-time hash: the executable is damaged; reinstall it');
    }
    writeAddon(dataDir, file, bytes);
    if (fileSha256(file) !== expected) {
      throw new KioskError('DATA_DIR_UNUSABLE', `${file} does not hold the addon just written to it; check the file system under ${dataDir}`, {
        details: { dataDir, file },
      });
    }
    removeOtherVersions(dirname(dirname(file)), expected.slice(0, DIR_HASH_CHARS));
  }
  return dlopenAddon(dataDir, file, deps);
}

/** The file's SHA-256, or null when it cannot be read (absent, a directory, no permission). */
function fileSha256(file: string): string | null {
  try {
    return sha256Hex(readFileSync(file));
  } catch {
    return null;
  }
}

function writeAddon(dataDir: string, file: string, bytes: Uint8Array): void {
  try {
    // 0700 for every directory made here, the data dir included (as ensureDataDir does).
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // Read and execute for the owner only: nobody else needs it, and it is never edited in place.
    writeFileAtomic(file, bytes, 0o500);
  } catch (err) {
    throw unusableDataDir(dataDir, file, err);
  }
}

/** Copies left by earlier versions of the executable (best effort: a running old daemon keeps its mapping). */
function removeOtherVersions(nativeDir: string, keep: string): void {
  let entries: string[];
  try {
    entries = readdirSync(nativeDir);
  } catch {
    return;
  }
  for (const name of entries) {
    if (name === keep || !/^[0-9a-f]{16}$/.test(name)) continue;
    try {
      rmSync(join(nativeDir, name), { recursive: true, force: true });
    } catch {
      // not ours to worry about: the next start tries again
    }
  }
}

function dlopenAddon(dataDir: string, file: string, deps: LoadSqliteAddonDeps): unknown {
  try {
    if (deps.dlopen) return deps.dlopen(file);
    const module = { exports: {} as unknown };
    process.dlopen(module, file);
    return module.exports;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const mount = mountOf(file, deps.readMountInfo ?? readProcMountInfo);
    if (mount?.noexec || /failed to map segment/i.test(message)) {
      const where = mount ? `${mount.mountPoint} is mounted noexec` : 'the file system does not allow executable mappings (noexec?)';
      throw new KioskError(
        'DATA_DIR_UNUSABLE',
        `cannot load the SQLite addon from ${file}: ${where}. Mount ${mount?.mountPoint ?? 'it'} without noexec, ` +
          `or set the data dir elsewhere (--data-dir DIR or KIOSK_AGENT_DATA_DIR) on a file system that allows executables`,
        { cause: err, details: { dataDir, file } },
      );
    }
    throw new KioskError('INTERNAL', `cannot load the SQLite addon ${file}: ${message}`, { cause: err, details: { file } });
  }
}

function unusableDataDir(dataDir: string, file: string, err: unknown): KioskError {
  if (err instanceof KioskError) return err;
  const code = writeFailureCode(dirname(file), (err as NodeJS.ErrnoException).code ?? 'error');
  const why =
    code === 'EROFS'
      ? 'it is on a read-only file system'
      : code === 'EACCES' || code === 'EPERM'
        ? `this user (uid ${process.getuid?.() ?? '?'}) may not write there`
        : code === 'ENOSPC'
          ? 'the file system is full'
          : `writing failed with ${code}`;
  return new KioskError(
    'DATA_DIR_UNUSABLE',
    `cannot write the SQLite addon to ${dirname(file)}: ${why}. The data dir must be writable by the agent's user ` +
      `(mount it read-write, or chown it to that user), or set the data dir elsewhere (--data-dir DIR or KIOSK_AGENT_DATA_DIR)`,
    { cause: err, details: { dataDir, file } },
  );
}

/**
 * The real reason a write under `dir` failed: a recursive mkdir on a read-only file system
 * reports ENOENT, so ask the nearest existing ancestor whether it can be written.
 */
function writeFailureCode(dir: string, code: string): string {
  if (code !== 'ENOENT') return code;
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(d)) {
      try {
        accessSync(d, constants.W_OK);
        return code;
      } catch (err) {
        return (err as NodeJS.ErrnoException).code ?? code;
      }
    }
    if (dirname(d) === d) return code;
  }
}

export interface MountEntry {
  readonly mountPoint: string;
  readonly noexec: boolean;
}

/** The mount that holds `path` (longest mount point prefix) from mountinfo text; null when unknown. */
export function mountOf(path: string, readMountInfo: () => string): MountEntry | null {
  let text: string;
  try {
    text = readMountInfo();
  } catch {
    return null;
  }
  let best: MountEntry | null = null;
  for (const line of text.split('\n')) {
    // id parent major:minor root mount-point options [optional fields] - fstype source super-options
    const fields = line.split(' ');
    const mountPoint = fields[4]?.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
    const options = fields[5];
    if (!mountPoint || !options) continue;
    const inside = mountPoint === '/' || path === mountPoint || path.startsWith(`${mountPoint}/`);
    // The later of two equal mount points is the one on top.
    if (inside && (!best || mountPoint.length >= best.mountPoint.length)) {
      best = { mountPoint, noexec: options.split(',').includes('noexec') };
    }
  }
  return best;
}

function readProcMountInfo(): string {
  return readFileSync('/proc/self/mountinfo', 'utf8');
}
