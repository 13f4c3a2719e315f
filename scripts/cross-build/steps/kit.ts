// Step: the installer kit `kiosk-agent-<version>-linux-<arch>.tar.gz` (test flavour:
// `kiosk-agent-test-…`): the executable, the systemd unit, the default config, install.sh,
// kit.info and the kit's own SHA256SUMS (install.sh checks it). Owner, order and times are
// normalised so the same inputs give the same tarball (SOURCE_DATE_EPOCH if set).
import { chmodSync, copyFileSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256File } from '../lib/cache.ts';
import { requireTool, run } from '../lib/exec.ts';
import { progress, seconds } from '../lib/log.ts';
import { TARGETS, type Arch } from '../lib/targets.ts';
import type { Flavour } from './bundle.ts';

export interface KitInputs {
  readonly repoRoot: string;
  readonly workDir: string;
  readonly outDir: string;
  readonly exe: string;
  readonly arch: Arch;
  readonly flavour: Flavour;
  readonly version: string;
  readonly nodeVersion: string;
}

export const KIT_FILES = ['kiosk-agent', 'install.sh', 'kiosk-agent.service', 'config.json', 'kit.info'] as const;

export function kitName(flavour: Flavour, version: string, arch: Arch): string {
  return `kiosk-agent${flavour === 'test' ? '-test' : ''}-${version}-linux-${arch}`;
}

export async function makeKit(inputs: KitInputs): Promise<string> {
  const started = Date.now();
  const t = TARGETS[inputs.arch];
  requireTool('tar', 'to pack the installer kit');
  requireTool('gzip', 'to pack the installer kit');
  const name = kitName(inputs.flavour, inputs.version, inputs.arch);
  const stage = join(inputs.workDir, 'kit');
  const dir = join(stage, name);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const src = join(inputs.repoRoot, 'scripts', 'cross-build', 'kit');
  const put = (from: string, to: string, mode: number): void => {
    copyFileSync(from, join(dir, to));
    chmodSync(join(dir, to), mode);
  };
  put(inputs.exe, 'kiosk-agent', 0o755);
  put(join(src, 'install.sh'), 'install.sh', 0o755);
  put(join(src, 'kiosk-agent.service'), 'kiosk-agent.service', 0o644);
  put(join(src, 'config.json'), 'config.json', 0o644);
  writeFileSync(
    join(dir, 'kit.info'),
    `version=${inputs.version}\nflavour=${inputs.flavour}\ntarget=${t.target}\narch=${inputs.arch}\nnode=${inputs.nodeVersion}\n`,
    { mode: 0o644 },
  );
  writeFileSync(join(dir, 'SHA256SUMS'), KIT_FILES.map((f) => `${sha256File(join(dir, f))}  ${f}\n`).join(''), { mode: 0o644 });
  const out = join(inputs.outDir, `${name}.tar.gz`);
  const tmp = `${out}.tmp-${process.pid}`;
  const mtime = process.env.SOURCE_DATE_EPOCH ? `@${process.env.SOURCE_DATE_EPOCH}` : `@${Math.floor(Date.now() / 1000)}`;
  await run(
    'tar',
    ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', `--mtime=${mtime}`, '--use-compress-program=gzip -6 -n', '-cf', tmp, '-C', stage, name],
    { what: `packing ${name}.tar.gz` },
  );
  renameSync(tmp, out);
  rmSync(stage, { recursive: true, force: true });
  progress('kit', t.target, `${out} ${(statSync(out).size / 1e6).toFixed(1)} MB in ${seconds(started)}`);
  return out;
}
