// Hardware fingerprint: component catalogue, keyed hashing, device id and the matching rule
// (DESIGN §4.3; pinned in docs/license-format.md). Shared by the agent (which computes and
// checks) and the license server (which matches re-activations to existing seats).
import { createHash, createHmac, hkdfSync } from 'node:crypto';

export interface ComponentSpec {
  /** Share of the vote in the weighted majority. */
  readonly weight: number;
  /** A hard anchor that is readable and differs means another device, whatever else matches. */
  readonly anchor: boolean;
}

export const COMPONENTS = {
  soc_serial: { weight: 3, anchor: true },
  dmi_uuid: { weight: 3, anchor: true },
  board_serial: { weight: 2, anchor: true },
  product_serial: { weight: 2, anchor: false },
  storage_id: { weight: 2, anchor: false },
  mac: { weight: 1, anchor: false },
  machine_id: { weight: 1, anchor: false },
} as const satisfies Record<string, ComponentSpec>;

export type ComponentName = keyof typeof COMPONENTS;
export const COMPONENT_NAMES = Object.keys(COMPONENTS) as ComponentName[];
/** A component recorded by a newer agent and unknown to this one counts with this spec. */
const UNKNOWN_COMPONENT: ComponentSpec = { weight: 1, anchor: false };

/** name → 32 lowercase hex chars (HMAC-SHA-256 truncated to 128 bits). */
export type ComponentHashes = Readonly<Record<string, string>>;

export const COMPONENT_HASH_PATTERN = /^[0-9a-f]{32}$/;
export const DEVICE_ID_PATTERN = /^[0-9a-f]{32}$/;

export function componentSpec(name: string): ComponentSpec {
  return Object.hasOwn(COMPONENTS, name) ? COMPONENTS[name as ComponentName] : UNKNOWN_COMPONENT;
}

/**
 * The per-vendor fingerprint key: HKDF-SHA-256 over the issuer id. Obfuscation, not secrecy
 * (the issuer id ships in the agent): raw serials never leave the device and hashes of one
 * vendor cannot be correlated with another's.
 */
export function fingerprintKey(issuer: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(issuer, 'utf8'), Buffer.from('kiosk-agent/fingerprint/v1', 'utf8'), Buffer.alloc(0), 32));
}

/** HMAC-SHA-256(key, "fp:v1:" + name + ":" + canonicalValue), hex, first 128 bits. */
export function hashComponent(key: Buffer, name: string, canonicalValue: string): string {
  return createHmac('sha256', key).update(`fp:v1:${name}:${canonicalValue}`, 'utf8').digest('hex').slice(0, 32);
}

/** The canonical form: `[[name, hash], …]` sorted by name, as compact JSON. */
export function canonicalComponents(hashes: ComponentHashes): string {
  const entries = Object.entries(hashes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}

/** deviceId = SHA-256 over the canonical component list, hex, first 128 bits. */
export function computeDeviceId(hashes: ComponentHashes): string {
  return createHash('sha256').update(canonicalComponents(hashes), 'utf8').digest('hex').slice(0, 32);
}

export type MatchOutcome = 'match' | 'mismatch' | 'unverifiable';

export interface FingerprintMatch {
  readonly outcome: MatchOutcome;
  /** Weight of recorded components that match now. */
  readonly score: number;
  /** Weight of everything recorded. */
  readonly total: number;
  readonly matched: readonly string[];
  readonly differing: readonly string[];
  /** Recorded, but not readable now (missing file, no permission, placeholder). */
  readonly unreadable: readonly string[];
  /** The hard anchor whose difference decided a mismatch, if any. */
  readonly anchorMismatch: string | null;
}

/**
 * The matching rule (docs/license-format.md §Matching):
 * 1. a hard anchor recorded, readable now and different → mismatch;
 * 2. otherwise match when the matching weight is more than half the recorded weight and at
 *    least one matching component is not `machine_id` (unless `machine_id` is all that was
 *    recorded: a VM or container activated under a license that allows them);
 * 3. otherwise, if the unreadable components could have tipped it and the readable ones match
 *    at least as much weight as they differ → unverifiable, else mismatch.
 */
export function matchFingerprint(recorded: ComponentHashes, current: ComponentHashes): FingerprintMatch {
  const matched: string[] = [];
  const differing: string[] = [];
  const unreadable: string[] = [];
  let score = 0;
  let total = 0;
  let unreadableWeight = 0;
  let anchorMismatch: string | null = null;

  for (const name of Object.keys(recorded).sort()) {
    const spec = componentSpec(name);
    total += spec.weight;
    const now = Object.hasOwn(current, name) ? current[name] : undefined;
    if (now === undefined) {
      unreadable.push(name);
      unreadableWeight += spec.weight;
    } else if (now === recorded[name]) {
      matched.push(name);
      score += spec.weight;
    } else {
      differing.push(name);
      if (spec.anchor && anchorMismatch === null) anchorMismatch = name;
    }
  }

  const result = (outcome: MatchOutcome): FingerprintMatch => ({
    outcome,
    score,
    total,
    matched,
    differing,
    unreadable,
    anchorMismatch,
  });

  if (total === 0) return result('unverifiable');
  if (anchorMismatch !== null) return result('mismatch');

  const onlyMachineIdRecorded = Object.keys(recorded).every((n) => n === 'machine_id');
  const hasStrongMatch = onlyMachineIdRecorded ? matched.length > 0 : matched.some((n) => n !== 'machine_id');
  if (score * 2 > total && hasStrongMatch) return result('match');

  // Unverifiable only when what is readable agrees more than it differs: the missing weight
  // could have decided it. Readable evidence of another device (an x64 token on a Pi, a disk
  // image read by an unprivileged process) stays a mismatch.
  const strongUnreadable = unreadable.some((n) => n !== 'machine_id');
  const differingWeight = total - score - unreadableWeight;
  const couldMatch = (score + unreadableWeight) * 2 > total && (hasStrongMatch || strongUnreadable) && score >= differingWeight;
  return result(couldMatch ? 'unverifiable' : 'mismatch');
}

/** True when the hashes hold at least one component other than machine_id (a strong binding). */
export function hasStrongComponent(hashes: ComponentHashes): boolean {
  return Object.keys(hashes).some((n) => n !== 'machine_id');
}
