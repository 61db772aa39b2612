import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** Request bodies up to 1 MiB (Nest's default parser stops at 100 kB); larger ones get 413. */
export const MAX_BODY = '1mb';

/** HTTP setup of the order-service: body limit and the OpenAPI document at /docs (from the DTOs). */
export function configureOrderHttp(app: INestApplication): void {
  (app as NestExpressApplication).useBodyParser('json', { limit: MAX_BODY });
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('SecureCart order-service')
      .setDescription('Place orders, read their state (long-poll until final), decide reviews, cancel.')
      .setVersion('1')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json' });
}
