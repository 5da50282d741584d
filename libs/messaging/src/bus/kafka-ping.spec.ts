import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaEventBus } from './kafka.event-bus';

/**
 * A broker that accepts connections and never answers (a hung broker, a black-holing proxy):
 * readiness waits for `ping()`, and a kubelet probe (3 s) that times out counts as failed.
 */
describe('KafkaEventBus.ping against a broker that never answers', () => {
  let server: Server;
  const sockets = new Set<Socket>();
  let port = 0;

  beforeAll(async () => {
    server = createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('answers false, well before the client request timeout, and concurrent probes share one look', async () => {
    const bus = new KafkaEventBus({ brokers: [`127.0.0.1:${port}`], clientId: 'ping-spec' });
    try {
      const hung = sleep(5_000).then(() => 'still waiting' as const);
      await expect(Promise.race([bus.ping(), hung])).resolves.toBe(false);
      await expect(Promise.race([Promise.all([bus.ping(), bus.ping()]), hung])).resolves.toEqual([false, false]);
      // One connection for the look in flight, not one per probe.
      expect(sockets.size).toBe(1);
    } finally {
      await bus.close();
    }
  }, 20_000);
});
