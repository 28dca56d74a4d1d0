#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { DeployAccessStack, loadDeployAccessConfig } from '../lib/deploy-access-stack';
import { ImagegenStack } from '../lib/imagegen-stack';
import { addNagChecks } from '../lib/nag';

// IMAGEGEN_SKIP_BUNDLING=1 synthesizes without building the Rust functions (the CLI refuses
// `-c aws:cdk:...`, so the app sets the context itself, after the CLI's).
const skipBundling = process.env.IMAGEGEN_SKIP_BUNDLING === '1';
const app = new App(skipBundling ? { postCliContext: { 'aws:cdk:bundling-stacks': [] } } : {});

const env = {
  account: process.env.CDK_DEFAULT_ACCOUNT,
  region: process.env.CDK_DEFAULT_REGION ?? process.env.AWS_REGION,
};
// IMAGEGEN_LAMBDA_ZIPS=DIR: the functions' code is DIR/<crate>/bootstrap.zip, as
// scripts/build-lambdas.sh leaves it, instead of a cargo-lambda build during synth.
const prebuiltZipsDir = process.env.IMAGEGEN_LAMBDA_ZIPS || undefined;
new ImagegenStack(app, app.node.tryGetContext('stackName') ?? 'Imagegen', {
  prebuiltZipsDir,
  description: 'imagegen: S3 prompt or console input -> Step Functions -> Rust Lambdas -> Bedrock -> thumbnails -> SNS email',
  env,
});
// Only with -c githubRepo=OWNER/REPO: the role GitHub Actions deploys with (DEPLOY.md).
const access = loadDeployAccessConfig(app.node);
if (access !== undefined) {
  new DeployAccessStack(app, 'ImagegenDeployAccess', {
    description: 'imagegen: GitHub OIDC deploy role and CloudFormation execution policy',
    env,
    config: access,
  });
}
addNagChecks(app);
