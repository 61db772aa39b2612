import { serviceAccess } from '@app/contracts';

/**
 * The local stack's per-service SCRAM principals. The passwords are for the loopback broker only:
 * deterministic (`<service>-local-secret`) so every checkout, test and CI run agrees without a secret
 * store, and never valid anywhere else (AWS uses IAM roles, see infra/cdk).
 */
export const localSasl = {
  brokers: [`127.0.0.1:${process.env.LOCAL_KAFKA_SASL_PORT ?? '9096'}`],
  // Created by infra/local/stack.sh when it formats the broker's storage; super user.
  admin: { username: 'admin', password: process.env.LOCAL_SCRAM_ADMIN_PASSWORD ?? 'admin-secret' },
};

export function localScramPassword(service: string): string {
  return `${service}-local-secret`;
}

export interface LocalPrincipal {
  service: string;
  username: string;
  password: string;
}

export function localPrincipals(): LocalPrincipal[] {
  return serviceAccess.map((a) => ({ service: a.service, username: a.service, password: localScramPassword(a.service) }));
}

/**
 * The environment that makes a service connect to the local SASL listener as its own principal, with
 * only its ACLs (merge into the service's environment; `npm run acl:env -- <service>` prints it).
 */
export function localServiceEnv(service: string): Record<string, string> {
  const principal = localPrincipals().find((p) => p.service === service);
  if (!principal) throw new Error(`no principal for "${service}"; known: ${localPrincipals().map((p) => p.service).join(', ')}`);
  return {
    KAFKA_AUTH: 'scram',
    KAFKA_BROKERS: localSasl.brokers.join(','),
    KAFKA_SASL_USERNAME: principal.username,
    KAFKA_SASL_PASSWORD: principal.password,
  };
}
