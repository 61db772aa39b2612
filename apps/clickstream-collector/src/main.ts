import { bootstrapService } from '@app/platform';
import { ClickstreamCollectorModule } from './clickstream-collector.module';
import { configureCollectorHttp } from './http-setup';

void bootstrapService(
  { service: 'clickstream-collector', defaultHttpPort: 3004 },
  (config, logger) => ClickstreamCollectorModule.forRoot(config, logger),
  { configure: configureCollectorHttp },
);
