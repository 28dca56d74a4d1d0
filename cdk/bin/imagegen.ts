#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { ImagegenStack } from '../lib/imagegen-stack';
import { addNagChecks } from '../lib/nag';

const app = new App();
new ImagegenStack(app, app.node.tryGetContext('stackName') ?? 'Imagegen', {
  description: 'imagegen: S3 prompt or console input -> Step Functions -> Rust Lambdas -> Bedrock -> thumbnails -> SNS email',
  env: {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: process.env.CDK_DEFAULT_REGION ?? process.env.AWS_REGION,
  },
});
addNagChecks(app);
