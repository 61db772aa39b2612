/**
 * `/health/ready` is what an orchestrator routes traffic by: with one dependency unreachable (its URL
 * pointed at a closed port; the shared stack stays up) a real service process answers 503 naming that
 * dependency, keeps reporting the other two healthy, and `/health` (liveness) stays 200 so the process
 * is not restarted for someone else's outage.
 */
import { freePort, startService, type ServiceProcess } from './support/service-process';

type Dependency = 'kafka' | 'registry' | 'objectStore';

const unreachable: Record<Dependency, (closedPort: number) => Record<string, string>> = {
  kafka: (p) => ({ KAFKA_BROKERS: `127.0.0.1:${p}` }),
  registry: (p) => ({ SCHEMA_REGISTRY_URL: `http://127.0.0.1:${p}/apis/ccompat/v7` }),
  objectStore: (p) => ({ S3_ENDPOINT: `http://127.0.0.1:${p}` }),
};

interface Readiness {
  status: string;
  service: string;
  checks: Record<Dependency, { ok: boolean; error?: string }>;
}

describe.each(Object.keys(unreachable) as Dependency[])('order-service with %s unreachable', (dependency) => {
  let service: ServiceProcess;

  beforeAll(async () => {
    service = await startService('order-service', unreachable[dependency](await freePort()));
  });
  afterAll(() => service?.stop());

  it(`answers 503 on /health/ready naming ${dependency}, and 200 on /health`, async () => {
    const [ready, live] = await Promise.all([fetch(`${service.baseUrl}/health/ready`), fetch(`${service.baseUrl}/health`)]);
    const body = (await ready.json()) as Readiness;
    expect(body.status).toBe('not-ready');
    expect(body.checks[dependency].ok).toBe(false);
    expect(body.checks[dependency].error).toEqual(expect.any(String));
    for (const other of (Object.keys(unreachable) as Dependency[]).filter((d) => d !== dependency)) {
      expect(body.checks[other]).toEqual({ ok: true });
    }
    expect(ready.status).toBe(503);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok', service: 'order-service' });
  });
});
