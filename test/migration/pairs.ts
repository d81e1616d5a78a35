/** Running a test on a source and a target store made by two conformance harnesses. */
import type { StorageInterface } from '../../src/core/index.js';
import type { BackendHarness } from '../conformance/harness.js';
import { serviceUnavailableReason, type TestService } from '../services.js';

/** The service a pair needs, an unreachable one first (so that the pair is skipped loudly). */
export function pairService(from: BackendHarness, to: BackendHarness): TestService | undefined {
  const needed = [from.service, to.service].filter((service) => service !== undefined);
  return needed.find((service) => serviceUnavailableReason(service) !== null) ?? needed[0];
}

/** Opens a fresh store of each harness, runs `fn`, then shuts both down and removes them. */
export async function withStorePair(
  from: BackendHarness,
  to: BackendHarness,
  fn: (source: StorageInterface, target: StorageInterface) => Promise<void>,
): Promise<void> {
  const [sourceStore, targetStore] = await Promise.all([from.createStore(), to.createStore()]);
  const opened: StorageInterface[] = [];
  try {
    const source = await sourceStore.open();
    opened.push(source);
    const target = await targetStore.open();
    opened.push(target);
    await fn(source, target);
  } finally {
    await Promise.all(opened.map((storage) => storage.shutdown()));
    await Promise.all([sourceStore.cleanup(), targetStore.cleanup()]);
  }
}
