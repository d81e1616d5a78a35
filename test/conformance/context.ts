/**
 * Per-test store management for the conformance suite: every test gets a fresh, empty
 * store from the backend's harness, and everything is shut down and removed afterwards.
 */
import type { StorageInterface } from '../../src/core/index.js';
import { shiftClock, type ShiftedClock } from '../support/clock.js';
import type { BackendHarness, HarnessStore } from './harness.js';

/** What each group of conformance tests works with. */
export interface SuiteContext {
  harness: BackendHarness;
  /** The test's main instance (initialized, on a fresh store). */
  storage(): StorageInterface;
  /** Another initialized instance on the same store (only meaningful when `sharedStore`), with `extraConfig` added. */
  openAnother(extraConfig?: Record<string, unknown>): Promise<StorageInterface>;
  /** A further fresh store that no instance has opened yet (so it does not exist); removed after the test. */
  newStore(): Promise<HarnessStore>;
  /**
   * Lets `ms` pass for cache expiry without waiting: moves the library's clock forward (until
   * the test ends) and, where the server owns expiry, expires `cacheKeys` whose TTL ran out.
   */
  passTime(ms: number, cacheKeys: string[]): Promise<void>;
  /** True where the server expires cache entries itself, in real time (Redis `PX`). */
  serverOwnsExpiry(): boolean;
  /** Counts the server connections of the test's store, where the harness can (else undefined). */
  connectionCounter(): (() => Promise<number>) | undefined;
  /** What an error naming the test's store shows of it (see {@link HarnessStore.shownAs}). */
  shownAs(): readonly string[];
}

/** Registers beforeEach/afterEach hooks that give every test a fresh store. */
export function useFreshStore(harness: BackendHarness): SuiteContext {
  let store: HarnessStore | undefined;
  let main: StorageInterface | undefined;
  const opened: StorageInterface[] = [];
  let clock: ShiftedClock | undefined;
  const extraStores: HarnessStore[] = [];

  beforeEach(async () => {
    store = await harness.createStore();
    main = await store.open();
    opened.push(main);
  });

  afterEach(async () => {
    clock?.restore();
    clock = undefined;
    for (const instance of opened.splice(0)) await instance.shutdown();
    await store?.cleanup();
    for (const extra of extraStores.splice(0)) await extra.cleanup();
    store = undefined;
    main = undefined;
  });

  const track = (instance: StorageInterface): StorageInterface => {
    opened.push(instance);
    return instance;
  };

  return {
    harness,
    storage() {
      if (!main) throw new Error('conformance: storage used outside a test');
      return main;
    },
    connectionCounter() {
      if (!store) throw new Error('conformance: store used outside a test');
      return store.openConnections?.bind(store);
    },
    shownAs() {
      if (!store) throw new Error('conformance: store used outside a test');
      return store.shownAs;
    },
    async openAnother(extraConfig) {
      if (!store) throw new Error('conformance: store used outside a test');
      const instance = await store.open(extraConfig);
      opened.push(instance);
      return instance;
    },
    async passTime(ms, cacheKeys) {
      if (!store) throw new Error('conformance: store used outside a test');
      clock ??= shiftClock();
      clock.advance(ms);
      await store.passServerTime?.(ms, cacheKeys);
    },
    serverOwnsExpiry() {
      if (!store) throw new Error('conformance: store used outside a test');
      return store.passServerTime !== undefined;
    },
    async newStore() {
      const fresh = await harness.createStore();
      extraStores.push(fresh);
      // Instances opened on it are shut down with the others, before any cleanup.
      return { ...fresh, open: async (extraConfig) => track(await fresh.open(extraConfig)) };
    },
  };
}

/** Sleeps for `ms` milliseconds (cache expiry tests). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Values that exercise JSON edge cases: unicode, NUL, long strings, deep nesting. */
export function awkwardValue(): Record<string, unknown> {
  let deep: Record<string, unknown> = { leaf: 'bottom' };
  for (let i = 0; i < 100; i += 1) deep = { level: i, child: deep, list: [i, { i }] };
  return {
    unicode: '會話-ü 🧠 עברית \u00e9\u0301',
    nul: 'before\u0000after',
    controls: '\t\n\r\u0001\u001f\u007f',
    quotes: 'she said "hi" \\ back\\slash',
    long: 'x'.repeat(100 * 1024),
    numbers: [0, -1, 1.5, 1e21, -0.000001, Number.MAX_SAFE_INTEGER],
    flags: [true, false, null],
    empty: { object: {}, array: [], string: '' },
    deep,
  };
}

/** The core stats counts of an empty store. */
export const EMPTY_COUNTS = {
  conversation_count: 0,
  raw_message_count: 0,
  memory_count: 0,
  reasoning_chain_count: 0,
  agent_count: 0,
  chunk_info_count: 0,
  cache_entry_count: 0,
  system_state_count: 0,
};
