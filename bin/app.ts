import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadAlertmanagerFile } from '../lib/alertmanager-config';
import { stackName, stageConfig, withAlertmanagerConfig } from '../lib/config';
import { PulseboardStack } from '../lib/pulseboard-stack';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const app = new App();
const stage = stageConfig(app.node.tryGetContext('stage') ?? 'dev');
// `-c alertmanagerConfig=alertmanager.yml`: its routing and receivers replace the stage's. A file
// with anything unsupported fails the synth, naming every key.
const alertmanagerFile: unknown = app.node.tryGetContext('alertmanagerConfig');
const config =
  typeof alertmanagerFile === 'string' && alertmanagerFile !== ''
    ? withAlertmanagerConfig(stage, loadWithWarnings(alertmanagerFile))
    : stage;

// Env-agnostic: `cdk deploy` targets the account and region of the caller's credentials.
new PulseboardStack(app, stackName(config.stage), {
  config,
  dashboardAssetDir: path.join(root, 'web', 'dist'),
  description: `Pulseboard real-time dashboards (${config.stage})`,
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();

function loadWithWarnings(file: string) {
  const loaded = loadAlertmanagerFile(path.resolve(file));
  for (const warning of loaded.warnings) console.warn(`${file}: ${warning.path}: ${warning.message}`);
  return loaded;
}
