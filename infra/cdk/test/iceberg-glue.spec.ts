import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { allTopics } from '@app/contracts';
import { acknowledgeAcceptedFindings } from '../lib/nag';
import { SecureCartStack } from '../lib/securecart-stack';

describe('icebergTopics: Glue tables the sink registers as Iceberg', () => {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new SecureCartStack(app, 'SecureCartPipeline', { icebergTopics: ['orders.order-placed.v1', 'orders.order-rejected.v1'] });
  acknowledgeAcceptedFindings(stack);
  const template = Template.fromStack(stack);

  it('declares no Hive table for them (the sink creates the Iceberg table; a Hive one of the same name would block it)', () => {
    const names = Object.values(template.findResources('AWS::Glue::Table')).map((t) => (t as { Properties: { TableInput: { Name: string } } }).Properties.TableInput.Name);
    expect(names).not.toContain('orders_order_placed_v1');
    expect(names).not.toContain('orders_order_rejected_v1');
    expect(names).toHaveLength(allTopics.length - 2);
  });

  it('lets the sink role get, create and update exactly those Glue tables', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as { Properties: { PolicyDocument: { Statement: { Sid?: string; Action: string[]; Resource: unknown[] }[] } } }[];
    const statement = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).find((s) => s.Sid === 'IcebergTablesInGlue')!;
    expect(statement.Action).toEqual(['glue:GetTable', 'glue:CreateTable', 'glue:UpdateTable']);
    const resources = JSON.stringify(statement.Resource);
    expect(resources).toContain(':table/securecart_lake/orders_order_placed_v1');
    expect(resources).toContain(':table/securecart_lake/orders_order_rejected_v1');
    expect(resources).toContain(':database/securecart_lake');
    expect(resources).not.toContain('*');
  });

  it('adds no cdk-nag finding', () => {
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(report.violations).toEqual([]);
  });
});
