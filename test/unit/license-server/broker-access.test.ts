import { describe, expect, it } from 'vitest';
import { mayPublish, maySubscribe } from '../../../license-server/src/domain/broker-access.ts';

const ME = 'a'.repeat(32);
const OTHER = 'b'.repeat(32);
const full = { tenant: 'shop-1', deviceId: ME, ordersOnly: false };
const limited = { ...full, ordersOnly: true };
const dev = (id: string, leaf: string, tenant = 'shop-1') => `kiosk/v1/${tenant}/devices/${id}/${leaf}`;

describe('broker topic rules (from the session identity)', () => {
  it('a full session publishes its own req, orders (not retained) and status (retained too)', () => {
    expect(mayPublish(full, dev(ME, 'req'), false)).toBe(true);
    expect(mayPublish(full, dev(ME, 'orders'), false)).toBe(true);
    expect(mayPublish(full, dev(ME, 'status'), true)).toBe(true);
    expect(mayPublish(full, dev(ME, 'orders'), true)).toBe(false);
    expect(mayPublish(full, dev(ME, 'res'), false)).toBe(false);
  });

  it('never as another device or tenant, never on server topics or outside the protocol', () => {
    for (const topic of [dev(OTHER, 'orders'), dev(ME, 'orders', 'shop-2'), 'kiosk/v1/shop-1/catalog/head', 'kiosk/v1/shop-1/revocations', `${dev(ME, 'orders')}/x`, 'kiosk/v1/shop-1/devices/+/orders', '$SYS/x', '']) {
      expect(mayPublish(full, topic, false), topic).toBe(false);
    }
  });

  it('an orders-only session publishes orders and hears acks, nothing else', () => {
    expect(mayPublish(limited, dev(ME, 'orders'), false)).toBe(true);
    expect(mayPublish(limited, dev(ME, 'req'), false)).toBe(false);
    expect(mayPublish(limited, dev(ME, 'status'), true)).toBe(false);
    expect(maySubscribe(limited, dev(ME, 'res'))).toBe(true);
    expect(maySubscribe(limited, 'kiosk/v1/shop-1/catalog/#')).toBe(false);
    expect(maySubscribe(limited, dev(ME, '#'))).toBe(false);
  });

  it('a full session subscribes to its tenant\'s catalog and revocations and its own device topics only', () => {
    for (const f of ['kiosk/v1/shop-1/catalog/#', 'kiosk/v1/shop-1/catalog/head', 'kiosk/v1/shop-1/revocations', dev(ME, '#'), dev(ME, 'res')]) expect(maySubscribe(full, f), f).toBe(true);
    for (const f of ['kiosk/v1/shop-2/catalog/#', 'kiosk/v1/+/catalog/#', 'kiosk/v1/shop-1/#', 'kiosk/v1/shop-1/devices/+/res', dev(OTHER, 'res'), '#', '+/+/+', '$SYS/#']) {
      expect(maySubscribe(full, f), f).toBe(false);
    }
  });
});

describe('broker delivery rule (authorizeForward)', () => {
  it('delivers the tenant\'s catalog and revocations and the device\'s own topics; an orders-only session only its res', async () => {
    const { mayReceive } = await import('../../../license-server/src/domain/broker-access.ts');
    expect(mayReceive(full, 'kiosk/v1/shop-1/catalog/delta')).toBe(true);
    expect(mayReceive(full, 'kiosk/v1/shop-1/revocations')).toBe(true);
    expect(mayReceive(full, dev(ME, 'res'))).toBe(true);
    expect(mayReceive(full, dev(OTHER, 'res'))).toBe(false);
    expect(mayReceive(full, 'kiosk/v1/shop-2/catalog/delta')).toBe(false);
    expect(mayReceive(full, '$SYS/broker/x')).toBe(false);
    expect(mayReceive(limited, 'kiosk/v1/shop-1/catalog/delta')).toBe(false);
    expect(mayReceive(limited, dev(ME, 'res'))).toBe(true);
    expect(mayReceive(limited, dev(ME, 'status'))).toBe(false);
  });
});
