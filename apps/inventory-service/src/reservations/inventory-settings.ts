import { z } from 'zod';
import { ConfigError } from '@app/config';

export const inventoryEnvironmentSchema = z.object({
  /** Informational expiry written into StockReserved; the order-service's deadline is what releases. */
  INVENTORY_HOLD_MS: z.coerce.number().int().min(1000).default(30_000),
  INVENTORY_PUBLISH_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
});

export interface InventorySettings {
  holdMs: number;
  publishTimeoutMs: number;
}

export function loadInventorySettings(env: NodeJS.ProcessEnv): InventorySettings {
  const parsed = inventoryEnvironmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => ({ variable: issue.path.join('.'), message: issue.message })));
  }
  return { holdMs: parsed.data.INVENTORY_HOLD_MS, publishTimeoutMs: parsed.data.INVENTORY_PUBLISH_TIMEOUT_MS };
}
