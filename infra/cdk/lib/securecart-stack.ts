import { Duration, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { allTopics, iamPolicyStatementsFor, serviceAccess, type MskClusterRef } from '@app/contracts';
import { compactionDefaults, eventColumns, LINEAGE_COLUMNS, tableNameOf } from '@app/lake';
import { OrdersDailyWorkflow } from './orders-daily-workflow';

const DAY_MS = 86_400_000;

export interface SecureCartStackProps extends StackProps {
  /** MSK cluster name (part of every Kafka resource ARN). */
  readonly clusterName?: string;
  readonly brokerCount?: number;
  readonly brokerInstanceType?: string;
  /** First day Athena's partition projection enumerates. */
  readonly projectionStartDay?: string;
  /** Days after which curated objects move to S3 Standard-IA. */
  readonly curatedInfrequentAccessAfterDays?: number;
  /**
   * Topics the sink publishes as Iceberg tables (LAKE_TABLE_FORMAT=iceberg, LAKE_ICEBERG_CATALOG=glue):
   * no Hive table is declared for them; the sink registers each as a Glue Iceberg table
   * (table_type=ICEBERG, metadata_location) at its first commit and may update only those tables.
   */
  readonly icebergTopics?: readonly string[];
}

/** Role name of a service; the service assumes it (ECS task role) and uses it for MSK IAM and S3. */
export function serviceRoleName(service: string): string {
  return `securecart-${service}`;
}

/**
 * The production footprint: a private VPC, an MSK cluster that accepts only IAM-authenticated TLS
 * clients, the encrypted lake bucket, one least-privilege role per service generated from the same
 * access data as the local ACLs, the Glue catalog of the curated tables, and alarms on an SNS topic.
 */
export class SecureCartStack extends Stack {
  readonly clusterName: string;
  readonly cluster: msk.CfnCluster;
  /** The cluster's ARN parts every Kafka resource ARN in the service policies is built from. */
  readonly clusterRef: MskClusterRef;
  readonly lake: s3.Bucket;
  readonly lakeKey: kms.Key;
  readonly roles = new Map<string, iam.Role>();
  readonly alarmTopic: sns.Topic;
  readonly ordersDaily: OrdersDailyWorkflow;

  constructor(scope: Construct, id: string, props: SecureCartStackProps = {}) {
    super(scope, id, props);
    this.clusterName = props.clusterName ?? 'securecart';

    // ---------------------------------------------------------------- network
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    // No NAT, no internet gateway: the services reach AWS only through the endpoints below.
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 3,
      natGateways: 0,
      subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 }],
      flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.ALL } },
    });
    vpc.addGatewayEndpoint('S3Endpoint', { service: ec2.GatewayVpcEndpointAwsService.S3 });
    const servicesSg = new ec2.SecurityGroup(this, 'ServicesSg', { vpc, description: 'SecureCart services', allowAllOutbound: false });
    const endpointsSg = new ec2.SecurityGroup(this, 'EndpointsSg', { vpc, description: 'Interface endpoints, HTTPS from the services', allowAllOutbound: false });
    endpointsSg.addIngressRule(servicesSg, ec2.Port.tcp(443), 'HTTPS from the services');
    // HTTPS out reaches only the interface endpoints and the S3 gateway: the subnets have no route to
    // the internet (S3's managed prefix list id would need a lookup, which synth avoids).
    servicesSg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs through the VPC endpoints only');
    // STS: role credentials (MSK IAM tokens); KMS: SSE-KMS data keys; logs and metrics: observability.
    for (const [name, service] of [
      ['Sts', ec2.InterfaceVpcEndpointAwsService.STS],
      ['Kms', ec2.InterfaceVpcEndpointAwsService.KMS],
      ['Logs', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
      ['Monitoring', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING],
    ] as const) {
      vpc.addInterfaceEndpoint(`${name}Endpoint`, { service, securityGroups: [endpointsSg], privateDnsEnabled: true, open: false });
    }

    // ---------------------------------------------------------------- MSK
    const mskKey = new kms.Key(this, 'MskKey', { description: 'MSK data at rest', enableKeyRotation: true, removalPolicy: RemovalPolicy.RETAIN });
    const brokerLogs = new logs.LogGroup(this, 'BrokerLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const brokersSg = new ec2.SecurityGroup(this, 'BrokersSg', { vpc, description: 'MSK brokers, IAM/TLS port from the services', allowAllOutbound: false });
    brokersSg.addIngressRule(servicesSg, ec2.Port.tcp(9098), 'Kafka, SASL/IAM over TLS');
    servicesSg.addEgressRule(brokersSg, ec2.Port.tcp(9098), 'Kafka, SASL/IAM over TLS');
    const configuration = new msk.CfnConfiguration(this, 'BrokerConfig', {
      name: `${this.clusterName}-config`,
      serverProperties: [
        'auto.create.topics.enable=false',
        'default.replication.factor=3',
        'min.insync.replicas=2',
        'unclean.leader.election.enable=false',
      ].join('\n'),
    });
    this.cluster = new msk.CfnCluster(this, 'Cluster', {
      clusterName: this.clusterName,
      kafkaVersion: '3.9.x',
      numberOfBrokerNodes: props.brokerCount ?? 3,
      brokerNodeGroupInfo: {
        instanceType: props.brokerInstanceType ?? 'kafka.m7g.large',
        clientSubnets: vpc.isolatedSubnets.map((s) => s.subnetId),
        securityGroups: [brokersSg.securityGroupId],
        storageInfo: { ebsStorageInfo: { volumeSize: 500 } },
        connectivityInfo: { publicAccess: { type: 'DISABLED' } },
      },
      clientAuthentication: {
        sasl: { iam: { enabled: true }, scram: { enabled: false } },
        unauthenticated: { enabled: false },
      },
      encryptionInfo: {
        encryptionAtRest: { dataVolumeKmsKeyId: mskKey.keyArn },
        encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
      },
      loggingInfo: { brokerLogs: { cloudWatchLogs: { enabled: true, logGroup: brokerLogs.logGroupName } } },
      // Per-topic broker metrics for the DLQ alarms; consumer-lag metrics come at every level.
      enhancedMonitoring: 'PER_TOPIC_PER_BROKER',
      configurationInfo: { arn: configuration.attrArn, revision: 1 },
    });
    const clusterRef: MskClusterRef = (this.clusterRef = {
      partition: this.partition,
      region: this.region,
      account: this.account,
      clusterName: this.clusterName,
      // arn:...:cluster/<name>/<uuid>: the uuid is only known once the cluster exists.
      clusterUuid: Fn.select(2, Fn.split('/', this.cluster.attrArn)),
    });

    // ---------------------------------------------------------------- lake
    this.lakeKey = new kms.Key(this, 'LakeKey', { description: 'SecureCart lake (SSE-KMS)', enableKeyRotation: true, removalPolicy: RemovalPolicy.RETAIN });
    const accessLogs = new s3.Bucket(this, 'LakeAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const rawRetentionDays = Math.ceil(compactionDefaults.rawRetentionMs / DAY_MS);
    this.lake = new s3.Bucket(this, 'Lake', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.lakeKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'lake/',
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'raw-expires-after-retention',
          prefix: 'raw/',
          expiration: Duration.days(rawRetentionDays),
          noncurrentVersionExpiration: Duration.days(1),
        },
        {
          id: 'curated-to-infrequent-access',
          prefix: 'curated/',
          transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(props.curatedInfrequentAccessAfterDays ?? 30) }],
          noncurrentVersionExpiration: Duration.days(30),
        },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(2) },
      ],
    });
    // enforceSSL adds the deny for non-TLS requests. Unencrypted puts: the bucket's default is SSE-KMS
    // with the lake key, so a put without headers is encrypted; these deny asking for anything weaker.
    // (Requiring the header outright would also refuse UploadPart, which never carries it.)
    this.lake.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyPutsNotUsingSseKms',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.lake.arnForObjects('*')],
        conditions: {
          StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' },
          Null: { 's3:x-amz-server-side-encryption': 'false' },
        },
      }),
    );
    this.lake.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyPutsWithAnotherKmsKey',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.lake.arnForObjects('*')],
        conditions: {
          StringNotEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': this.lakeKey.keyArn },
          Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' },
        },
      }),
    );

    // ---------------------------------------------------------------- service roles
    for (const access of serviceAccess) {
      const statements = iamPolicyStatementsFor(access, clusterRef, { bucketArn: this.lake.bucketArn, kmsKeyArn: this.lakeKey.keyArn });
      const role = new iam.Role(this, `Role-${access.service}`, {
        roleName: serviceRoleName(access.service),
        description: `${access.service}: ${access.description}`,
        assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
        maxSessionDuration: Duration.hours(1),
        inlinePolicies: { access: iam.PolicyDocument.fromJson({ Version: '2012-10-17', Statement: statements }) },
      });
      this.roles.set(access.service, role);
    }

    // ---------------------------------------------------------------- Glue catalog (curated tables)
    const database = new glue.CfnDatabase(this, 'CatalogDatabase', {
      catalogId: this.account,
      databaseInput: { name: 'securecart_lake', description: 'Curated SecureCart events (Parquet, partition projection)' },
    });
    const projectionStartDay = props.projectionStartDay ?? '2026-01-01';
    const icebergTopics = new Set(props.icebergTopics ?? []);
    const sinkRole = this.roles.get('s3-sink');
    if (icebergTopics.size > 0 && sinkRole) {
      sinkRole.addToPolicy(
        new iam.PolicyStatement({
          sid: 'IcebergTablesInGlue',
          actions: ['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable'],
          resources: [
            Stack.of(this).formatArn({ service: 'glue', resource: 'catalog' }),
            Stack.of(this).formatArn({ service: 'glue', resource: 'database', resourceName: 'securecart_lake' }),
            ...[...icebergTopics].map((t) => Stack.of(this).formatArn({ service: 'glue', resource: 'table', resourceName: `securecart_lake/${tableNameOf(t)}` })),
          ],
        }),
      );
    }
    for (const topic of allTopics.filter((t) => !icebergTopics.has(t.name))) {
      const location = `s3://${this.lake.bucketName}/curated/${topic.name}/`;
      const table = new glue.CfnTable(this, `Table-${tableNameOf(topic.name)}`, {
        catalogId: this.account,
        databaseName: 'securecart_lake',
        tableInput: {
          name: tableNameOf(topic.name),
          description: `Curated ${topic.name}: one row per distinct event (dedup by eventId).`,
          tableType: 'EXTERNAL_TABLE',
          partitionKeys: [
            { name: 'dt', type: 'string' },
            { name: 'hour', type: 'string' },
          ],
          parameters: {
            classification: 'parquet',
            'parquet.compression': 'ZSTD',
            'projection.enabled': 'true',
            'projection.dt.type': 'date',
            'projection.dt.format': 'yyyy-MM-dd',
            'projection.dt.range': `${projectionStartDay},NOW`,
            'projection.dt.interval': '1',
            'projection.dt.interval.unit': 'DAYS',
            'projection.hour.type': 'integer',
            'projection.hour.range': '0,23',
            'projection.hour.digits': '2',
            'storage.location.template': `${location}dt=\${dt}/hour=\${hour}/`,
          },
          storageDescriptor: {
            location,
            inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
            outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
            serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
            columns: [
              ...eventColumns(topic.schema.type, 'hive').map((c) => ({ name: c.name, type: c.type, comment: c.doc })),
              ...LINEAGE_COLUMNS.map((c) => ({ name: c.name, type: c.hive, comment: c.doc })),
            ],
          },
        },
      });
      table.addResourceDependency(database);
    }

    // ---------------------------------------------------------------- alarms
    const alarmKey = new kms.Key(this, 'AlarmTopicKey', { description: 'SecureCart alarm topic', enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
    alarmKey.grantEncryptDecrypt(new iam.ServicePrincipal('cloudwatch.amazonaws.com'));
    this.alarmTopic = new sns.Topic(this, 'Alarms', { displayName: 'SecureCart pipeline alarms', masterKey: alarmKey, enforceSSL: true });
    const notify = new cwActions.SnsAction(this.alarmTopic);
    const clusterDim = { 'Cluster Name': this.clusterName };

    // CloudWatch allows at most 10 metrics per alarm: one alarm per group and per 10 topics it reads.
    const METRICS_PER_ALARM = 10;
    for (const access of serviceAccess.filter((a) => a.consumes.length > 0)) {
      for (let chunk = 0; chunk * METRICS_PER_ALARM < access.consumes.length; chunk++) {
        const topicsOfChunk = access.consumes.slice(chunk * METRICS_PER_ALARM, (chunk + 1) * METRICS_PER_ALARM);
        const lags = Object.fromEntries(
          topicsOfChunk.map((t, i) => [
            `lag${i}`,
            new cloudwatch.Metric({
              namespace: 'AWS/Kafka',
              metricName: 'MaxOffsetLag',
              dimensionsMap: { ...clusterDim, 'Consumer Group': access.service, Topic: t.name },
              statistic: 'Maximum',
              period: Duration.minutes(1),
            }),
          ]),
        );
        const suffix = chunk === 0 ? '' : `-${chunk + 1}`;
        new cloudwatch.Alarm(this, `ConsumerLag-${access.service}${suffix}`, {
          alarmName: `securecart-${access.service}-consumer-lag${suffix}`,
          alarmDescription: `${access.service} is more than 10000 records behind on a topic for 5 minutes`,
          metric: new cloudwatch.MathExpression({ expression: `MAX([${Object.keys(lags).join(',')}])`, usingMetrics: lags, period: Duration.minutes(1) }),
          threshold: 10_000,
          evaluationPeriods: 5,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }).addAlarmAction(notify);
      }
    }

    const brokerIds = Array.from({ length: props.brokerCount ?? 3 }, (_, i) => String(i + 1));
    for (const topic of allTopics) {
      const perBroker = Object.fromEntries(
        brokerIds.map((id) => [
          `b${id}`,
          new cloudwatch.Metric({
            namespace: 'AWS/Kafka',
            metricName: 'MessagesInPerSec',
            dimensionsMap: { ...clusterDim, 'Broker ID': id, Topic: topic.dlq },
            statistic: 'Sum',
            period: Duration.minutes(5),
          }),
        ]),
      );
      new cloudwatch.Alarm(this, `DlqGrowth-${tableNameOf(topic.dlq)}`, {
        alarmName: `securecart-dlq-${topic.dlq}`,
        alarmDescription: `Records are arriving on ${topic.dlq}: inspect their error headers`,
        metric: new cloudwatch.MathExpression({ expression: `SUM([${Object.keys(perBroker).join(',')}])`, usingMetrics: perBroker, period: Duration.minutes(5) }),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(notify);
    }

    // The sink's Prometheus counters reach CloudWatch through the agent's Prometheus scraping
    // (namespace SecureCart/S3Sink); no upload for 30 minutes means the lake is going stale.
    new cloudwatch.Alarm(this, 'SinkFreshness', {
      alarmName: 'securecart-s3-sink-freshness',
      alarmDescription: 's3-sink has uploaded no raw segment for 30 minutes',
      metric: new cloudwatch.Metric({
        namespace: 'SecureCart/S3Sink',
        metricName: 'sink_uploads_total',
        dimensionsMap: { outcome: 'ok' },
        statistic: 'Sum',
        period: Duration.minutes(30),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    }).addAlarmAction(notify);

    // ---------------------------------------------------------------- daily batch (Step Functions)
    // infra/workflows/orders-daily.asl.json, deployed as it runs locally; tasks run as the daily-batch role.
    this.ordersDaily = new OrdersDailyWorkflow(this, 'OrdersDaily', {
      vpc,
      securityGroup: servicesSg,
      role: this.roles.get('daily-batch')!,
      lake: this.lake,
      lakeKey: this.lakeKey,
      alarmTopic: this.alarmTopic,
    });
  }
}
