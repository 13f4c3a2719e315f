// Whether the system clock can be trusted (DESIGN §4.4), read under the sysroot:
// - `/run/systemd/timesync/synchronized` exists: systemd-timesyncd has synchronised with NTP
//   since boot (the file lives on a tmpfs, so it is per boot);
// - `/sys/class/rtc/rtc0` exists: the device has a hardware clock that kept time while off;
// - or the license server told the time during this run (a fact the caller passes in).
// A Raspberry Pi without an RTC, booting before NTP, has none of these: its clock starts at the
// last fake-hwclock save or at 1970, and the license policy then decides with the trusted floor
// instead of flagging the clock as tampered.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ClockTrust } from '../domain/time-floor.ts';

export const TIMESYNC_MARKER = 'run/systemd/timesync/synchronized';
export const RTC_DEVICE = 'sys/class/rtc/rtc0';

export function readClockTrust(sysroot: string, options: { readonly serverTimeReceived?: boolean } = {}): ClockTrust {
  if (existsSync(join(sysroot, TIMESYNC_MARKER))) return { trusted: true, source: 'ntp' };
  if (options.serverTimeReceived) return { trusted: true, source: 'server' };
  if (existsSync(join(sysroot, RTC_DEVICE))) return { trusted: true, source: 'rtc' };
  return { trusted: false, source: null };
}
