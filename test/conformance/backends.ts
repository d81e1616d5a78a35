/**
 * Every backend the conformance suite runs against; each new backend adds its harness here.
 * The last is a user-written backend (only the primitives), proving the core's defaults.
 */
import type { BackendHarness } from './harness.js';
import { fileHarness } from './harness-file.js';
import { userBackendHarness } from './harness-memory.js';
import { postgresHarness, postgresUnpreparedHarness } from './harness-postgres.js';
import { redisClusterHarness, redisHarness } from './harness-redis.js';
import { sqliteFileHarness, sqliteMemoryHarness } from './harness-sqlite.js';

export const backends: BackendHarness[] = [
  fileHarness,
  sqliteMemoryHarness,
  sqliteFileHarness,
  redisHarness,
  redisClusterHarness,
  postgresHarness,
  postgresUnpreparedHarness,
  userBackendHarness,
];
