// The build cache: expensive outputs (runtimes, addons, stripped runtimes, Debian 11 roots)
// live under `$KIOSK_BUILD_CACHE` or `$HOME/.cache/kiosk-agent-build`, outside dist and the
// repo, each in a directory named by a hash of everything that went into it. A directory is
// made under a temporary name and renamed into place when complete, so an interrupted build
// never leaves a half entry, and two builds at once both end with one good entry.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KIOSK_BUILD_CACHE) return env.KIOSK_BUILD_CACHE;
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'kiosk-agent-build');
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256File(file: string): string {
  return sha256(readFileSync(file));
}

/** A key over named parts (order-independent names, exact values). */
export function cacheKey(parts: Readonly<Record<string, string>>): string {
  const h = createHash('sha256');
  for (const name of Object.keys(parts).sort()) h.update(`${name}\0${parts[name]}\0`);
  return h.digest('hex');
}

/** SHA-256 over a directory tree's relative paths and contents (sorted, files only). */
export function treeHash(root: string, include: (rel: string) => boolean = () => true): string {
  const h = createHash('sha256');
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const rel = relative(root, full);
      const st = statSync(full);
      if (st.isDirectory()) walk(full);
      else if (st.isFile() && include(rel)) h.update(`${rel}\0`).update(readFileSync(full)).update('\0');
    }
  };
  walk(root);
  return h.digest('hex');
}

/**
 * `<cache>/<area>/<name>`: returns it at once when present (cached), else runs `make` on a fresh
 * temporary directory and renames that into place.
 */
export async function cachedDir(
  cacheDir: string,
  area: string,
  name: string,
  make: (tmpDir: string) => Promise<void>,
): Promise<{ dir: string; cached: boolean }> {
  const dir = join(cacheDir, area, name);
  if (existsSync(join(dir, '.complete'))) return { dir, cached: true };
  mkdirSync(join(cacheDir, area), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await make(tmp);
    writeFileSync(join(tmp, '.complete'), new Date().toISOString());
    rmSync(dir, { recursive: true, force: true }); // a stale entry without .complete
    try {
      renameSync(tmp, dir);
    } catch (err) {
      // Another build finished the same entry first: keep theirs.
      if (!existsSync(join(dir, '.complete'))) throw err;
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return { dir, cached: false };
}
