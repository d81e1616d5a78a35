/**
 * Child process for the file vector store's crash test: upserts batches of 10 records until it
 * is killed, printing each batch number once its upsert has resolved (committed).
 * Usage: tsx vector-writer.child.ts <baseDir>
 */
import { FileVectorStore } from '../../src/index.js';

async function main(): Promise<void> {
  const store = new FileVectorStore({ baseDir: process.argv[2] as string });
  await store.ensureIndex({ embedderId: 'test:v1', dimensions: 32, metric: 'cosine' });
  for (let batch = 0; ; batch += 1) {
    await store.upsert(
      Array.from({ length: 10 }, (_, i) => ({
        id: `b${batch}-${i}`,
        vector: Float32Array.from({ length: 32 }, (_, d) => ((batch * 10 + i + d) % 7) + 1),
        kind: 'memory',
      })),
    );
    process.stdout.write(`${batch}\n`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
