import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freePort } from './process';

describe(freePort.name, () => {
  it('answers distinct ports below the kernel ephemeral range, each free on every interface', async () => {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) {
      // Outside the range the kernel hands to outgoing connections, which could take it first.
      expect(port).toBeLessThan(low!);
      await new Promise<void>((resolve, reject) => {
        const srv = createServer();
        srv.once('error', reject);
        srv.listen(port, '0.0.0.0', () => srv.close(() => resolve()));
      });
    }
  });
});
