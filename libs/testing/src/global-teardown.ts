import { killLeftoverServices } from './process';

/**
 * Jest global teardown of the integration suite: a suite whose beforeAll failed half-way
 * cannot stop the services it had started; they would keep Jest (and CI) from exiting.
 */
export default async function globalTeardown(): Promise<void> {
  const killed = killLeftoverServices();
  if (killed.length > 0) process.stderr.write(`global teardown: stopped services the tests left running:\n  ${killed.join('\n  ')}\n`);
}
