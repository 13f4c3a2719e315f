// An mqtt.js client speaking the device side of the sync protocol, for tests: it records every
// message it receives and waits for one with a bounded timeout (no sleeps).
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { onTestFinished } from 'vitest';

/** Mosquitto 2.0 on 127.0.0.1:1883 (.ci/run starts it when missing). */
export const MOSQUITTO_URL = process.env.KIOSK_TEST_MOSQUITTO_URL ?? 'mqtt://127.0.0.1:1883';

export interface Received {
  readonly topic: string;
  readonly payload: Buffer;
  readonly retain: boolean;
  json<T = Record<string, unknown>>(): T;
}

export interface TestMqttClient {
  readonly client: MqttClient;
  readonly received: Received[];
  /** Resolves with the first message (already received or arriving) that matches; rejects after timeoutMs. */
  waitFor(match: (m: Received) => boolean, timeoutMs?: number, what?: string): Promise<Received>;
  /** Resolves when the connection is closed by the other side (or rejects after timeoutMs). */
  waitForClose(timeoutMs?: number): Promise<void>;
  subscribe(filter: string | string[]): Promise<Array<{ topic: string; qos: number }>>;
  publish(topic: string, payload: string | Buffer, options?: { retain?: boolean }): Promise<void>;
  end(): Promise<void>;
}

export async function connectTestClient(url: string, options: IClientOptions): Promise<TestMqttClient> {
  const client = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, protocolVersion: 4, ...options }, false);
  onTestFinished(() => client.endAsync(true).catch(() => undefined));
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, payload, packet) => {
    received.push({ topic, payload, retain: packet.retain === true, json: () => JSON.parse(payload.toString('utf8')) });
    for (const w of [...waiters]) w();
  });
  let closed = false;
  client.on('close', () => {
    closed = true;
    for (const w of [...waiters]) w();
  });
  const wait = <T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const tryNow = (): boolean => {
        const hit = check();
        if (hit === undefined) return false;
        waiters.delete(poll);
        clearTimeout(timer);
        resolve(hit);
        return true;
      };
      const poll = (): void => void tryNow();
      const timer = setTimeout(() => {
        waiters.delete(poll);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received: ${received.map((m) => m.topic).join(', ') || 'nothing'}`));
      }, timeoutMs);
      if (!tryNow()) waiters.add(poll);
    });
  return {
    client,
    received,
    waitFor: (match, timeoutMs = 5_000, what = 'a message') => wait(() => received.find(match), timeoutMs, what),
    waitForClose: (timeoutMs = 5_000) => wait(() => (closed || client.disconnected ? true : undefined), timeoutMs, 'the connection to close').then(() => undefined),
    // One SUBSCRIBE per filter: mqtt.js rejects a whole SUBACK with a refusal in it; a refused
    // filter is reported as qos 128 (the SUBACK failure code).
    subscribe: async (filter) => {
      const out: Array<{ topic: string; qos: number }> = [];
      for (const topic of Array.isArray(filter) ? filter : [filter]) {
        try {
          const [granted] = await client.subscribeAsync(topic, { qos: 1 });
          out.push({ topic, qos: granted?.qos ?? 128 });
        } catch (err) {
          if (!/Subscribe error/i.test(String((err as Error).message))) throw err;
          out.push({ topic, qos: 128 });
        }
      }
      return out;
    },
    publish: async (topic, payload, options = {}) => {
      await client.publishAsync(topic, payload, { qos: 1, retain: options.retain === true });
    },
    end: () => client.endAsync(),
  };
}
