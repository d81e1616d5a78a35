/**
 * Migrates one store into another: `tsx scripts/migrate-storage.ts --from SPEC --to SPEC [...]`,
 * the same as `connectome-storage migrate ...` (see `src/cli/main.ts`).
 */
import { runMain } from '../src/cli/main.js';

runMain(['migrate', ...process.argv.slice(2)], 'migrate-storage');
