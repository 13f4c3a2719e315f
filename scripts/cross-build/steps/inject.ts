// Step: the blob injected into a copy of the stripped runtime with postject (NODE_SEA_BLOB,
// sentinel fuse), written under a temporary name and renamed into place.
import { chmodSync, copyFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../lib/exec.ts';
import { progress, seconds } from '../lib/log.ts';
import { TARGETS, type Arch } from '../lib/targets.ts';

/** Node's SEA fuse (the same in every Node with SEA). */
export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export interface InjectInputs {
  readonly repoRoot: string;
  readonly workDir: string;
  readonly arch: Arch;
  readonly strippedNode: string;
  readonly blob: string;
  readonly outFile: string;
}

export async function injectBlob(inputs: InjectInputs): Promise<string> {
  const started = Date.now();
  const target = TARGETS[inputs.arch].target;
  const tmp = `${inputs.outFile}.tmp-${process.pid}`;
  copyFileSync(inputs.strippedNode, tmp);
  chmodSync(tmp, 0o755);
  try {
    const postject = join(inputs.repoRoot, 'node_modules', 'postject', 'dist', 'cli.js');
    // postject prints many harmless "Can't find string offset for section name" lines: they go to the log
    await run(process.execPath, [postject, tmp, 'NODE_SEA_BLOB', inputs.blob, '--sentinel-fuse', SEA_FUSE], {
      logFile: join(inputs.workDir, 'postject.log'),
      what: `postject for ${target}`,
    });
    renameSync(tmp, inputs.outFile);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  progress('inject', target, `${inputs.outFile} ${(statSync(inputs.outFile).size / 1e6).toFixed(1)} MB in ${seconds(started)}`);
  return inputs.outFile;
}
