// This server's public key set (DIR/jwks.json) for checking our own tokens when they come back:
// every key listed there, not only the signing one. Read again whenever the file changes, so a
// `keys generate|activate|retire` in another process shows in a running server at once.
import { statSync, readFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { KioskError } from '../../../common/errors.ts';
import { parseTrustedKeySetText, type TrustedKeySet } from '../../../common/trusted-keys.ts';
import type { ServerKeySet } from '../domain/deps.ts';
import { JWKS_FILE } from './key-dir.ts';

export function createServerKeySetReader(keysDir: string): ServerKeySet {
  const path = join(keysDir, JWKS_FILE);
  let cached: { readonly stamp: string; readonly set: TrustedKeySet } | undefined;
  return async () => {
    let stats: Stats;
    try {
      stats = statSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new KioskError('KEYS_MISSING', `no key set at ${path}: run license-server keys generate --out ${keysDir}`);
      }
      throw err;
    }
    const stamp = `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
    if (cached?.stamp !== stamp) cached = { stamp, set: parseTrustedKeySetText(readFileSync(path, 'utf8'), path) };
    return cached.set;
  };
}
