// What `activate` and the daemon's renewal share: a token answer from the license server
// (common/device-api.ts tokenResponseSchema) installed through the license service's own
// installLicense — verify, replay check, usable on this device now — together with the server
// link, in one transaction. A server that hands out a token for another device, or one signed by
// a key the agent does not trust, is refused exactly as `license install` would refuse it, and
// nothing is stored.
import type { TokenResponse } from '../../../common/device-api.ts';
import { KioskError } from '../../../common/errors.ts';
import type { ClockTrust } from '../domain/time-floor.ts';
import { serverTimeAgrees } from '../domain/renewal.ts';
import { installLicense, type LicenseInstallResult, type LicenseServiceDeps } from '../license/license-service.ts';
import type { TrustedKeySet } from '../../../common/trusted-keys.ts';
import type { TokenRejection } from '../domain/license-policy.ts';
import { verifyRevocationList, type RevocationListClaims } from '../license/revocation-list.ts';
import { checkServerUrl, isLoopbackHost, type ServerClient, type ServerFailure } from '../license/server-client.ts';
import { verifyLicenseToken } from '../license/verify-token.ts';
import type { AgentStore } from '../store/agent-store.ts';

export interface TokenAnswerInstall {
  readonly result: LicenseInstallResult;
  /** The normalised API URL stored in the link. */
  readonly apiUrl: string;
  readonly mqttUrl: string;
  /** The device clock agreed with the server's (so it counts as trusted from now on, this run). */
  readonly serverTimeAgrees: boolean;
  /** Warnings about the answer (e.g. an MQTT URL without TLS off loopback). */
  readonly warnings: readonly string[];
}

export interface InstallTokenAnswerInput {
  /** The license service's collaborators (clockTrust is replaced, see below). */
  readonly deps: LicenseServiceDeps;
  readonly store: AgentStore;
  readonly answer: TokenResponse;
  /** Device clock when the answer arrived. */
  readonly receivedAtMs: number;
  /** The clock trust, given whether the server has told the time (hardware/time-sync.ts readClockTrust). */
  readonly clockTrust: (serverTimeReceived: boolean) => ClockTrust;
  /** True when the server already told the time earlier in this run. */
  readonly serverTimeKnown?: boolean;
  /** A renewal must bring a token of the same license. */
  readonly expectLicenseId?: string;
}

export async function installTokenAnswer(input: InstallTokenAnswerInput): Promise<TokenAnswerInstall> {
  const { answer, store } = input;
  const api = checkServerUrl(answer.apiUrl);
  if (!api.ok) throw new KioskError('SERVER_ERROR', `the license server named an unusable API URL: ${api.message}`);
  const warnings: string[] = [];
  const mqtt = checkMqttUrl(answer.mqttUrl);
  if (!mqtt.ok) throw new KioskError('SERVER_ERROR', `the license server named an unusable MQTT URL: ${mqtt.message}`);
  if (mqtt.warning) warnings.push(mqtt.warning);

  if (input.expectLicenseId !== undefined) {
    const verified = await verifyLicenseToken(answer.token, input.deps.trustedKeys);
    if (verified.ok && verified.claims.sub !== input.expectLicenseId) {
      throw new KioskError('CLAIM_INVALID', `the license server answered with a token of license ${verified.claims.sub}, not ${input.expectLicenseId}`);
    }
    // A token that does not verify is refused by installLicense below, with its reason.
  }

  const agrees = serverTimeAgrees(input.receivedAtMs, answer.serverTimeMs);
  const serverTimeReceived = agrees || input.serverTimeKnown === true;
  const update = {
    apiUrl: api.url,
    mqttUrl: answer.mqttUrl,
    serverTimeMs: answer.serverTimeMs,
    receivedAtMs: input.receivedAtMs,
  };
  const deps: LicenseServiceDeps = {
    ...input.deps,
    state: store.serverLink.installingWith(update),
    clockTrust: () => input.clockTrust(serverTimeReceived),
  };
  const result = await installLicense(deps, answer.token);
  if (result.outcome === 'unchanged' && result.status.licenseId !== null) {
    store.serverLink.updateFromTokenAnswer({ ...update, licenseId: result.status.licenseId });
  }
  return { result, apiUrl: api.url, mqttUrl: answer.mqttUrl, serverTimeAgrees: agrees, warnings };
}

export type RevocationFetch =
  | { readonly kind: 'failed'; readonly failure: ServerFailure }
  | { readonly kind: 'invalid'; readonly reason: TokenRejection; readonly message: string }
  | {
      /** stored: newer than the stored list; older: an older version, ignored; unchanged: the same version. */
      readonly kind: 'stored' | 'older' | 'unchanged';
      readonly claims: RevocationListClaims;
      readonly announcedVersion: number;
      readonly previousVersion: number | null;
    };

/**
 * GET /v1/revocations: verified with the trusted keys, stored only when its signed version is
 * newer than the stored one (an older list never replaces a newer one).
 */
export async function fetchAndStoreRevocationList(client: ServerClient, store: AgentStore, keys: TrustedKeySet, nowMs: number): Promise<RevocationFetch> {
  const answer = await client.revocations();
  if (!answer.ok) return { kind: 'failed', failure: answer.failure };
  const verified = await verifyRevocationList(answer.value.list, keys);
  if (!verified.ok) return { kind: 'invalid', reason: verified.reason, message: verified.message };
  const claims = verified.claims;
  const before = store.licenseState.readLicenseState().revocationList;
  const stored = store.licenseState.storeRevocationList({ version: claims.version, iat: claims.iat, document: verified.text, storedAtMs: nowMs });
  const kind = stored ? 'stored' : before && claims.version < before.version ? 'older' : 'unchanged';
  return { kind, claims, announcedVersion: answer.value.version, previousVersion: before?.version ?? null };
}

const MQTT_SCHEMES = new Map([
  ['mqtts:', true],
  ['wss:', true],
  ['mqtt:', false],
  ['ws:', false],
]);

/** An MQTT broker URL: mqtt(s) or ws(s). Without TLS off loopback it is kept with a warning (the sync client decides). */
export function checkMqttUrl(text: string): { ok: true; warning: string | null } | { ok: false; message: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, message: `"${text.slice(0, 120)}" is not a URL` };
  }
  const tls = MQTT_SCHEMES.get(url.protocol);
  if (tls === undefined) return { ok: false, message: `${url.protocol} is not an MQTT URL scheme (mqtts, wss, mqtt, ws)` };
  if (url.username !== '' || url.password !== '') return { ok: false, message: 'an MQTT URL from the server must not carry credentials' };
  const warning = !tls && !isLoopbackHost(url.hostname) ? `the MQTT URL ${url.protocol}//${url.host} does not use TLS off loopback` : null;
  return { ok: true, warning };
}
