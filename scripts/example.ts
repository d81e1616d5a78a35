/**
 * The main job (`npm start`): stores one of each kind of record through the storage the
 * environment selects (by default the file backend in ./storage_data), reads everything
 * back, and prints health and stats.
 */
import { createStorageFromEnv } from '../src/index.js';

async function main(): Promise<void> {
  const storage = createStorageFromEnv();
  await storage.initialize();
  try {
    const conversationId = 'example-conversation';
    await storage.storeConversation(conversationId, {
      conversation_id: conversationId,
      title: 'Example conversation',
      messages: [
        { role: 'user', content: 'What is the capital of France?', timestamp: new Date().toISOString() },
        { role: 'assistant', content: 'Paris.', timestamp: new Date().toISOString() },
      ],
    });
    await storage.storeRawMessages(conversationId, [
      { role: 'user', content: 'What is the capital of France?' },
      { role: 'assistant', content: 'Paris.' },
    ]);
    await storage.storeMemory(conversationId, 'memory-1', {
      summary: 'The user asked about the capital of France.',
      token_count: 12,
    });
    await storage.storeReasoningChain('example-agent', {
      steps: [{ thought: 'Recall geography', tool: null }],
      outcome: 'answered',
    });
    await storage.storeChunkInfo(conversationId, {
      chunks: [{ start: 0, end: 1, tokens: 20 }],
      strategy: 'token-window',
    });
    await storage.storeCacheEntry('example:answer', { text: 'Paris.' }, 3600);
    await storage.storeSystemState('example_last_run', { at: new Date().toISOString() });

    const conversation = await storage.loadConversation(conversationId);
    const memories = await storage.loadMemories(conversationId);
    const chains = await storage.loadReasoningChains('example-agent', 1);
    console.log(`storage type:        ${storage.storageType}`);
    console.log(`conversation title:  ${String(conversation?.title)}`);
    console.log(`raw messages:        ${(await storage.loadRawMessages(conversationId)).length}`);
    console.log(`memories:            ${memories.map((m) => m.memory_id).join(', ')}`);
    console.log(
      `latest chain:        ${String(chains[0]?.outcome)} (stored ${String(chains[0]?.stored_at)})`,
    );
    console.log(`chunk info:          ${JSON.stringify(await storage.loadChunkInfo(conversationId))}`);
    console.log(`cache entry:         ${JSON.stringify(await storage.loadCacheEntry('example:answer'))}`);
    console.log(`system state:        ${JSON.stringify(await storage.loadSystemState('example_last_run'))}`);
    console.log('\nhealth:', JSON.stringify(await storage.healthCheck(), null, 2));
    console.log('\nstats:', JSON.stringify(await storage.getStorageStats(), null, 2));
  } finally {
    await storage.shutdown();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
