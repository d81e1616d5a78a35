/** The file backend: JSON files in the Python reference's folder layout. */
export { FileStorage } from './file-storage.js';
export type { FileStorageConfig } from './config.js';
