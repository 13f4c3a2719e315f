// Step: the SEA preparation blob for one target, made by the SAME Node version as the runtime
// it goes into: the packed Node 24 for the host's architecture runs `--experimental-sea-config`
// (Node 24 has no --build-sea). No code cache and no snapshot, so the blob is portable to the
// other architecture. The addon rides along as an asset. The release flavour sets
// execArgvExtension "none": NODE_OPTIONS cannot extend it (DESIGN §4.1).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SQLITE_ADDON_ASSET } from '../../../agent/src/native/sqlite-addon.ts';
import { run } from '../lib/exec.ts';
import { progress, seconds } from '../lib/log.ts';
import { TARGETS, type Arch } from '../lib/targets.ts';
import type { Flavour } from './bundle.ts';

export interface BlobInputs {
  readonly workDir: string;
  readonly arch: Arch;
  readonly flavour: Flavour;
  readonly bundle: string;
  readonly addon: string;
  /** bin/node of the packed runtime for the host's architecture */
  readonly hostNode: string;
}

export async function makeSeaBlob(inputs: BlobInputs): Promise<string> {
  const started = Date.now();
  const target = TARGETS[inputs.arch].target;
  const blob = join(inputs.workDir, 'sea.blob');
  const config = join(inputs.workDir, 'sea-config.json');
  writeFileSync(
    config,
    JSON.stringify(
      {
        main: inputs.bundle,
        output: blob,
        disableExperimentalSEAWarning: true,
        useSnapshot: false,
        useCodeCache: false,
        execArgv: [],
        execArgvExtension: inputs.flavour === 'release' ? 'none' : 'env',
        assets: { [SQLITE_ADDON_ASSET]: inputs.addon },
      },
      null,
      2,
    ),
  );
  await run(inputs.hostNode, ['--experimental-sea-config', config], { cwd: inputs.workDir, logFile: join(inputs.workDir, 'sea.log'), what: 'making the SEA blob' });
  progress('blob', target, `${inputs.flavour} execArgvExtension ${inputs.flavour === 'release' ? 'none' : 'env'} in ${seconds(started)}`);
  return blob;
}
