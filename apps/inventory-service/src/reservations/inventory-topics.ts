import { recordKeyOf, topics } from '@app/contracts';
import type { ReserveReply, SkuRequest } from './sku-ledger';

/**
 * Internal topics of the inventory-service (JSON). Requests are keyed by SKU so each SKU has one
 * writer (the task of its partition); replies are keyed by orderId so they return to the order's task.
 * Same partition count as the catalog topics, so task p's stores hold exactly the keys of partition p.
 */
export const SKU_REQUESTS_TOPIC = 'inventory-service.sku-requests';
export const SKU_REPLIES_TOPIC = 'inventory-service.sku-replies';
export const INVENTORY_PARTITIONS = 6;

export type SkuRequestMessage = SkuRequest & { sku: string };
export type SkuReplyMessage = ReserveReply;

/** `inventory.stock-level.v1` key: one compacted record per SKU and warehouse, as the catalog defines it. */
export function stockLevelKey(sku: string, warehouseId: string): string {
  return recordKeyOf(topics.stockLevel, { sku, warehouseId });
}
