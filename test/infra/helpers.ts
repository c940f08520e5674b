import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type StageConfig, stageConfig } from '../../lib/config';
import { PulseboardStack } from '../../lib/pulseboard-stack';

function dashboardFixture(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pulseboard-web-'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>fixture</title>');
  return dir;
}

export function build(stage: 'dev' | 'prod', overrides: Partial<StageConfig> = {}) {
  const app = new App({ context: { 'aws:cdk:enable-asset-metadata': false } });
  const stack = new PulseboardStack(app, `Pulseboard-${stage}`, {
    config: { ...stageConfig(stage), ...overrides },
    dashboardAssetDir: dashboardFixture(),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

export type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** The logical id of the function whose description starts with the given text. */
export function functionId(resources: Resources, descriptionPrefix: string): string {
  const found = Object.entries(resources).find(
    ([, r]) =>
      r.Type === 'AWS::Lambda::Function' &&
      String(r.Properties.Description ?? '').startsWith(descriptionPrefix),
  );
  if (!found) throw new Error(`no function described as ${descriptionPrefix}`);
  return found[0];
}

/** The logical id of the function a route's integration invokes. */
export function routeTarget(resources: Resources, routeKey: string): string {
  const route = Object.values(resources).find(
    (r) => r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties.RouteKey === routeKey,
  );
  if (!route) throw new Error(`no route ${routeKey}`);
  const integrationId = JSON.stringify(route.Properties.Target).match(/"Ref":"([^"]+)"/)?.[1] ?? '';
  const uri = JSON.stringify(resources[integrationId]?.Properties.IntegrationUri);
  return uri.match(/"Fn::GetAtt":\["([^"]+)","Arn"\]/)?.[1] ?? '';
}

/** Every IAM action granted to a function's role, flattened. */
export function actionsOf(resources: Resources, fnId: string): string[] {
  const roleId = JSON.stringify(resources[fnId]?.Properties.Role).match(/"Fn::GetAtt":\["([^"]+)"/)?.[1];
  return Object.values(resources)
    .filter(
      (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${roleId}"`),
    )
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement)
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}
