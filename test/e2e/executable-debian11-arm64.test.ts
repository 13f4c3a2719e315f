// The linux-arm64 executables against Debian 11's libc (glibc 2.31, libstdc++ of GCC 10): the
// oldest system the build promises (DESIGN §5). When Debian 11's packages could not be fetched,
// the symbol-version check (readelf) stands in, and the test says so.
import { describe, expect, it } from 'vitest';
import { symbolVersionReport } from '../../scripts/cross-build/lib/elf.ts';
import { e2eEnv } from './helpers/env.ts';
import { executableSuite } from './helpers/executable-suite.ts';
import { debian11Runner } from './helpers/run-exe.ts';

const env = e2eEnv();
const root = env.debian11.arm64;
if (root.ok) {
  executableSuite(debian11Runner('arm64', root.root, root.glibc));
} else {
  describe('linux-arm64 on Debian 11', () => {
    it(`could not fetch Debian 11's libc (${root.reason}); the executables ask for nothing newer than glibc ${env.floor.GLIBC}`, () => {
      for (const flavour of ['test', 'release'] as const) {
        expect(symbolVersionReport(env.executables[flavour].arm64, env.floor).tooNew).toEqual([]);
      }
    });
  });
}
