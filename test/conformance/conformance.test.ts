/**
 * The one conformance suite: every backend listed in `backends.ts` runs every test here,
 * unchanged. New shared behaviour is added to `suites/`, never to one backend's tests.
 */
import { backends } from './backends.js';
import { batchTests } from './suites/batches.js';
import { batchPropertyTests } from './suites/batch-properties.js';
import { burstTests } from './suites/burst.js';
import { conversationBatchTests } from './suites/conversation-batches.js';
import { describeWithService } from '../services.js';
import { useFreshStore } from './context.js';
import { cacheRecordTests } from './suites/cache-records.js';
import { cacheAndStateTests } from './suites/cache-state.js';
import { hostileInputTests } from './suites/hostile-inputs.js';
import { keyLimitTests } from './suites/key-limits.js';
import { longNameTests } from './suites/long-names.js';
import { conversationTests } from './suites/conversations.js';
import { corruptDataTests } from './suites/corrupt-data.js';
import { corruptOneRecordTests } from './suites/corrupt-one-record.js';
import { lifecycleAndStatsTests } from './suites/lifecycle-stats.js';
import { memoryAndChainTests } from './suites/memories-chains.js';
import { modelSequenceTests } from './suites/model-sequences.js';
import { multiProcessTests } from './suites/multi-process.js';
import { crashTests } from './suites/crash.js';
import { pagingTests } from './suites/paging.js';
import { printedStoreTests } from './suites/printed-store.js';
import { propertyTests } from './suites/properties.js';
import { readOnlyTests } from './suites/read-only.js';
import { searchTests } from './suites/search.js';
import { searchIndexOptionTests } from './suites/search-index-option.js';
import { searchModelTests } from './suites/search-model.js';
import { searchTimestampTests } from './suites/search-timestamps.js';
import { semanticTests } from './suites/semantic.js';
import { shutdownDescriptorTests } from './suites/shutdown-descriptors.js';
import { semanticFailureTests } from './suites/semantic-failures.js';
import { semanticReindexTests } from './suites/semantic-reindex.js';
import { semanticTieTests } from './suites/semantic-ties.js';
import { storedIdTests } from './suites/stored-ids.js';
import { searchChainSequenceTests } from './suites/search-chain-sequence.js';
import { searchTieTests } from './suites/search-ties.js';
import { searchDeleteTests } from './suites/search-deletes.js';
import { reindexAbortTests } from './suites/reindex-abort.js';
import { retentionTests } from './suites/retention.js';
import { validationTests } from './suites/validation.js';
import { valueTests } from './suites/values.js';
import { valueSizeTests } from './suites/value-size.js';
import { windowAndAbortTests } from './suites/windows-abort.js';

for (const harness of backends) {
  describeWithService(harness.service)(`${harness.name} backend`, () => {
    beforeAll(async () => {
      const availability = await harness.available();
      if (availability !== true) {
        throw new Error(`${harness.name} backend is not available: ${availability}`);
      }
    });

    const ctx = useFreshStore(harness);
    conversationTests(ctx);
    storedIdTests(ctx);
    memoryAndChainTests(ctx);
    cacheAndStateTests(ctx);
    cacheRecordTests(ctx);
    burstTests(ctx);
    validationTests(ctx);
    keyLimitTests(ctx);
    valueTests(ctx);
    valueSizeTests(ctx);
    hostileInputTests(ctx);
    longNameTests(ctx);
    propertyTests(ctx);
    lifecycleAndStatsTests(ctx);
    printedStoreTests(ctx);
    shutdownDescriptorTests(ctx);
    readOnlyTests(ctx);
    pagingTests(ctx);
    windowAndAbortTests(ctx);
    searchTests(ctx);
    searchIndexOptionTests(ctx);
    searchTimestampTests(ctx);
    semanticTests(ctx);
    semanticFailureTests(ctx);
    semanticTieTests(ctx);
    semanticReindexTests(ctx);
    reindexAbortTests(ctx);
    searchChainSequenceTests(ctx);
    searchTieTests(ctx);
    searchDeleteTests(ctx);
    searchModelTests(ctx);
    retentionTests(ctx);
    corruptDataTests(ctx);
    corruptOneRecordTests(ctx);
    batchTests(ctx);
    batchPropertyTests(ctx);
    conversationBatchTests(ctx);
    modelSequenceTests(ctx);
    multiProcessTests(ctx);
    crashTests(ctx);
  });
}
