#!/usr/bin/env bash
# Runs the integration tier with LocalStack's DynamoDB, SNS and SQS instead of DynamoDB Local
# and fauxqs. Needs Docker and LOCALSTACK_AUTH_TOKEN. Usage: localstack/run-integration.sh
set -euo pipefail
cd "$(dirname "$0")/.."
endpoint=${PULSEBOARD_ENGINES:-http://127.0.0.1:4566}

docker compose -f localstack/docker-compose.yml up -d --wait
trap 'docker compose -f localstack/docker-compose.yml down' EXIT

PULSEBOARD_ENGINES="$endpoint" npm run test:integration
