/** Injection tokens of the landing feature (settings, store and the sink itself can be swapped in tests). */
export const LANDING_SETTINGS = Symbol('LANDING_SETTINGS');
export const LAKE_STORE = Symbol('LAKE_STORE');
export const LANDING_SINK = Symbol('LANDING_SINK');
