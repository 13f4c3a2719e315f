// Step: the new executable is run once (`--version`): natively for the host's architecture, the
// other one under qemu-user with the cross toolchain's libraries (binfmt is not assumed). A
// build whose executable does not start never reaches dist/SHA256SUMS.
import { run, findTool } from '../lib/exec.ts';
import { BuildError, progress, seconds } from '../lib/log.ts';
import { hostArch, TARGETS, type Arch } from '../lib/targets.ts';

export async function smokeTest(exe: string, arch: Arch, expect: { version: string; flavour: string; nodeVersion: string }): Promise<void> {
  const started = Date.now();
  const t = TARGETS[arch];
  let cmd = exe;
  let args = ['--version'];
  if (arch !== hostArch()) {
    const qemu = findTool(`qemu-${arch === 'arm64' ? 'aarch64' : 'x86_64'}`);
    if (!qemu || !t.crossSysroot) {
      progress('smoke', t.target, 'skipped: qemu-user is not installed (apt-get install -y qemu-user)');
      return;
    }
    cmd = qemu;
    args = ['-L', t.crossSysroot, exe, '--version'];
  }
  const { stdout } = await run(cmd, args, { what: `running ${exe} --version` });
  const line = stdout.trim();
  const want = `kiosk-agent ${expect.version} ${t.target} node v${expect.nodeVersion} flavour ${expect.flavour} `;
  if (!line.startsWith(want)) throw new BuildError(`${exe} --version printed "${line}", expected it to start with "${want}"`);
  progress('smoke', t.target, `${line} (${seconds(started)})`);
}
