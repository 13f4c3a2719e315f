// The rate limit hook: a route that names a bucket in its config (`rateLimit: 'activations'`)
// takes a token per request from the client address's bucket before its body is even read;
// an empty bucket answers 429 RATE_LIMITED with Retry-After.
import type { FastifyInstance } from 'fastify';
import { KioskError } from '../../../common/errors.ts';
import type { HttpAppDeps } from './http-deps.ts';
import { clientKey, createTokenBucketLimiter, type TokenBucketLimiter } from './token-bucket.ts';

export function registerRateLimits(app: FastifyInstance, deps: Pick<HttpAppDeps, 'clock' | 'rateLimit'>): void {
  const limiters: Readonly<Record<'activations', TokenBucketLimiter>> = {
    activations: createTokenBucketLimiter({ ...deps.rateLimit.activations, clock: deps.clock }),
  };
  app.addHook('onRequest', async (request) => {
    if (request.is404) return;
    const bucket = request.routeOptions.config.rateLimit;
    if (bucket === undefined) return;
    const verdict = limiters[bucket].take(clientKey(request.ip));
    if (!verdict.allowed) {
      const retryAfterSeconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
      throw new KioskError('RATE_LIMITED', `too many requests from this address: try again in ${retryAfterSeconds} s`, { details: { retryAfterSeconds } });
    }
  });
}
