import { describe, expect, it } from 'vitest';
import { includedTaxMinor, orderRequestHash, planOrderIntake, type IntakeFacts } from '../../../../agent/src/domain/order-intake.ts';
import { TRIAL_MAX_ORDERS_PER_DAY } from '../../../../agent/src/domain/trial.ts';
import type { Product } from '../../../../common/sync-messages.ts';

const esp: Product = { sku: 'ESP-01', name: 'Espresso', priceMinor: 250, currency: 'EUR', taxRateBp: 700, active: true };
const request = { orderId: 'order-0001', kind: 'sale' as const, lines: [{ sku: 'ESP-01', qty: 2 }] };
const facts = (over: Partial<IntakeFacts> = {}): IntakeFacts => ({
  request,
  requestHash: orderRequestHash(request),
  existing: null,
  mode: 'licensed',
  salesToday: 0,
  catalogVersion: 812,
  products: new Map([['ESP-01', esp]]),
  original: null,
  seq: 1042,
  nowMs: Date.UTC(2026, 10, 25, 12),
  ...over,
});

describe('order intake', () => {
  it('prices a sale from the catalog (gross, tax inside) and records the catalog version — the protocol example', () => {
    const d = planOrderIntake(facts());
    expect(d).toEqual({
      kind: 'create',
      message: {
        type: 'order', v: 1, orderId: 'order-0001', seq: 1042, kind: 'sale', createdAt: '2026-11-25T12:00:00.000Z', catalogVersion: 812,
        currency: 'EUR', lines: [{ sku: 'ESP-01', qty: 2, unitPriceMinor: 250, taxMinor: 33 }], totalMinor: 500, taxMinor: 33,
      },
    });
    expect(includedTaxMinor(1190, 1900)).toBe(190);
  });

  it('idempotency: the same request replays, another one conflicts', () => {
    expect(planOrderIntake(facts({ existing: { requestHash: orderRequestHash(request) } }))).toEqual({ kind: 'replay' });
    expect(planOrderIntake(facts({ existing: { requestHash: 'x' } }))).toMatchObject({ kind: 'refuse', code: 'ORDER_CONFLICT' });
  });

  it('license and trial: unlicensed → LICENSE_REQUIRED, trial over the daily limit → TRIAL_LIMIT_REACHED', () => {
    expect(planOrderIntake(facts({ mode: 'unlicensed' }))).toMatchObject({ code: 'LICENSE_REQUIRED' });
    expect(planOrderIntake(facts({ mode: null }))).toMatchObject({ code: 'LICENSE_REQUIRED' });
    expect(planOrderIntake(facts({ mode: 'trial', salesToday: TRIAL_MAX_ORDERS_PER_DAY - 1 })).kind).toBe('create');
    expect(planOrderIntake(facts({ mode: 'trial', salesToday: TRIAL_MAX_ORDERS_PER_DAY }))).toMatchObject({ code: 'TRIAL_LIMIT_REACHED' });
    expect(planOrderIntake(facts({ mode: 'grace', salesToday: 10_000 })).kind).toBe('create');
  });

  it('unknown, inactive, mixed currency → refused', () => {
    expect(planOrderIntake(facts({ products: new Map() }))).toMatchObject({ code: 'NOT_FOUND' });
    expect(planOrderIntake(facts({ products: new Map([['ESP-01', { ...esp, active: false }]]) }))).toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
