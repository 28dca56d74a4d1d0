"""The baseline: a classic Python Bedrock Lambda of the same shape as imagegen's
functions. Module scope creates the boto3 clients (the cold-start cost); the
handler parses the event and would then call Bedrock, S3 and SNS."""

import base64
import json
import os

import boto3

s3 = boto3.client("s3")
bedrock = boto3.client("bedrock-runtime")
sns = boto3.client("sns")

OUTPUT_BUCKET = os.environ.get("OUTPUT_BUCKET", "")
TOPIC_ARN = os.environ.get("TOPIC_ARN", "")


def handler(event, context):
    if isinstance(event, str):
        event = json.loads(event)
    prompt = (event or {}).get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError("event has no prompt")
    body = json.dumps({"text_prompts": [{"text": prompt}], "cfg_scale": 7, "steps": 30})
    response = bedrock.invoke_model(modelId="stability.stable-diffusion-xl-v1", body=body)
    image = base64.b64decode(json.loads(response["body"].read())["artifacts"][0]["base64"])
    key = f"images/{context.aws_request_id}.png"
    s3.put_object(Bucket=OUTPUT_BUCKET, Key=key, Body=image, ContentType="image/png")
    sns.publish(TopicArn=TOPIC_ARN, Message=json.dumps({"key": key}))
    return {"key": key}
