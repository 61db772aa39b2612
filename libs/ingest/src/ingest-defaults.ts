/** file-ingest defaults (STYLE #8: defaults are data). */
export const ingestDefaults = {
  /** Files at or above this size go by resumable multipart upload. */
  multipartThresholdBytes: 16 * 1024 * 1024,
  /** S3's minimum part size is 5 MiB; 8 MiB parts keep a 200 MiB file at 25 parts. */
  partSizeBytes: 8 * 1024 * 1024,
  /** Small files in flight at once. */
  concurrency: 8,
  /** The sync state is saved after this many finished files (and at the end), bounding re-work after a crash. */
  checkpointEveryFiles: 200,
  /** inventory-service's SKU request topic, the input of `PUT /stock/:sku` (its `SKU_REQUESTS_TOPIC`). */
  stockCountTopic: 'inventory-service.sku-requests',
  stockCountBatch: 500,
  /** Files whose rows become stock counts. */
  inventoryPatterns: ['**/inventory*.csv'] as string[],
  /** Inventory CSVs above this size are copied but not parsed (reported as failed rows). */
  maxInventoryCsvBytes: 64 * 1024 * 1024,
};
