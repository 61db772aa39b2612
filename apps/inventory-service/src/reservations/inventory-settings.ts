import { z } from 'zod';
import { ConfigError } from '@app/config';

export const inventoryEnvironmentSchema = z.object({
  /** Informational expiry written into StockReserved; the order-service's deadline is what releases. */
  INVENTORY_HOLD_MS: z.coerce.number().int().min(1000).default(30_000),
  INVENTORY_PUBLISH_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  // How soon a crashed instance's partitions move to another one (broker minimum 6 s).
  RUNTIME_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).default(30_000),
});

export interface InventorySettings {
  holdMs: number;
  publishTimeoutMs: number;
  sessionTimeoutMs: number;
}

export function loadInventorySettings(env: NodeJS.ProcessEnv): InventorySettings {
  const parsed = inventoryEnvironmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => ({ variable: issue.path.join('.'), message: issue.message })));
  }
  const e = parsed.data;
  return { holdMs: e.INVENTORY_HOLD_MS, publishTimeoutMs: e.INVENTORY_PUBLISH_TIMEOUT_MS, sessionTimeoutMs: e.RUNTIME_SESSION_TIMEOUT_MS };
}
