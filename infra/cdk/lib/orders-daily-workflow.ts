import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CfnParameter, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { batchDefaults, ORDERS_DAILY_RESOURCES } from '@app/batch';
import { CronSchedule } from '@app/orchestration';

/** The workflow file the local runner executes; deployed as it is, only the `${...}` ARNs substituted. */
export const ORDERS_DAILY_ASL = join(__dirname, '../../workflows/orders-daily.asl.json');

/** Lambda handler (in the batch image, infra/workflows/lambda/Dockerfile) per ASL placeholder. */
const HANDLERS: Record<keyof typeof ORDERS_DAILY_RESOURCES, string> = {
  resolveDay: 'resolveDay',
  checkCompaction: 'checkCompaction',
  build: 'build',
  verify: 'verify',
  publish: 'publish',
};

export interface OrdersDailyWorkflowProps {
  vpc: ec2.IVpc;
  securityGroup: ec2.ISecurityGroup;
  /** The daily-batch principal's role (its policy comes from the access data); Lambda assumes it. */
  role: iam.Role;
  lake: s3.IBucket;
  lakeKey: kms.IKey;
  alarmTopic: sns.ITopic;
  /** ECR repository of the batch image (the repo's code with the Lambda runtime interface client). */
  imageRepositoryName?: string;
  schedule?: string;
}

/**
 * The orders-daily workflow on AWS: the ASL file as a Step Functions state machine (logs at level ALL,
 * X-Ray), its five tasks as Lambda functions from one container image running as the daily-batch role in
 * the private subnets, an EventBridge rule on the local schedule's cron, and an alarm on failed runs.
 */
export class OrdersDailyWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly functions: Record<keyof typeof ORDERS_DAILY_RESOURCES, lambda.DockerImageFunction>;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: OrdersDailyWorkflowProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const imageTag = new CfnParameter(stack, 'BatchImageTag', { type: 'String', default: 'latest', description: 'Tag of the batch image in ECR' });
    const brokers = new CfnParameter(stack, 'BatchKafkaBrokers', { type: 'String', default: '', description: 'MSK bootstrap brokers (IAM, port 9098) for BatchCompleted' });
    const registryUrl = new CfnParameter(stack, 'BatchSchemaRegistryUrl', { type: 'String', default: '', description: 'Confluent-compatible schema registry URL' });
    const repository = ecr.Repository.fromRepositoryName(this, 'Images', props.imageRepositoryName ?? 'securecart-batch');

    props.role.assumeRolePolicy?.addStatements(
      new iam.PolicyStatement({ actions: ['sts:AssumeRole'], principals: [new iam.ServicePrincipal('lambda.amazonaws.com')] }),
    );
    // Lambda in a VPC manages its network interfaces itself; EC2 does not scope these actions to resources.
    props.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
        resources: ['*'],
      }),
    );

    const environment = {
      LAKE_URL: `s3://${props.lake.bucketName}/`,
      S3_BUCKET: props.lake.bucketName,
      S3_SSE_KMS_KEY_ID: props.lakeKey.keyArn,
      KAFKA_AUTH: 'msk-iam',
      KAFKA_BROKERS: brokers.valueAsString,
      SCHEMA_REGISTRY_URL: registryUrl.valueAsString,
      BATCH_WORK_DIR: '/tmp/securecart-batch',
    };
    this.functions = {} as OrdersDailyWorkflow['functions'];
    for (const [step, handler] of Object.entries(HANDLERS) as [keyof typeof HANDLERS, string][]) {
      const logGroup = new logs.LogGroup(this, `${handler}Logs`, { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
      logGroup.grantWrite(props.role);
      this.functions[step] = new lambda.DockerImageFunction(this, `${handler}Function`, {
        description: `orders-daily: ${step}`,
        code: lambda.DockerImageCode.fromEcr(repository, { tagOrDigest: imageTag.valueAsString, cmd: [`infra/workflows/lambda/index.${handler}`] }),
        role: props.role,
        vpc: props.vpc,
        vpcSubnets: { subnets: props.vpc.isolatedSubnets },
        securityGroups: [props.securityGroup],
        // DuckDB spills to /tmp; the build reads a day of curated Parquet.
        memorySize: step === 'build' || step === 'verify' ? 3008 : 512,
        timeout: Duration.minutes(step === 'build' ? 15 : step === 'verify' ? 10 : 5),
        environment,
        logGroup,
        tracing: lambda.Tracing.ACTIVE,
      });
    }

    const logGroup = new logs.LogGroup(this, 'ExecutionLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: 'securecart-orders-daily',
      definitionBody: sfn.DefinitionBody.fromString(readFileSync(ORDERS_DAILY_ASL, 'utf8')),
      definitionSubstitutions: Object.fromEntries(
        (Object.keys(ORDERS_DAILY_RESOURCES) as (keyof typeof ORDERS_DAILY_RESOURCES)[]).map((step) => [ORDERS_DAILY_RESOURCES[step], this.functions[step].functionArn]),
      ),
      stateMachineType: sfn.StateMachineType.STANDARD,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });
    // Exactly these functions (no `:*` version wildcard): the state machine calls their unqualified ARNs.
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: Object.values(this.functions).map((f) => f.functionArn) }),
    );

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Starts orders-daily for the previous day (UTC)',
      schedule: events.Schedule.expression(new CronSchedule(props.schedule ?? batchDefaults.schedule).toEventBridge()),
      targets: [new targets.SfnStateMachine(this.stateMachine, { input: events.RuleTargetInput.fromObject({ job: 'orders-daily' }) })],
    });

    new cloudwatch.Alarm(this, 'FailedRuns', {
      alarmName: 'securecart-orders-daily-failed',
      alarmDescription: 'An orders-daily execution failed (its BatchCompleted event and the execution history name the step and error)',
      metric: this.stateMachine.metricFailed({ period: Duration.hours(1), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
  }
}
