// Step: dist/SHA256SUMS over every artifact in the output dir (executables and kits of any
// flavour and arch present), in `sha256sum -c` format, written atomically.
import { readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256File } from '../lib/cache.ts';
import { progress } from '../lib/log.ts';

export const ARTIFACT_PATTERN = /^kiosk-agent(-test)?-(linux-(x64|arm64)|[0-9][^/]*-linux-(x64|arm64)\.tar\.gz)$/;

export function writeChecksums(outDir: string): string {
  const names = readdirSync(outDir)
    .filter((n) => ARTIFACT_PATTERN.test(n) && statSync(join(outDir, n)).isFile())
    .sort();
  const text = names.map((n) => `${sha256File(join(outDir, n))}  ${n}\n`).join('');
  const file = join(outDir, 'SHA256SUMS');
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
  progress('checksums', 'dist', `${file}: ${names.length} artifacts`);
  return file;
}
