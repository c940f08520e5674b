import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { stackName, stageConfig } from '../lib/config';
import { PulseboardStack } from '../lib/pulseboard-stack';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const app = new App();
const config = stageConfig(app.node.tryGetContext('stage') ?? 'dev');

// Env-agnostic: `cdk deploy` targets the account and region of the caller's credentials.
new PulseboardStack(app, stackName(config.stage), {
  config,
  dashboardAssetDir: path.join(root, 'web', 'dist'),
  description: `Pulseboard real-time dashboards (${config.stage})`,
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
