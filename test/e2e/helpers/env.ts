// What test/e2e/global-setup.ts built and fetched for this run, handed to every e2e file
// (vitest provide/inject: the global setup runs in another scope).
import { inject } from 'vitest';
import type { Arch } from '../../../scripts/cross-build/lib/targets.ts';
import type { Debian11Root } from '../../../scripts/cross-build/steps/debian11-root.ts';

export type Flavour = 'release' | 'test';

export interface E2eEnv {
  /** Removed after the run (KIOSK_E2E_KEEP=1 keeps it). World-readable, for the non-root tests. */
  readonly runDir: string;
  readonly issuer: string;
  /** The vendor's keys: built into both flavours; the private key signs the e2e licenses. */
  readonly vendorKeysDir: string;
  /** Another key set with the same issuer id: what an attacker would hand the release build. */
  readonly outsideKeysDir: string;
  readonly vendorKids: readonly string[];
  readonly productVersion: string;
  readonly upgradeVersion: string;
  readonly nodeVersion: string;
  readonly executables: Readonly<Record<Flavour, Readonly<Record<Arch, string>>>>;
  readonly kits: Readonly<Record<Flavour, Readonly<Record<Arch, string>>>>;
  /** The test-flavour x64 kit of a newer version (upgradeVersion). */
  readonly upgradeKit: string;
  readonly distDir: string;
  readonly debian11: Readonly<Record<Arch, Debian11Root>>;
  readonly floor: { readonly GLIBC: string; readonly GLIBCXX: string };
  readonly crossSysroot: string;
  /** Seconds the builds took in the global setup (cached steps make this small). */
  readonly buildSeconds: number;
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: E2eEnv;
  }
}

export function e2eEnv(): E2eEnv {
  return inject('e2e');
}
