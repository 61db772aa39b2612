import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes, type AclEntry } from 'kafkajs';
import { serviceAccessFor } from '@app/contracts';
import { aclsFor, describeAcl, planAcls } from './acl-plan';
import { localServiceEnv } from './local-principals';

function acl(principal: string, resourceName: string, operation: AclOperationTypes): AclEntry {
  return {
    principal,
    host: '*',
    resourceType: AclResourceTypes.TOPIC,
    resourceName,
    resourcePatternType: ResourcePatternTypes.LITERAL,
    operation,
    permissionType: AclPermissionTypes.ALLOW,
  };
}

describe('aclsFor', () => {
  it('turns the fraud service grants into allow ACLs for User:fraud-service', () => {
    const lines = aclsFor(serviceAccessFor('fraud-service')).map(describeAcl);
    expect(lines).toEqual(
      expect.arrayContaining([
        'User:fraud-service ALLOW READ on TOPIC LITERAL orders.order-placed.v1',
        'User:fraud-service ALLOW WRITE on TOPIC LITERAL fraud.fraud-assessed.v1',
        'User:fraud-service ALLOW WRITE on TOPIC LITERAL orders.order-placed.v1.dlq',
        'User:fraud-service ALLOW CREATE on TOPIC PREFIXED fraud-service.',
        'User:fraud-service ALLOW READ on GROUP LITERAL fraud-service',
        'User:fraud-service ALLOW WRITE on TRANSACTIONAL_ID PREFIXED fraud-service.',
        'User:fraud-service ALLOW IDEMPOTENT_WRITE on CLUSTER LITERAL kafka-cluster',
      ]),
    );
    expect(lines.filter((l) => / on TOPIC .*orders\./.test(l) && / WRITE /.test(l))).toEqual([
      'User:fraud-service ALLOW WRITE on TOPIC LITERAL orders.order-placed.v1.dlq',
    ]);
    expect(new Set(lines).size).toBe(lines.length);
  });
});

describe('planAcls', () => {
  const managed = new Set(['User:fraud-service']);
  it('creates what is missing, removes what the data no longer defines, and leaves other principals alone', () => {
    const keep = acl('User:fraud-service', 'fraud.fraud-assessed.v1', AclOperationTypes.WRITE);
    const stale = acl('User:fraud-service', 'orders.order-confirmed.v1', AclOperationTypes.WRITE);
    const foreign = acl('User:someone-else', 'orders.order-confirmed.v1', AclOperationTypes.WRITE);
    const add = acl('User:fraud-service', 'orders.order-placed.v1', AclOperationTypes.READ);
    const plan = planAcls([keep, stale, foreign], [keep, add], managed);
    expect(plan).toEqual({ create: [add], remove: [stale], unchanged: 1 });
    expect(planAcls([keep, add, foreign], [keep, add], managed)).toEqual({ create: [], remove: [], unchanged: 2 });
  });
});

describe('localServiceEnv', () => {
  it('points a service at the SASL listener as its own principal', () => {
    expect(localServiceEnv('s3-sink')).toEqual({
      KAFKA_AUTH: 'scram',
      KAFKA_BROKERS: '127.0.0.1:9096',
      KAFKA_SASL_USERNAME: 's3-sink',
      KAFKA_SASL_PASSWORD: 's3-sink-local-secret',
    });
    expect(() => localServiceEnv('payments')).toThrow(/no principal for "payments"/);
  });
});
