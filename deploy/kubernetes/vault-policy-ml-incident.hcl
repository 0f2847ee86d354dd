# The runbook's policy, unchanged: the app may read one KV v2 secret and nothing else.
# (`read` on MOUNT/data/PATH is what a KV v2 read needs; envfile accepts the path with or without
# `data/`.) Add `read` on "ml-incident/metadata/prod/api" if you want the envfile broker to probe
# for new versions cheaply instead of re-reading the secret.
path "ml-incident/data/prod/api" {
  capabilities = ["read"]
}
