// The lake: raw landing, hour close, compaction, manifests (no Nest).
export {};
export * from './manifest';
