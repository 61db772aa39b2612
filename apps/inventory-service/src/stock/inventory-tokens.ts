/** Injection token of the inventory-service's own settings (INVENTORY_* variables). */
export const INVENTORY_SETTINGS = Symbol('INVENTORY_SETTINGS');
