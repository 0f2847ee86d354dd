#!/usr/bin/env bash
# One-time Vault (or OpenBao: use `bao` for `vault`) setup for the ml-incident-api pods — the
# runbook's steps 1-3. Nothing here changes when moving from Vault Agent to envfile: envfile logs in
# with the same Kubernetes auth role and reads with the same policy.
#
# Needs VAULT_ADDR and a token allowed to manage mounts, policies and auth methods, plus kubectl
# pointed at the cluster.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
VAULT="${VAULT:-vault}"

# 1. KV v2 engine and the secret (skip the put if it exists already).
"$VAULT" secrets enable -path=ml-incident kv-v2 || true
# "$VAULT" kv put ml-incident/prod/api \
#   jwt_secret_key="$(openssl rand -hex 32)" \
#   database_url="postgresql+asyncpg://appuser:PASS@pg-host:5432/incidents" \
#   redis_url="rediss://:PASS@redis-host:6380/0"

# 2. Policy: read on ml-incident/data/prod/api only.
"$VAULT" policy write ml-incident-api "$here/vault-policy-ml-incident.hcl"

# 3. Kubernetes auth, bound to the ml-incident-api service account in `production`. The pods
#    present a projected token with the audience `vault` (deployment*.yaml), not the default
#    service-account token, so the role checks that audience.
"$VAULT" auth enable kubernetes || true
"$VAULT" write auth/kubernetes/config \
  kubernetes_host="https://$(kubectl get svc kubernetes -n default -o jsonpath='{.spec.clusterIP}'):443"
"$VAULT" write auth/kubernetes/role/ml-incident-api \
  bound_service_account_names=ml-incident-api \
  bound_service_account_namespaces=production \
  audience=vault \
  policies=ml-incident-api \
  ttl=1h
