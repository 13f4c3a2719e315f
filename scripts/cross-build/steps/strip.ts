// Step: a stripped copy of the runtime's node binary, BEFORE injection (stripping after
// injection breaks the binary: SIGSEGV, build-probe.md §6). Cached per runtime.
import { chmodSync, copyFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cacheKey, cachedDir } from '../lib/cache.ts';
import { requireTool, run } from '../lib/exec.ts';
import { progress } from '../lib/log.ts';
import { TARGETS } from '../lib/targets.ts';
import type { Runtime } from './runtime.ts';

export async function strippedRuntime(cacheDir: string, runtime: Runtime): Promise<string> {
  const t = TARGETS[runtime.arch];
  const strip = requireTool(t.strip, `to strip the Node runtime for ${t.target}`);
  const key = cacheKey({ runtime: runtime.sha256, arch: runtime.arch, strip: t.strip });
  const { dir, cached } = await cachedDir(cacheDir, 'stripped', `${runtime.arch}-${key.slice(0, 16)}`, async (tmp) => {
    const out = join(tmp, 'node');
    copyFileSync(runtime.node, out);
    chmodSync(out, 0o755);
    await run(strip, [out], { what: `stripping node for ${t.target}` });
  });
  const file = join(dir, 'node');
  progress('strip', t.target, `node ${(statSync(runtime.node).size / 1e6).toFixed(1)} MB → ${(statSync(file).size / 1e6).toFixed(1)} MB ${cached ? '(cached)' : ''}`.trimEnd());
  return file;
}
