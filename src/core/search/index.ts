/** Full-text search: query, tokenizer, indexed text, scoring, snippets, hits and the default scan. */
export * from './fields.js';
export * from './hits.js';
export * from './query.js';
export * from './rank.js';
export * from './scan.js';
export * from './scoring.js';
export * from './snippet.js';
export * from './tokenizer.js';
export * from './unreadable.js';
