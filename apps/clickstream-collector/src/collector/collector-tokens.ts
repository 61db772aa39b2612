/** The collector's validated settings (`CollectorSettings`). */
export const COLLECTOR_SETTINGS = Symbol('COLLECTOR_SETTINGS');
