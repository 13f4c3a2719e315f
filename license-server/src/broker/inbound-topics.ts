// Which device topics the server consumes, and the per-device ordering both transports keep.
import { parseTopic } from '../../../common/sync-messages.ts';
import type { InboundKind } from '../domain/sync-transport.ts';

const INBOUND: ReadonlySet<string> = new Set<InboundKind>(['deviceOrders', 'deviceReq', 'deviceStatus']);

/** The inbound kind and the ids a topic names, or null for a topic the server does not consume. */
export function inboundTopic(topic: string): { kind: InboundKind; tenant: string; deviceId: string } | null {
  const parsed = parseTopic(topic);
  if (!parsed || !('deviceId' in parsed) || !INBOUND.has(parsed.kind)) return null;
  return { kind: parsed.kind as InboundKind, tenant: parsed.tenant, deviceId: parsed.deviceId };
}
