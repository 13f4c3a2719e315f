// Step: one CommonJS file of the agent for one target (esbuild): minified, optional requires
// aliased to a stub, `__KIOSK_VERSION__` and `__KIOSK_BUILD_INFO__` (flavour, target, trusted
// key set, the addon's SHA-256) defined. The entry is a one-liner that calls seaMain(), so
// agent/src/sea-main.ts itself does nothing on import. Fast (about a second): not cached.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { TrustedKeySet } from '../../../common/trusted-keys.ts';
import { progress, seconds } from '../lib/log.ts';
import { TARGETS, type Arch } from '../lib/targets.ts';

export type Flavour = 'release' | 'test';

export interface BundleInputs {
  readonly repoRoot: string;
  readonly outFile: string;
  readonly arch: Arch;
  readonly flavour: Flavour;
  readonly version: string;
  readonly trustedKeys: TrustedKeySet | null;
  readonly addonSha256: string;
}

/** Optional packages that bundled libraries require inside try/catch (build-probe.md §1). */
export const OPTIONAL_REQUIRES = ['supports-color', 'bufferutil', 'utf-8-validate'] as const;

export async function bundleAgent(inputs: BundleInputs): Promise<string> {
  const started = Date.now();
  const target = TARGETS[inputs.arch].target;
  const stub = join(inputs.repoRoot, 'scripts', 'cross-build', 'stubs', 'optional-missing.cjs');
  const buildInfo = {
    flavour: inputs.flavour,
    target,
    trustedKeys: inputs.trustedKeys,
    sqliteAddonSha256: inputs.addonSha256,
  };
  const result = await build({
    stdin: {
      contents: "import { seaMain } from './agent/src/sea-main.ts';\nvoid seaMain();\n",
      resolveDir: inputs.repoRoot,
      sourcefile: 'kiosk-agent-entry.ts',
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    outfile: inputs.outFile,
    alias: Object.fromEntries(OPTIONAL_REQUIRES.map((name) => [name, stub])),
    define: {
      __KIOSK_VERSION__: JSON.stringify(inputs.version),
      __KIOSK_BUILD_INFO__: JSON.stringify(JSON.stringify(buildInfo)),
    },
    logLevel: 'silent',
    metafile: false,
  });
  for (const w of result.warnings) {
    // better-sqlite3's `require(path)` for a string nativeBinding is never taken (we hand it the object)
    if (/better-sqlite3|bindings/.test(w.location?.file ?? '')) continue;
    process.stderr.write(`[bundle] ${target} warning: ${w.text} (${w.location?.file ?? '?'}:${w.location?.line ?? '?'})\n`);
  }
  const size = statSync(inputs.outFile).size;
  progress('bundle', target, `${inputs.flavour} ${(size / 1024).toFixed(0)} KiB in ${seconds(started)}`);
  return inputs.outFile;
}
