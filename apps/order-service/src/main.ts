import { bootstrapService } from '@app/platform';
import { configureOrderHttp } from './http-setup';
import { OrderServiceModule } from './order-service.module';

void bootstrapService(
  { service: 'order-service', defaultHttpPort: 3000 },
  (config, logger) => OrderServiceModule.forRoot(config, logger),
  { kafkaTransport: true, configure: configureOrderHttp },
);
