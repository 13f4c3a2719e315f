// What the HTTP API is given (explicit wiring, no singletons): built by app.ts from a server
// context, or by a test from its own temp dir. The http folder never opens databases or key
// files itself; it asks these functions.
import type { Logger } from 'pino';
import type { Clock } from '../../../common/clock.ts';
import type { CatalogSettings } from '../domain/catalog.ts';
import type { DomainDeps, IssuanceDeps } from '../domain/deps.ts';

/** Where devices are sent (DESIGN §4.7 activation answer `{token, apiUrl, mqttUrl}`). */
export interface PublicUrls {
  readonly apiUrl: string;
  readonly mqttUrl: string;
}

/** A token bucket: `burst` requests at once, refilled at `perMinute`. */
export interface TokenBucketSettings {
  readonly burst: number;
  readonly perMinute: number;
}

export interface HttpAppDeps {
  readonly clock: Clock;
  domainDeps(): Promise<DomainDeps>;
  issuanceDeps(): Promise<IssuanceDeps>;
  /** Asked per answer: known only once the server listens (port 0). */
  publicUrls(): PublicUrls;
  readonly rateLimit: { readonly activations: TokenBucketSettings };
  /** Take the client address from X-Forwarded-For (only behind a proxy you run). */
  readonly trustProxy?: boolean;
  /** pino logger (http/logger.ts); none: no logs. */
  readonly logger?: Logger;
  /** PEM certificate chain and private key: HTTPS. */
  readonly https?: { readonly cert: Buffer; readonly key: Buffer };
  /** The catalog's change-log window; DEFAULT_KEEP_VERSIONS without. */
  readonly catalog?: CatalogSettings;
  /** Told after every committed catalog edit (sync publishes head and delta); none: nobody listens. */
  readonly onCatalogChanged?: (tenant: string) => void;
}
