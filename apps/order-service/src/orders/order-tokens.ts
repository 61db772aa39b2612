/** Injection token of the order-service's own settings (ORDER_* variables). */
export const ORDER_SETTINGS = Symbol('ORDER_SETTINGS');
