import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_ACCESS } from '../../functions/shared/domain/auth/roles';
import { actionsOf, build, functionId, type Resources } from './helpers';

describe('Auth (dev stage)', () => {
  let template: Template;
  let resources: Resources;

  beforeAll(() => {
    const { stack } = build('dev');
    template = Template.fromStack(stack);
    resources = template.toJSON().Resources as Resources;
  });

  const routes = () =>
    Object.values(resources)
      .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route' && String(r.Properties.RouteKey).includes('/'))
      .map((r) => r.Properties);

  it('has an access rule for every HTTP route of the template, and a route for every rule', () => {
    const keys = routes().map((r) => String(r.RouteKey));
    expect(keys.filter((key) => ROUTE_ACCESS[key] === undefined)).toEqual([]);
    expect(Object.keys(ROUTE_ACCESS).filter((key) => !keys.includes(key))).toEqual([]);
  });

  it('puts every route behind the authorizer except the public ones', () => {
    for (const route of routes()) {
      const key = String(route.RouteKey);
      if (ROUTE_ACCESS[key] === 'public') {
        expect(route.AuthorizationType ?? 'NONE', key).toBe('NONE');
      } else {
        expect(route.AuthorizationType, key).toBe('CUSTOM');
        expect(route.AuthorizerId, key).toBeDefined();
      }
    }
  });

  it('caches the HTTP authorizer by the Authorization header for five minutes, with simple responses', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.Authorization'],
      AuthorizerResultTtlInSeconds: 300,
    });
  });

  it('admits WebSocket connections through an authorizer on $connect', () => {
    const connect = Object.values(resources).find(
      (r) => r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties.RouteKey === '$connect',
    );
    expect(connect?.Properties.AuthorizationType).toBe('CUSTOM');
  });

  it('keeps the signing key out of the template: a generated secret seeds it', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ PasswordLength: 64 }),
    });
    expect(JSON.stringify(template.toJSON())).not.toMatch(/PRIVATE KEY|"d":"/);
  });

  it('lets the authorizer read only API keys and the signing secret', () => {
    expect(actionsOf(resources, functionId(resources, 'Authenticates')).sort()).toEqual(
      [
        'dynamodb:GetItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
      ].sort(),
    );
  });

  it('throttles the login route harder than the stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      RouteSettings: { 'POST /auth/login': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 } },
    });
  });

  it('serves the dashboard with a strict CSP, HSTS, nosniff and no framing', () => {
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({
          ContentSecurityPolicy: { ContentSecurityPolicy: Match.anyValue(), Override: true },
          StrictTransportSecurity: Match.objectLike({
            AccessControlMaxAgeSec: 31536000,
            IncludeSubdomains: true,
          }),
          ContentTypeOptions: { Override: true },
          FrameOptions: { FrameOption: 'DENY', Override: true },
        }),
      }),
    });
    // The CSP names the region's API Gateway hosts, so it is a join; its fixed parts must be strict.
    const policy = JSON.stringify(
      Object.values(resources).find((r) => r.Type === 'AWS::CloudFront::ResponseHeadersPolicy')?.Properties,
    );
    for (const directive of [
      "script-src 'self'",
      "style-src 'self'",
      "frame-ancestors 'none'",
      "object-src 'none'",
    ]) {
      expect(policy).toContain(directive);
    }
    expect(policy).not.toContain('unsafe-inline');
  });
});
