#!/usr/bin/env bash
# Renders every ok app.toml fixture in every environment (every cluster of
# it) with the built-in platform config, and runs kubernetes-validate
# --strict and checkov on the output. Only the checks the platform config
# skips (each with its reason, see docs/manifests.md) are skipped.
# fixtures/resources/<svc>/app.toml render with the resources.toml beside
# them (recommendations in place of size presets).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=target/rendered
rm -rf "$out" && mkdir -p "$out"
cargo build -q -p paas
paas=target/debug/paas
platform=crates/platform-config/platform.toml
read -r kube_version skips envs < <(.venv/bin/python - "$platform" <<'PY'
import sys, tomllib
p = tomllib.load(open(sys.argv[1], "rb"))
skips = ",".join(s["id"] for s in p.get("checkov_skips", [])) or "NONE"
envs = ";".join(f"{name}:{','.join(c['name'] for c in e['clusters'])}" for name, e in p["environments"].items())
print(p["kubernetes_version"], skips, envs)
PY
)
count=0
for f in fixtures/app-toml/ok/*.toml fixtures/resources/*/app.toml; do
  svc=$(basename "$f" .toml)
  [ "$svc" = app ] && svc=$(basename "$(dirname "$f")")
  IFS=';' read -ra pairs <<< "$envs"
  for pair in "${pairs[@]}"; do
    env=${pair%%:*}
    IFS=',' read -ra clusters <<< "${pair#*:}"
    for cluster in "${clusters[@]}"; do
      "$paas" render -e "$env" --cluster "$cluster" --app "$f" --service "$svc" --image-tag 0123abc > "$out/$svc-$env-$cluster.yaml"
      count=$((count + 1))
    done
  done
done
# A test copy (paas service deploy --test-copy) of every ok fixture, in
# staging: its ConfigMap, Deployment, Service and HTTPRoute.
for f in fixtures/app-toml/ok/*.toml; do
  svc=$(basename "$f" .toml)
  "$paas" render -e staging --app "$f" --service "$svc" --image-tag 0123abc --test-copy pr-1 > "$out/$svc-staging-test-copy.yaml"
  count=$((count + 1))
done
echo "rendered $count fixture x environment x cluster combinations into $out"
.venv/bin/kubernetes-validate --strict --quiet -k "$kube_version.0" "$out"/*.yaml
echo "kubernetes-validate --strict ($kube_version): ok"
mkdir -p target/crd && "$paas" crd > target/crd/release-crd.yaml
.venv/bin/kubernetes-validate --strict --quiet -k "$kube_version.0" target/crd/release-crd.yaml
echo "kubernetes-validate --strict ($kube_version): the Release CRD (paas crd) ok"
skip_args=()
[ "$skips" != NONE ] && skip_args=(--skip-check "$skips")
.venv/bin/checkov --framework kubernetes -d "$out" --compact --quiet "${skip_args[@]}"
echo "checkov: ok (platform skips: $skips)"
