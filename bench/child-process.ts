// Child processes for the benchmarks: servers that print `listening on URL`, and their CPU time.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Spawns a server and resolves with the URL of its `listening on URL` line. */
export async function spawnListening(children: ChildProcess[], args: readonly string[], cwd: string): Promise<string> {
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString('utf8')).slice(-4000)));
  return new Promise((done, fail) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const m = /listening on (\S+)/.exec(out);
      if (m?.[1]) done(m[1]);
    });
    child.on('exit', (code) => fail(new Error(`server exited (${code}) before listening: ${err}`)));
  });
}

/** CPU time (user + system) of another process so far, in ms (Linux /proc). */
export function procCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) || 0) + (Number(fields[12]) || 0)) * 10; // USER_HZ = 100
  } catch {
    return 0;
  }
}
