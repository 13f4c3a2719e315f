// The daemon's license service: keeps the license usable and the mode current. At start it
// records the trial start and evaluates the license; then it loops on the injected scheduler:
// every wake-up it re-evaluates the license (logging mode changes), asks the pure planner
// (domain/renewal.ts) what is due — renew the token, fetch the revocation list — carries that
// out against the license server, feeds the outcomes back to the planner and sleeps until the
// planner's next wake-up time. Nothing here decides policy; it gathers facts and does IO.
//
// Logged (JSON lines): "license mode" at start, "mode changed" {from, to, reason}, renewals,
// revocation lists, server trouble with the backoff it causes. Never tokens, keys or proofs.
import type { Clock } from '../../../common/clock.ts';
import { KioskError } from '../../../common/errors.ts';
import type { LicenseClaims } from '../../../common/license-token.ts';
import type { RandomUnit } from '../domain/backoff.ts';
import {
  afterRenewal,
  afterRevocationFetch,
  classifyServerFailure,
  INITIAL_WORK_STATE,
  planLicenseWork,
  type LicenseWorkFacts,
  type LicenseWorkState,
  type RenewalPolicy,
  type RenewalReason,
  type ServerOutcome,
} from '../domain/renewal.ts';
import type { ClockTrust } from '../domain/time-floor.ts';
import type { DeviceKey } from '../license/device-key.ts';
import { signDeviceProof, type ProofIdSource } from '../license/device-proof.ts';
import { evaluateLicense, startTrialIfNeeded, type LicenseServiceDeps, type LicenseStatus } from '../license/license-service.ts';
import type { ServerClient } from '../license/server-client.ts';
import { verifyLicenseToken } from '../license/verify-token.ts';
import type { AgentStore } from '../store/agent-store.ts';
import { errorFacts, type DaemonLogger, type DaemonService, type Scheduler, type TimerHandle } from './daemon.ts';
import { fetchAndStoreRevocationList, installTokenAnswer } from './online-license.ts';

export interface LicenseKeeperDeps {
  readonly store: AgentStore;
  /** The license service's collaborators; their clockTrust is replaced by the keeper's. */
  readonly licenseDeps: LicenseServiceDeps;
  /** hardware/time-sync.ts readClockTrust, given whether the server told the time in this run. */
  readonly clockTrust: (serverTimeReceived: boolean) => ClockTrust;
  readonly loadDeviceKey: () => Promise<DeviceKey | undefined>;
  /** A client of the license server at baseUrl; `signal` aborts its requests at shutdown. */
  readonly serverClient: (baseUrl: string, signal: AbortSignal) => ServerClient;
  /** The config's server URL: replaces the link's apiUrl (and fetches revocations without a link). */
  readonly serverUrlOverride: string | null;
  readonly policy: RenewalPolicy;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly random: RandomUnit;
  readonly logger: DaemonLogger;
  readonly newProofId?: ProofIdSource;
}

export type StatusListener = (status: LicenseStatus, previous: LicenseStatus) => void;

export interface LicenseKeeper extends DaemonService {
  /** The last evaluated status; null before start. */
  status(): LicenseStatus | null;
  /** Called whenever the mode or its reason changes (the sync services follow the mode). */
  onStatusChange(listener: StatusListener): () => void;
  /** A fresh device proof for the installed license (the MQTT password); null without a license or key. */
  deviceProof(): Promise<string | null>;
  /** Evaluates the license now (e.g. after the sync client stored a newer revocation list). */
  recheck(cause: string): Promise<LicenseStatus>;
}

interface Gathered {
  readonly facts: LicenseWorkFacts;
  readonly installed: { readonly text: string; readonly claims: LicenseClaims } | null;
  /** Where to renew: the config override or the link's apiUrl. */
  readonly apiUrl: string | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function createLicenseKeeper(deps: LicenseKeeperDeps): LicenseKeeper {
  const { store, clock, logger, policy } = deps;
  const keys = deps.licenseDeps.trustedKeys;
  const abort = new AbortController();
  const listeners = new Set<StatusListener>();
  let work: LicenseWorkState = INITIAL_WORK_STATE;
  let serverTimeTrusted = false;
  let last: LicenseStatus | null = null;
  let lastWarnings = new Set<string>();
  let timer: TimerHandle | null = null;
  let running: Promise<void> | null = null;
  let stopping = false;

  const licenseDeps = (): LicenseServiceDeps => ({ ...deps.licenseDeps, clockTrust: () => deps.clockTrust(serverTimeTrusted) });
  const client = (baseUrl: string): ServerClient => deps.serverClient(baseUrl, abort.signal);

  async function evaluate(cause: string): Promise<LicenseStatus> {
    const status = await evaluateLicense(licenseDeps());
    const previous = last;
    last = status;
    const warnings = new Set(status.warnings);
    for (const w of warnings) if (!lastWarnings.has(w)) logger.warn({ warning: w }, 'license check warning');
    lastWarnings = warnings;
    if (previous === null) {
      logger.info(
        {
          mode: status.mode,
          reason: status.reason,
          detail: status.message,
          licenseId: status.licenseId,
          tokenExpiresAt: status.tokenExpiresAt,
          deviceId: status.deviceId,
          trialEndsAt: status.trial.endsAt,
        },
        'license mode',
      );
    } else if (previous.mode !== status.mode || previous.reason !== status.reason) {
      const fields = { from: previous.mode, to: status.mode, reason: status.reason, previousReason: previous.reason, detail: status.message, cause };
      if (status.mode === 'licensed' || status.mode === 'grace') logger.info(fields, 'mode changed');
      else logger.warn(fields, 'mode changed');
      for (const listener of listeners) {
        try {
          listener(status, previous);
        } catch (err) {
          logger.error({ err: errorFacts(err) }, 'a mode listener failed');
        }
      }
    }
    return status;
  }

  async function gather(nowMs: number): Promise<Gathered> {
    const snapshot = store.licenseState.readLicenseState();
    const link = store.serverLink.get();
    let installed: Gathered['installed'] = null;
    if (snapshot.installed) {
      const verified = await verifyLicenseToken(snapshot.installed.token, keys);
      if (verified.ok) installed = { text: verified.text, claims: verified.claims };
    }
    const c = installed?.claims ?? null;
    const token = c && { jti: c.jti, licenseId: c.sub, iatMs: c.iat * 1000, expMs: c.exp * 1000 };
    const apiUrl = deps.serverUrlOverride ?? link?.apiUrl ?? null;
    const boundaries: number[] = [];
    if (c) boundaries.push(c.nbf * 1000, c.exp * 1000, (c.exp + c.grace) * 1000);
    const trialEnd = last?.trial.endsAt ? Date.parse(last.trial.endsAt) : NaN;
    if (Number.isFinite(trialEnd)) boundaries.push(trialEnd);
    return {
      installed,
      apiUrl,
      facts: {
        nowMs,
        token,
        renewOnline: token !== null && link !== null && link.licenseId === token.licenseId && apiUrl !== null,
        revocationSource: apiUrl !== null,
        modeBoundariesMs: boundaries,
      },
    };
  }

  async function renew(g: Gathered, reason: RenewalReason | null): Promise<void> {
    const installed = g.installed;
    if (!installed || g.apiUrl === null) return;
    const { claims } = installed;
    const nowMs = clock.nowMs();
    logger.info({ licenseId: claims.sub, tokenId: claims.jti, reason, server: g.apiUrl }, 'renewing the license token');
    const outcome = await renewOnce(g.apiUrl, installed, nowMs);
    if (outcome.kind === 'refused') store.serverLink.recordRefusal({ code: outcome.code, jti: claims.jti, atMs: nowMs });
    work = afterRenewal(work, outcome, { nowMs, jti: claims.jti }, deps.random, policy);
    if (stopping) return; // a request cut short by stop() is no server trouble worth a log line
    if (outcome.kind === 'unavailable') {
      logger.warn(
        { code: outcome.code, failures: work.renewal.failures, retryAt: iso(work.renewal.retryAtMs) },
        'license server unavailable for renewal; backing off',
      );
    } else if (outcome.kind === 'refused') {
      logger.warn(
        { code: outcome.code, licenseId: claims.sub, tokenId: claims.jti, retryAt: iso(nowMs + policy.retryAfterRefusalMs) },
        'renewal refused; the token is not offered again before retryAt',
      );
    }
  }

  async function renewOnce(apiUrl: string, installed: NonNullable<Gathered['installed']>, nowMs: number): Promise<ServerOutcome> {
    const key = await deps.loadDeviceKey();
    if (!key) {
      logger.error({}, 'the device key is missing: the license cannot be renewed');
      return { kind: 'refused', code: 'DEVICE_MISMATCH' };
    }
    const proof = await makeProof(key, installed, nowMs);
    const answer = await client(apiUrl).refresh(proof);
    if (!answer.ok) {
      if (stopping) return classifyServerFailure(answer.failure);
      const outcome = classifyServerFailure(answer.failure);
      logger.warn({ code: answer.failure.code, status: answer.failure.status, detail: answer.failure.message }, 'renewal failed');
      return outcome;
    }
    const receivedAtMs = clock.nowMs();
    try {
      const done = await installTokenAnswer({
        deps: licenseDeps(),
        store,
        answer: answer.value,
        receivedAtMs,
        clockTrust: deps.clockTrust,
        serverTimeKnown: serverTimeTrusted,
        expectLicenseId: installed.claims.sub,
      });
      noteServerTime(done.serverTimeAgrees, answer.value.serverTimeMs, receivedAtMs);
      for (const w of done.warnings) logger.warn({ warning: w }, 'license server answer');
      const s = done.result.status;
      logger.info({ licenseId: s.licenseId, tokenId: s.tokenId, tokenExpiresAt: s.tokenExpiresAt, outcome: done.result.outcome }, 'license renewed');
      return { kind: 'ok' };
    } catch (err) {
      if (!(err instanceof KioskError)) throw err;
      logger.warn({ code: err.code, detail: err.message }, 'the renewed token was refused by this device');
      return err.code === 'SERVER_ERROR' || err.code === 'STORAGE_ERROR' ? { kind: 'unavailable', code: err.code } : { kind: 'refused', code: err.code };
    }
  }

  async function makeProof(key: DeviceKey, installed: NonNullable<Gathered['installed']>, nowMs: number): Promise<string> {
    let components: Readonly<Record<string, string>> | undefined;
    try {
      components = (await deps.licenseDeps.readFingerprint()).components;
    } catch {
      components = undefined; // the server re-checks the binding; the proof stays valid without them
    }
    const proof = await signDeviceProof({
      deviceKey: key,
      licenseToken: installed.text,
      deviceId: installed.claims.device.id,
      ...(components === undefined ? {} : { components }),
      nowMs,
      ...(deps.newProofId ? { newId: deps.newProofId } : {}),
    });
    return proof.text;
  }

  function noteServerTime(agrees: boolean, serverTimeMs: number, receivedAtMs: number): void {
    if (agrees) {
      if (!serverTimeTrusted) logger.info({ source: 'server' }, 'the clock agrees with the license server: trusted');
      serverTimeTrusted = true;
    } else {
      logger.warn({ skewSeconds: Math.round((receivedAtMs - serverTimeMs) / 1000) }, "the device clock differs from the license server's");
    }
  }

  async function fetchRevocations(g: Gathered): Promise<void> {
    if (g.apiUrl === null) return;
    const nowMs = clock.nowMs();
    const outcome = await fetchRevocationsOnce(g.apiUrl, nowMs);
    work = afterRevocationFetch(work, outcome, nowMs, deps.random, policy);
    if (stopping) return;
    if (outcome.kind === 'unavailable') {
      logger.warn(
        { code: outcome.code, failures: work.revocations.failures, retryAt: iso(work.revocations.retryAtMs) },
        'license server unavailable for the revocation list; backing off',
      );
    }
  }

  async function fetchRevocationsOnce(apiUrl: string, nowMs: number): Promise<ServerOutcome> {
    const r = await fetchAndStoreRevocationList(client(apiUrl), store, keys, nowMs);
    if (stopping && r.kind === 'failed') return classifyServerFailure(r.failure);
    switch (r.kind) {
      case 'failed':
        logger.warn({ code: r.failure.code, status: r.failure.status, detail: r.failure.message }, 'revocation list fetch failed');
        return classifyServerFailure(r.failure);
      case 'invalid':
        logger.error({ reason: r.reason, detail: r.message }, 'the revocation list from the server does not verify: ignored');
        return { kind: 'refused', code: r.reason };
      default:
        break;
    }
    const { claims } = r;
    if (claims.version !== r.announcedVersion) {
      logger.warn({ signedVersion: claims.version, announcedVersion: r.announcedVersion }, 'the revocation answer announces another version than it signs; the signed one counts');
    }
    if (r.kind === 'stored') {
      logger.info(
        { version: claims.version, previousVersion: r.previousVersion, licenses: claims.licenses.length, devices: claims.devices.length, tokens: claims.tokens.length },
        'revocation list stored',
      );
    } else if (r.kind === 'older') {
      logger.warn({ version: claims.version, storedVersion: r.previousVersion }, 'revocation list ignored: older than the stored one');
    } else {
      logger.debug({ version: claims.version }, 'revocation list unchanged');
    }
    return { kind: 'ok' };
  }

  /** One wake-up: evaluate, plan, act, evaluate again; returns when to wake up next. */
  async function runOnce(): Promise<number> {
    await evaluate('check');
    const g = await gather(clock.nowMs());
    const plan = planLicenseWork(g.facts, work, policy);
    if (plan.actions.length === 0) return plan.wakeAtMs;
    for (const action of plan.actions) {
      if (stopping) break;
      if (action === 'renew') await renew(g, plan.renewalReason);
      else await fetchRevocations(g);
    }
    await evaluate(plan.actions.join('+'));
    const next = planLicenseWork((await gather(clock.nowMs())).facts, work, policy);
    logger.debug(
      { renewalDueAt: iso(next.renewalDueAtMs), revocationsDueAt: iso(next.revocationsDueAtMs), wakeAt: iso(next.wakeAtMs) },
      'license work planned',
    );
    return next.wakeAtMs;
  }

  function scheduleAt(wakeAtMs: number): void {
    if (stopping) return;
    timer = deps.scheduler.schedule(Math.max(0, wakeAtMs - clock.nowMs()), () => {
      timer = null;
      running = tick().finally(() => {
        running = null;
      });
    });
  }

  async function tick(): Promise<void> {
    let wakeAtMs: number;
    try {
      wakeAtMs = await runOnce();
    } catch (err) {
      logger.error({ err: errorFacts(err) }, 'license check failed; trying again later');
      wakeAtMs = clock.nowMs() + policy.checkIntervalMs;
    }
    scheduleAt(wakeAtMs);
  }

  return {
    name: 'license',
    async start() {
      const before = store.licenseState.readLicenseState().trial.startedAtMs;
      const trial = startTrialIfNeeded(licenseDeps());
      if (before === null && trial.startedAtMs !== null) logger.info({ startedAt: iso(trial.startedAtMs) }, 'trial period started');
      const refusal = store.serverLink.get()?.lastRefusal ?? null;
      if (refusal) work = { ...work, renewal: { ...work.renewal, refusal } };
      await evaluate('start');
      scheduleAt(clock.nowMs());
    },
    async stop() {
      stopping = true;
      timer?.cancel();
      timer = null;
      abort.abort();
      await running;
    },
    status: () => last,
    onStatusChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    recheck: (cause) => evaluate(cause),
    async deviceProof() {
      const g = await gather(clock.nowMs());
      const key = await deps.loadDeviceKey();
      if (!g.installed || !key) return null;
      return makeProof(key, g.installed, clock.nowMs());
    },
  };
}
