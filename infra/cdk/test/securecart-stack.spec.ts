import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AclResourceTypes, ResourcePatternTypes } from 'kafkajs';
import { allTopics, serviceAccess } from '@app/contracts';
import { compactionDefaults } from '@app/lake';
import { aclsFor } from '../../../scripts/acl/acl-plan';
import { readFileSync } from 'node:fs';
import { ORDERS_DAILY_RESOURCES } from '@app/batch';
import { acknowledgeAcceptedFindings, WILDCARD_ONLY_ACTIONS } from '../lib/nag';
import { ORDERS_DAILY_ASL } from '../lib/orders-daily-workflow';
import { SecureCartStack, serviceRoleName } from '../lib/securecart-stack';

interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Principal?: unknown;
}

const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

// The built-in CloudFormation schema validation runs in infra:synth; here it would only cost time.
const app = new App({ builtinCloudFormationValidation: false });
const stack = new SecureCartStack(app, 'SecureCartPipeline');
const nagFindings = acknowledgeAcceptedFindings(stack);
const template = Template.fromStack(stack);

function roleStatements(service: string): Statement[] {
  const roles = template.findResources('AWS::IAM::Role', { Properties: { RoleName: serviceRoleName(service) } });
  const [role] = Object.values(roles) as { Properties: { Policies: { PolicyDocument: { Statement: Statement[] } }[] } }[];
  return role.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement);
}

/**
 * `type/name` of a Kafka ARN as the template spells it: Fn::Join parts whose literal pieces carry
 * `:<type>/<cluster>/` and, after the cluster uuid token, `/<name>`.
 */
function kafkaResourceOf(resource: unknown): string {
  const parts = (resource as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  const literal = parts.filter((p): p is string => typeof p === 'string').join('');
  const type = /:(topic|group|transactional-id|cluster)\/securecart\//.exec(literal)?.[1];
  if (!type) throw new Error(`not a Kafka ARN: ${JSON.stringify(resource)}`);
  const last = parts[parts.length - 1];
  return type === 'cluster' ? 'cluster/kafka-cluster' : `${type}/${String(last).replace(/^\//, '')}`;
}

const ACL_TYPE: Record<number, string> = {
  [AclResourceTypes.TOPIC]: 'topic',
  [AclResourceTypes.GROUP]: 'group',
  [AclResourceTypes.TRANSACTIONAL_ID]: 'transactional-id',
  [AclResourceTypes.CLUSTER]: 'cluster',
};

describe('SecureCart CDK stack', () => {
  it('passes cdk-nag AwsSolutions with only the acknowledged findings, which are real without the acknowledgements', () => {
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    // What cdk-nag found before the acknowledgements:
    const open = nagFindings.found;
    expect(nagFindings.acknowledged).toEqual(open);
    // Exactly the wildcards the access data asks for: 3 per service (its prefix on topics, groups,
    // transactional ids) and one per distinct lake prefix (cdk-nag reports a resource once).
    const lakePrefixes = new Set(serviceAccess.flatMap((a) => a.lakePrefixes)).size;
    // ... plus one `Resource::*` for the actions AWS does not scope (orders-daily workflow), checked below.
    expect(open).toHaveLength(serviceAccess.length * 3 + lakePrefixes + 1);
    for (const id of open) {
      expect(id).toMatch(/\/[a-z0-9-]+\.\*\]$|\/(raw|curated|files|partners|batch)\/\*\]$|^AwsSolutions-IAM5\[Resource::\*\]$/);
    }
  });

  it('runs MSK with IAM authentication only, TLS in transit, a customer KMS key at rest and broker logs', () => {
    template.hasResourceProperties('AWS::MSK::Cluster', {
      ClientAuthentication: {
        Sasl: { Iam: { Enabled: true }, Scram: { Enabled: false } },
        Unauthenticated: { Enabled: false },
      },
      EncryptionInfo: {
        EncryptionAtRest: { DataVolumeKMSKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MskKey'), 'Arn'] } },
        EncryptionInTransit: { ClientBroker: 'TLS', InCluster: true },
      },
      LoggingInfo: { BrokerLogs: { CloudWatchLogs: { Enabled: true, LogGroup: Match.anyValue() } } },
      BrokerNodeGroupInfo: Match.objectLike({ ConnectivityInfo: { PublicAccess: { Type: 'DISABLED' } } }),
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, Description: 'MSK data at rest' });
  });

  it('encrypts the lake with SSE-KMS and a bucket key, blocks public access, expires raw and tiers curated', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LakeKey'), 'Arn'] } },
          },
        ],
      },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'raw/', Status: 'Enabled', ExpirationInDays: Math.ceil(compactionDefaults.rawRetentionMs / 86_400_000) }),
          Match.objectLike({ Prefix: 'curated/', Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }] }),
        ]),
      },
    });
  });

  it('denies non-TLS requests and puts that ask for anything but SSE-KMS with the lake key', () => {
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: Match.stringLikeRegexp('^Lake[0-9A-F]{8}$') } } }));
    expect(policies).toHaveLength(1);
    const statements = (policies[0] as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement;
    const denies = statements.filter((s) => s.Effect === 'Deny');
    expect(denies).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({
          Action: 's3:PutObject',
          Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' }, Null: { 's3:x-amz-server-side-encryption': 'false' } },
        }),
        expect.objectContaining({
          Action: 's3:PutObject',
          Condition: expect.objectContaining({ Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' } }),
        }),
      ]),
    );
  });

  it('has no IAM statement with a * resource for Kafka or S3 writes', () => {
    const documents = [
      ...Object.values(template.findResources('AWS::IAM::Role')).flatMap(
        (r) => ((r as { Properties: { Policies?: { PolicyDocument: { Statement: Statement[] } }[] } }).Properties.Policies ?? []).map((p) => p.PolicyDocument),
      ),
      ...Object.values(template.findResources('AWS::IAM::Policy')).map((p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument),
    ];
    const statements = documents.flatMap((d) => d.Statement);
    expect(statements.length).toBeGreaterThan(serviceAccess.length);
    for (const s of statements) {
      const risky = list(s.Action).some((a) => a.startsWith('kafka-cluster:') || /^s3:(Put|Delete|Abort|\*)/.test(a));
      if (risky) expect(list(s.Resource)).not.toContain('*');
    }
  });

  it.each(serviceAccess.map((a) => [a.service, a] as const))("%s role: Kafka resources and rights are exactly its ACLs'", (service, access) => {
    const fromAcls = new Set(
      aclsFor(access).map((e) => `${ACL_TYPE[e.resourceType]}/${e.resourceName}${e.resourcePatternType === ResourcePatternTypes.PREFIXED ? '*' : ''}`),
    );
    const statements = roleStatements(service);
    const kafka = statements.filter((s) => list(s.Action).every((a) => a.startsWith('kafka-cluster:')));
    const actionsByResource = new Map<string, Set<string>>();
    for (const s of kafka) {
      for (const r of list(s.Resource)) {
        const key = kafkaResourceOf(r);
        actionsByResource.set(key, new Set([...(actionsByResource.get(key) ?? []), ...list(s.Action)]));
      }
    }
    expect(new Set(actionsByResource.keys())).toEqual(fromAcls);
    expect([...actionsByResource.get('cluster/kafka-cluster')!].sort()).toEqual(['kafka-cluster:Connect', 'kafka-cluster:WriteDataIdempotently']);
    const topicsWith = (action: string) =>
      [...actionsByResource].filter(([k, v]) => k.startsWith('topic/') && !k.endsWith('*') && v.has(action)).map(([k]) => k.slice('topic/'.length)).sort();
    expect(topicsWith('kafka-cluster:ReadData')).toEqual(access.consumes.map((t) => t.name).sort());
    expect(topicsWith('kafka-cluster:WriteData')).toEqual([...access.produces.map((t) => t.name), ...access.consumes.map((t) => t.dlq), ...(access.commandTopics ?? [])].sort());
    const s3 = statements.filter((s) => list(s.Action).some((a) => a.startsWith('s3:')));
    expect(s3.length > 0).toBe(access.lakePrefixes.length > 0);
  });

  it('catalogs every curated topic in Glue with partition projection and the Avro fields as columns', () => {
    const tables = Object.values(template.findResources('AWS::Glue::Table')) as {
      Properties: { TableInput: { Name: string; Parameters: Record<string, string>; StorageDescriptor: { Columns: { Name: string; Type: string }[] } } };
    }[];
    expect(tables.map((t) => t.Properties.TableInput.Name).sort()).toEqual(allTopics.map((t) => t.name.replace(/[.-]/g, '_')).sort());
    for (const t of tables) {
      expect(t.Properties.TableInput.Parameters).toMatchObject({ 'projection.enabled': 'true', 'projection.hour.range': '0,23' });
      const columns = t.Properties.TableInput.StorageDescriptor.Columns.map((c) => c.Name);
      expect(columns).toEqual(expect.arrayContaining(['eventId', 'occurredAt', 'producer', 'correlationId', '_offset']));
    }
    const orders = tables.find((t) => t.Properties.TableInput.Name === 'orders_order_placed_v1')!;
    expect(orders.Properties.TableInput.StorageDescriptor.Columns.find((c) => c.Name === 'grandTotal')?.Type).toMatch(/^decimal\(18,\s?2\)$/);
  });

  it('keeps traffic private: isolated subnets, an S3 gateway endpoint and interface endpoints, no internet or NAT gateway', () => {
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway', ServiceName: Match.objectLike({}) });
    const interfaces = Object.values(template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } }));
    expect(JSON.stringify(interfaces)).toMatch(/\.sts/);
    expect(JSON.stringify(interfaces)).toMatch(/\.kms/);
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
  });

  it('alarms on consumer lag per group, DLQ growth per topic and sink freshness, into an encrypted SNS topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as { Properties: Record<string, unknown> }[];
    const names = alarms.map((a) => String(a.Properties.AlarmName));
    for (const a of serviceAccess.filter((x) => x.consumes.length > 0)) expect(names).toContain(`securecart-${a.service}-consumer-lag`);
    for (const t of allTopics) expect(names).toContain(`securecart-dlq-${t.dlq}`);
    expect(names).toContain('securecart-s3-sink-freshness');
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Alarms/) }]);
    const lag = alarms.find((a) => a.Properties.AlarmName === 'securecart-s3-sink-consumer-lag')!;
    expect(JSON.stringify(lag.Properties.Metrics)).toContain('MaxOffsetLag');
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  });

  it('grants `*` only for actions AWS does not scope to resources (Lambda ENIs, Step Functions logs, X-Ray)', () => {
    const policies = [
      ...Object.values(template.findResources('AWS::IAM::Policy')).map((p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument),
      ...Object.values(template.findResources('AWS::IAM::Role')).flatMap((r) =>
        ((r as { Properties: { Policies?: { PolicyDocument: { Statement: Statement[] } }[] } }).Properties.Policies ?? []).map((p) => p.PolicyDocument),
      ),
    ];
    const starActions = policies.flatMap((d) => d.Statement.filter((st) => list(st.Resource).includes('*')).flatMap((st) => list(st.Action)));
    expect(starActions.length).toBeGreaterThan(0);
    for (const action of starActions) expect(WILDCARD_ONLY_ACTIONS).toContain(action);
  });

  it('deploys infra/workflows/orders-daily.asl.json unchanged as a Step Functions state machine with Lambda tasks', () => {
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as { Properties: Record<string, unknown> }[];
    // The very file the local runner executes; CloudFormation substitutes only the placeholders.
    expect(machine.Properties.DefinitionString).toBe(readFileSync(ORDERS_DAILY_ASL, 'utf8'));
    const substitutions = machine.Properties.DefinitionSubstitutions as Record<string, { 'Fn::GetAtt': [string, string] }>;
    expect(Object.keys(substitutions).sort()).toEqual(Object.values(ORDERS_DAILY_RESOURCES).sort());
    const functions = template.findResources('AWS::Lambda::Function');
    for (const value of Object.values(substitutions)) {
      expect(value['Fn::GetAtt'][1]).toBe('Arn');
      expect(functions[value['Fn::GetAtt'][0]]).toBeDefined();
    }
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { TracingConfiguration: { Enabled: true }, LoggingConfiguration: Match.objectLike({ Level: 'ALL' }) });
    // The tasks run as the daily-batch principal, in the private subnets, from the batch image.
    const roleId = Object.keys(template.findResources('AWS::IAM::Role', { Properties: { RoleName: serviceRoleName('daily-batch') } }))[0];
    expect(Object.keys(functions)).toHaveLength(5);
    for (const fn of Object.values(functions) as { Properties: Record<string, unknown> }[]) {
      expect(fn.Properties).toMatchObject({ PackageType: 'Image', Role: { 'Fn::GetAtt': [roleId, 'Arn'] }, VpcConfig: expect.anything() });
    }
    // The state machine may invoke exactly those functions.
    const invoke = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement)
      .filter((st) => list(st.Action).includes('lambda:InvokeFunction'));
    expect(invoke.flatMap((st) => list(st.Resource)).map((r) => (r as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]).sort()).toEqual(Object.keys(functions).sort());
  });

  it('starts orders-daily on the local schedule (EventBridge cron) and alarms on failed runs', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(30 1 * * ? *)',
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^OrdersDailyStateMachine') }, Input: JSON.stringify({ job: 'orders-daily' }) })],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'securecart-orders-daily-failed', MetricName: 'ExecutionsFailed' });
  });
});
