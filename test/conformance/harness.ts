/**
 * What the conformance suite needs from a backend: a way to make a fresh, isolated store
 * and to open more instances on that same store. One harness per backend lives beside this
 * file (`harness-<name>.ts`) and is listed in `backends.ts`.
 */
import type { StorageInterface } from '../../src/core/index.js';
import type { TestService } from '../services.js';

/**
 * One isolated store (a temp dir, a database file, a key prefix, a schema). Creating it
 * writes nothing: the store comes to exist at the first writable `open()`.
 */
export interface HarnessStore {
  /** Opens (and initializes) another instance on this same store, with `extraConfig` added to its config (e.g. `{ readOnly: true }`). */
  open(extraConfig?: Record<string, unknown>): Promise<StorageInterface>;
  /** True once anything of the store exists (its folder, database file, schema, any key under its prefix). */
  exists(): Promise<boolean>;
  /**
   * What an error naming this store shows of it, each part somewhere in the message: its folder
   * or database file, or its URL (password masked) and key prefix or schema, or the given
   * client; the type alone for a backend with no description of its own.
   */
  shownAs: readonly string[];
  /** Removes everything the store wrote. Instances are shut down by the suite first. */
  cleanup(): Promise<void>;
  /**
   * For a backend whose server expires cache entries itself (Redis): makes the server act as if
   * `ms` more had passed for `cacheKeys` (entries whose remaining TTL is at most `ms` expire).
   * Backends that compare expiry against the library's clock leave this out.
   */
  passServerTime?(ms: number, cacheKeys: string[]): Promise<void>;
  /**
   * Server connections currently held by the instances opened on this store, where the
   * harness can count them (network backends that open their own connections); used to
   * prove that `initialize()`/`shutdown()` races leak nothing.
   */
  openConnections?(): Promise<number>;
  /**
   * Breaks the JSON text of every stored record of one kind of `owner` (an agent's chains, a
   * conversation's raw messages or memories; it has some), as another program or a damaged disk
   * could: a file store's file cut short, a row's, list item's or hash field's text. With
   * `record` (a raw message's or chain's position in the owner's list, a memory's id) only that
   * record's, where the backend stores it apart ({@link BackendHarness.breaksOneRecord}); the
   * file store keeps the list in one file, so its whole file is cut short. Left out where
   * nothing outside an instance reaches its data.
   */
  breakRecords?(kind: BrokenKind, owner: string, record?: number | string): Promise<void>;
  /**
   * How another process opens this same store (see `multi-process.child.ts`); left out where
   * instances never share data (`:memory:`, the in-memory user backend).
   */
  childSpec?: ChildStoreSpec;
}

/** The kinds {@link HarnessStore.breakRecords} breaks. */
export type BrokenKind = 'reasoning_chains' | 'raw_messages' | 'memories';

/** JSON text cut off mid-record, as a harness writes it over broken records. */
export const BROKEN_JSON = '{"stored_at": "2026-';

/** A JSON description of a store that a child process can open on its own. */
export interface ChildStoreSpec {
  backend: 'file' | 'sqlite' | 'redis' | 'postgres';
  /** The backend's config (JSON only: no client objects). */
  config: Record<string, unknown>;
  /** Start-up nodes of a Redis Cluster: the child then makes its own ioredis `Cluster` client. */
  clusterNodes?: Array<{ host: string; port: number }>;
}

/** A backend as the conformance suite sees it. */
export interface BackendHarness {
  /** Name shown in test titles, e.g. `file` or `sqlite (:memory:)`. */
  name: string;
  /**
   * Resolves to `true` when the backend can run here, or to a reason string when it
   * cannot (server unreachable). Off CI the suite is then skipped loudly; with CI=true it fails.
   */
  available(): Promise<true | string>;
  /** The test server this backend needs, if any (its reachability is probed before the run). */
  service?: TestService;
  /** Makes a fresh, empty store. */
  createStore(): Promise<HarnessStore>;
  /** True when several instances opened on one store share data (false for SQLite `:memory:`). */
  sharedStore: boolean;
  /** True when its stores have {@link HarnessStore.breakRecords}: the suites that need it are skipped elsewhere. */
  breaksRecords?: true;
  /**
   * True when its instances are given a client the harness made (an ioredis `Cluster`), which
   * `shutdown()` leaves open: the store opens no connection of its own.
   */
  givenClient?: true;
  /** True when its `breakRecords` breaks one record alone (each is stored apart: rows, list items, hash fields). */
  breaksOneRecord?: true;
}
