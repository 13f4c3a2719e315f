// Fingerprint collection: our direct reads of /proc and /sys vs systeminformation's calls for
// the same facts (system uuid/serial, baseboard serial, machine id, disk serial, NIC MACs).
import si from 'systeminformation';
import { readDeviceFingerprint } from '../agent/src/hardware/read-fingerprint.ts';
import { measure, type BenchResult } from './harness.ts';

export async function fingerprintBench(): Promise<BenchResult> {
  const issuer = 'urn:kiosk:vendor:bench';
  const ours = await measure(() => readDeviceFingerprint({ sysroot: '/', issuer }), { timeMs: 2000, warmup: 5 });
  const theirs = await measure(
    () => Promise.all([si.system(), si.baseboard(), si.uuid(), si.diskLayout(), si.networkInterfaces()]),
    { timeMs: 4000, warmup: 2 },
  );
  const fp = await readDeviceFingerprint({ sysroot: '/', issuer });
  return {
    title: 'Fingerprint collection',
    rows: [
      {
        name: 'one full collection on this machine',
        subject: 'readDeviceFingerprint (direct fs reads)',
        subjectSample: ours,
        baseline: 'systeminformation system+baseboard+uuid+diskLayout+networkInterfaces',
        baselineSample: theirs,
      },
    ],
    extra: [`Components readable here: ${Object.keys(fp.components).join(', ') || 'none'} (virtualization: ${fp.platform.virtualization ?? 'none'}). systeminformation spawns child processes (dmidecode, ip, lsblk …) for the same facts.`],
  };
}
