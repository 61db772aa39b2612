import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  ResourcePatternTypes,
  type AclEntry,
  type DescribeAclResource,
} from 'kafkajs';
import { kafkaGrantsFor, type KafkaGrant, type ServiceAccess } from '@app/contracts';

const RESOURCE: Record<KafkaGrant['resourceType'], AclResourceTypes> = {
  topic: AclResourceTypes.TOPIC,
  group: AclResourceTypes.GROUP,
  'transactional-id': AclResourceTypes.TRANSACTIONAL_ID,
  cluster: AclResourceTypes.CLUSTER,
};
const PATTERN: Record<KafkaGrant['patternType'], ResourcePatternTypes> = {
  literal: ResourcePatternTypes.LITERAL,
  prefixed: ResourcePatternTypes.PREFIXED,
};
const OPERATION: Record<KafkaGrant['operations'][number], AclOperationTypes> = {
  Read: AclOperationTypes.READ,
  Write: AclOperationTypes.WRITE,
  Describe: AclOperationTypes.DESCRIBE,
  Create: AclOperationTypes.CREATE,
  DescribeConfigs: AclOperationTypes.DESCRIBE_CONFIGS,
  AlterConfigs: AclOperationTypes.ALTER_CONFIGS,
  Alter: AclOperationTypes.ALTER,
  IdempotentWrite: AclOperationTypes.IDEMPOTENT_WRITE,
};

// kafkajs' enums are plain objects at run time (no reverse mapping): names for keys and output.
function nameOf(values: Record<string, number | string>, value: number): string {
  return Object.keys(values).find((k) => values[k] === value) ?? String(value);
}

export function principalOf(service: string): string {
  return `User:${service}`;
}

/** The ACL entries a service's grants amount to (allow, any host). */
export function aclsFor(access: ServiceAccess): AclEntry[] {
  const principal = principalOf(access.service);
  const entries = new Map<string, AclEntry>();
  for (const grant of kafkaGrantsFor(access)) {
    for (const op of grant.operations) {
      const entry: AclEntry = {
        resourceType: RESOURCE[grant.resourceType],
        resourceName: grant.name,
        resourcePatternType: PATTERN[grant.patternType],
        principal,
        host: '*',
        operation: OPERATION[op],
        permissionType: AclPermissionTypes.ALLOW,
      };
      entries.set(aclKey(entry), entry);
    }
  }
  return [...entries.values()];
}

export function aclKey(e: AclEntry): string {
  return [e.principal, e.host, e.resourceType, e.resourcePatternType, e.resourceName, e.operation, e.permissionType].join('|');
}

/** Flattens a DescribeAcls answer into entries. */
export function entriesOf(resources: DescribeAclResource[]): AclEntry[] {
  return resources.flatMap((r) =>
    r.acls.map((a) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      resourcePatternType: r.resourcePatternType,
      principal: a.principal,
      host: a.host,
      operation: a.operation,
      permissionType: a.permissionType,
    })),
  );
}

export interface AclPlan {
  create: AclEntry[];
  remove: AclEntry[];
  unchanged: number;
}

/** What to create and remove so the managed principals have exactly the desired entries. */
export function planAcls(existing: AclEntry[], desired: AclEntry[], managedPrincipals: ReadonlySet<string>): AclPlan {
  const want = new Map(desired.map((e) => [aclKey(e), e]));
  const have = new Map(existing.filter((e) => managedPrincipals.has(e.principal)).map((e) => [aclKey(e), e]));
  return {
    create: [...want].filter(([k]) => !have.has(k)).map(([, e]) => e),
    remove: [...have].filter(([k]) => !want.has(k)).map(([, e]) => e),
    unchanged: [...want.keys()].filter((k) => have.has(k)).length,
  };
}

/** Human-readable one-liner for output: `User:x ALLOW READ on TOPIC LITERAL orders...`. */
export function describeAcl(e: AclEntry): string {
  return (
    `${e.principal} ${nameOf(AclPermissionTypes, e.permissionType)} ${nameOf(AclOperationTypes, e.operation)} on ` +
    `${nameOf(AclResourceTypes, e.resourceType)} ${nameOf(ResourcePatternTypes, e.resourcePatternType)} ${e.resourceName}`
  );
}
