import { existsSync } from 'node:fs';
import { type CfnElement, Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  PriceClass,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';

export interface DashboardSiteProps {
  /** The built dashboard (web/dist). */
  readonly assetDir: string;
  readonly removalPolicy: RemovalPolicy;
}

/** What the dashboard reads from `config.json` at startup. */
export interface DashboardConfig {
  readonly httpApiUrl: string;
  readonly webSocketUrl: string;
}

/** The dashboard: static files in a private bucket, served by CloudFront through origin access control. */
export class DashboardSite extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: DashboardSiteProps,
  ) {
    super(scope, id);
    if (!existsSync(props.assetDir)) {
      throw new Error(`The dashboard is not built (${props.assetDir} is missing): run npm run build:web`);
    }
    this.bucket = new Bucket(this, 'Bucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: false,
    });
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Pulseboard dashboard',
      defaultRootObject: 'index.html',
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: this.securityHeaders(),
      },
    });

    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'The bucket holds only the public dashboard build and is read solely by CloudFront (OAC); requests are visible in CloudFront metrics.',
    });
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason: 'Operators of a team dashboard may be anywhere; there is no geography to restrict.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'The distribution serves static files only; the APIs behind it are throttled by API Gateway. WAF is an opt-in cost.',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason:
          'Static public assets; CloudFront standard logs need an ACL-enabled bucket and add cost without security value here.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'The default *.cloudfront.net certificate is used (no custom domain), whose TLS policy CloudFront fixes; viewers are redirected to HTTPS.',
      },
    );
  }

  /**
   * The browser's side of the security model: a strict CSP (scripts and styles only from this
   * origin, connections only to this origin and the stage's API Gateway endpoints, no framing),
   * HSTS, nosniff and a strict referrer policy. The access token lives in sessionStorage, so
   * keeping injected script out is what protects it.
   */
  private securityHeaders(): ResponseHeadersPolicy {
    const { region } = Stack.of(this);
    const apis = `https://*.execute-api.${region}.amazonaws.com wss://*.execute-api.${region}.amazonaws.com`;
    return new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Pulseboard dashboard: CSP, HSTS, nosniff, no framing',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            `connect-src 'self' ${apis}`,
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "object-src 'none'",
          ].join('; '),
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          preload: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });
  }

  /** https://<distribution>.cloudfront.net */
  get url(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }

  /** Uploads the dashboard and its `config.json` (API URLs resolved at deploy time), then invalidates the cache. */
  publish(config: DashboardConfig): BucketDeployment {
    const deployment = new BucketDeployment(this, 'Deployment', {
      sources: [Source.asset(this.props.assetDir), Source.jsonData('config.json', config)],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      prune: true,
      memoryLimit: 256,
    });
    acknowledgeBucketDeploymentHandler(Stack.of(this), this.bucket);
    return deployment;
  }
}

/**
 * BucketDeployment runs a CDK-provided handler (a stack-level singleton) whose runtime, managed
 * policy and S3 wildcards CDK chooses. These findings are about that framework code, not ours.
 */
function acknowledgeBucketDeploymentHandler(stack: Stack, bucket: Bucket): void {
  const handler = stack.node.children.find((child) =>
    child.node.id.startsWith('Custom::CDKBucketDeployment'),
  );
  if (!handler) return;
  const reason =
    'CDK BucketDeployment handler (framework code): it copies the built dashboard from the CDK asset bucket into the site bucket.';
  Validations.of(handler).acknowledge(
    { id: 'AwsSolutions-L1', reason: `${reason} CDK pins its runtime.` },
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: `${reason} It writes only its own logs.`,
    },
    ...[
      'Action::s3:GetObject*',
      'Action::s3:GetBucket*',
      'Action::s3:List*',
      'Action::s3:DeleteObject*',
      'Action::s3:Abort*',
      'Resource::*',
    ].map((finding) => ({
      id: `AwsSolutions-IAM5[${finding}]`,
      reason: `${reason} CDK grants these S3 actions for the copy and prune.`,
    })),
    {
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]',
      reason: `${reason} It reads the staged asset zips.`,
    },
  );
  Validations.of(handler).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${stack.resolve((bucket.node.defaultChild as CfnElement).logicalId)}.Arn>/*]`,
    reason: `${reason} It writes and prunes objects of this site bucket only.`,
  });
}
