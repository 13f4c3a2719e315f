// /proc/self/mountinfo → the block device the root filesystem is mounted from. Pure.

export interface RootMount {
  readonly major: number;
  readonly minor: number;
  readonly fstype: string;
  /** The mount source, e.g. "/dev/nvme0n1p2", "/dev/root", "overlay". */
  readonly source: string;
}

/**
 * The mount of "/" that is visible (the last one listed: later mounts cover earlier ones).
 * Line format (proc(5)): id parent maj:min root mountpoint options [optional…] - fstype source super.
 */
export function parseRootMount(text: string): RootMount | null {
  let found: RootMount | null = null;
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    if (fields.length < 7 || fields[4] !== '/') continue;
    const dash = fields.indexOf('-', 6);
    const devno = /^(\d+):(\d+)$/.exec(fields[2] ?? '');
    if (dash < 0 || !devno) continue;
    found = {
      major: Number(devno[1]),
      minor: Number(devno[2]),
      fstype: fields[dash + 1] ?? '',
      source: unescapeMountField(fields[dash + 2] ?? ''),
    };
  }
  return found;
}

/** mountinfo escapes space, tab, newline and backslash as \040 \011 \012 \134. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}
