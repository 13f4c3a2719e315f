import { describe, expect, it } from 'vitest';
import { MAX_PROOF_LIFETIME_S } from '../../../common/device-api.ts';
import { checkProofTimes, PROOF_CLOCK_SKEW_S } from '../../../license-server/src/domain/device-proof.ts';

const NOW_S = 1_800_000_000;
const reason = (claims: { iat: number; exp: number }): unknown => {
  try {
    checkProofTimes(claims, NOW_S);
    return 'ok';
  } catch (err) {
    return [(err as { code: string }).code, (err as { details: { reason: string } }).details.reason];
  }
};

describe('checkProofTimes', () => {
  it('accepts a fresh proof, up to the skew ahead and the longest lifetime', () => {
    expect(reason({ iat: NOW_S, exp: NOW_S + 60 })).toBe('ok');
    expect(reason({ iat: NOW_S + PROOF_CLOCK_SKEW_S, exp: NOW_S + PROOF_CLOCK_SKEW_S + 1 })).toBe('ok');
    expect(reason({ iat: NOW_S - 10, exp: NOW_S - 10 + MAX_PROOF_LIFETIME_S })).toBe('ok');
    expect(reason({ iat: NOW_S - 10, exp: NOW_S + 1 })).toBe('ok');
  });

  it('refuses an expired proof, one from the future, and one valid too long or not at all', () => {
    expect(reason({ iat: NOW_S - 100, exp: NOW_S })).toEqual(['UNAUTHORIZED', 'EXPIRED']);
    expect(reason({ iat: NOW_S + PROOF_CLOCK_SKEW_S + 1, exp: NOW_S + PROOF_CLOCK_SKEW_S + 2 })).toEqual(['UNAUTHORIZED', 'NOT_YET_VALID']);
    expect(reason({ iat: NOW_S, exp: NOW_S + MAX_PROOF_LIFETIME_S + 1 })).toEqual(['UNAUTHORIZED', 'CLAIM_INVALID']);
    expect(reason({ iat: NOW_S, exp: NOW_S })).toEqual(['UNAUTHORIZED', 'CLAIM_INVALID']);
    expect(reason({ iat: NOW_S, exp: NOW_S - 5 })).toEqual(['UNAUTHORIZED', 'CLAIM_INVALID']);
  });
});
