// Reads at most `maxBytes + 1` bytes of a file, so a caller can tell "at the limit" from "over
// it" without reading a huge file whole (request files, tokens, deactivation files).
import { closeSync, openSync, readSync } from 'node:fs';

export interface CappedRead {
  /** What was read: at most maxBytes + 1 bytes. */
  readonly bytes: Buffer;
  /** The file holds more than maxBytes. */
  readonly oversized: boolean;
}

export function readFileCapped(path: string, maxBytes: number): CappedRead {
  const buf = Buffer.alloc(maxBytes + 1);
  let length = 0;
  const fd = openSync(path, 'r');
  try {
    while (length < buf.length) {
      const n = readSync(fd, buf, length, buf.length - length, null);
      if (n === 0) break;
      length += n;
    }
  } finally {
    closeSync(fd);
  }
  return { bytes: buf.subarray(0, length), oversized: length > maxBytes };
}

/** UTF-8 text without a leading byte-order mark. */
export const textOf = (bytes: Buffer): string => bytes.toString('utf8').replace(/^\uFEFF/, '');
