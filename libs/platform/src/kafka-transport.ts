import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { isObservable, lastValueFrom, throwError, type Observable } from 'rxjs';
import type { HandlerContext, InboundRecord, KafkaRuntime, KafkaRuntimeOptions, Punctuator, RecordHandler } from '@app/runtime';

/** Everything the runtime needs except the handlers, which come from the app's `@EventPattern`s. */
export type KafkaRuntimeFactory = (handlers: Map<string, RecordHandler<never>>) => KafkaRuntime;

/**
 * Nest's handler proxy turns every exception into `{ status: 'error', message: 'Internal server error' }`
 * (BaseRpcExceptionFilter). The runtime decides DLQ versus back-off by the error itself, so this filter
 * hands the original error through; `attachKafkaTransport` installs it.
 */
@Catch()
export class PassErrorsToRuntime implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

/** An error that lost its class on the way through Nest (no `PassErrorsToRuntime` filter). */
export class NestHandlerError extends Error {
  constructor(detail: unknown) {
    super(typeof detail === 'object' && detail !== null ? JSON.stringify(detail) : String(detail));
    this.name = 'NestHandlerError';
  }
}

/**
 * A custom transport in Nest's own shape (like `ServerKafka`): `@EventPattern('<topic>')` methods become
 * the runtime's handlers, getting the `InboundRecord` as `@Payload()` and the `HandlerContext` as `@Ctx()`.
 * The runtime (framework-free, `@app/runtime`) does consumption, transactions, DLQ and back-off.
 */
export class KafkaRuntimeTransport extends Server implements CustomTransportStrategy {
  private runtime?: KafkaRuntime;
  private readonly punctuations: Array<[number, Punctuator]> = [];

  constructor(private readonly createRuntime: KafkaRuntimeFactory) {
    super();
  }

  /** A periodic punctuation per owned task (see `KafkaRuntime.punctuate`); e.g. from `onModuleInit`. */
  punctuate(intervalMs: number, run: Punctuator): void {
    if (this.runtime) this.runtime.punctuate(intervalMs, run);
    else this.punctuations.push([intervalMs, run]);
  }

  listen(callback: (err?: unknown) => void): void {
    const handlers = new Map<string, RecordHandler<never>>();
    for (const [pattern, handler] of this.messageHandlers) {
      if (!handler.isEventHandler) {
        this.logger.warn(`@MessagePattern('${pattern}') ignored: Kafka topics take @EventPattern handlers only`);
        continue;
      }
      handlers.set(pattern, (record, context) => this.invoke(handler, record, context));
    }
    // A start that failed (broker down at boot) is retried by calling listen again: the failed
    // runtime is closed first so its half-connected clients do not linger.
    const begin = async (): Promise<void> => {
      const failed = this.runtime;
      this.runtime = undefined;
      await failed?.close().catch(() => undefined);
      this.runtime = this.createRuntime(handlers);
      for (const [intervalMs, run] of this.punctuations) this.runtime.punctuate(intervalMs, run);
      await this.runtime.start();
    };
    begin().then(
      () => callback(),
      (err: unknown) => callback(err),
    );
  }

  async close(): Promise<void> {
    await this.runtime?.close();
  }

  on(): never {
    throw new Error('KafkaRuntimeTransport has no events; use the runtime metrics');
  }

  unwrap<T>(): T {
    if (!this.runtime) throw new Error('the Kafka runtime is not started yet');
    return this.runtime as T;
  }

  /** Runs the handler and every further handler Nest chained for the same topic, in order. */
  private async invoke(first: MessageHandler, record: InboundRecord<never>, context: HandlerContext): Promise<void> {
    for (let handler: MessageHandler | undefined = first; handler; handler = handler.next) {
      const result: unknown = await handler(record, context);
      if (isObservable(result)) {
        try {
          await lastValueFrom(result, { defaultValue: undefined });
        } catch (err) {
          throw err instanceof Error ? err : new NestHandlerError(err);
        }
      }
    }
  }
}

export type { KafkaRuntimeOptions };
