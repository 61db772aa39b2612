export { NonRetriableError } from './handler';
export type { HandlerContext, InboundRecord, OutboundRecord, RecordHandler, StateStore } from './handler';
