#!/usr/bin/env bash
# Builds what CloudFormation needs: the content Lambdas as zip bundles (uploaded to S3 under a
# content-addressed key) and the two service images (pushed to each given registry). Writes the
# resulting keys and image URIs to dist/artifacts/artifacts.env, which scripts/deploy.sh reads.
#
# Usage: scripts/package.sh [--bucket NAME --region REGION] [--registry URI]... [--tag TAG]
#   --bucket NAME     S3 bucket for the Lambda bundles (in the region the functions stack runs in)
#   --region REGION   that bucket's region
#   --registry URI    image registry to push to, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com;
#                     repeat it for the secondary region's registry. Needs a Docker engine.
#   --tag TAG         image tag (default: the commit, with -dirty for uncommitted changes)
# Without --bucket the bundles are only built; without --registry no image is built.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$REPO_ROOT"

readonly FUNCTIONS=(delete-all-posts restore-posts)
readonly SERVICES=(health-sidecar cache-invalidator)
readonly OUT="$REPO_ROOT/dist/artifacts"

bucket=""
region=""
registries=()
tag=""
while (($# > 0)); do
  case "$1" in
  --bucket) bucket="${2:?--bucket needs a value, e.g. --bucket my-artifacts}"; shift 2 ;;
  --region) region="${2:?--region needs a value, e.g. --region eu-west-1}"; shift 2 ;;
  --registry) registries+=("${2:?--registry needs a value, e.g. --registry 123456789012.dkr.ecr.eu-west-1.amazonaws.com}"); shift 2 ;;
  --tag) tag="${2:?--tag needs a value, e.g. --tag v1.2.0}"; shift 2 ;;
  -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  *) die "Unknown argument '$1'. Run scripts/package.sh --help." ;;
  esac
done
if [[ -n "$bucket" && -z "$region" ]]; then
  die "--bucket needs --region (the bucket's region, where the functions stack is deployed)."
fi
[[ -d node_modules ]] || die "Dependencies are not installed: run 'npm ci' in $REPO_ROOT first."

if [[ -z "$tag" ]]; then
  tag="$(git rev-parse --short=12 HEAD)"
  git diff --quiet HEAD -- services packages || tag="$tag-dirty"
fi

mkdir -p "$OUT"
manifest="$OUT/artifacts.env"
: >"$manifest.tmp"

# A zip whose bytes depend only on the files' contents (fixed timestamps and order): an unchanged
# bundle keeps its S3 key, so CloudFormation does not update the function.
deterministic_zip() {
  local zipfile="$1"
  shift
  python3 - "$zipfile" "$@" <<'PY'
import os, sys, zipfile
target, files = sys.argv[1], sys.argv[2:]
with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
    for path in sorted(files):
        info = zipfile.ZipInfo(os.path.basename(path), date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(path, "rb") as handle:
            archive.writestr(info, handle.read())
PY
}

for name in "${FUNCTIONS[@]}"; do
  workspace="functions/$name"
  [[ -f "$workspace/src/handler.ts" ]] || die "$workspace/src/handler.ts is missing: is this the ghost-ha repository?"
  log "Building $workspace"
  npm run build --silent --workspace "$workspace"
  bundle="$workspace/dist/index.mjs"
  [[ -f "$bundle" ]] || die "'npm run build -w $workspace' did not produce $bundle (the Lambda handler index.handler loads it); it runs scripts/lib/build.mjs."
  files=("$bundle")
  [[ -f "$bundle.map" ]] && files+=("$bundle.map")
  zipfile="$OUT/$name.zip"
  deterministic_zip "$zipfile" "${files[@]}"
  key="functions/$name-$(hash_files "$zipfile").zip"
  variable="$(tr 'a-z-' 'A-Z_' <<<"$name")_KEY"
  printf '%s=%s\n' "$variable" "$key" >>"$manifest.tmp"
  if [[ -n "$bucket" ]]; then
    log "Uploading s3://$bucket/$key"
    aws s3 cp --region "$region" --only-show-errors "$zipfile" "s3://$bucket/$key"
  else
    log "Built $zipfile (key $key; pass --bucket to upload it)"
  fi
done
[[ -n "$bucket" ]] && printf 'ARTIFACT_BUCKET=%s\n' "$bucket" >>"$manifest.tmp"

if ((${#registries[@]} > 0)); then
  command -v docker >/dev/null || die "--registry needs Docker to build the service images; install it or build elsewhere."
  docker info >/dev/null 2>&1 || die "Docker is installed but its engine does not answer (is the daemon running?)."
  for service in "${SERVICES[@]}"; do
    local_image="ghost-ha/$service:$tag"
    log "Building $local_image"
    docker build --file "services/$service/Dockerfile" --tag "$local_image" .
    for registry in "${registries[@]}"; do
      docker tag "$local_image" "$registry/ghost-ha/$service:$tag"
      log "Pushing $registry/ghost-ha/$service:$tag"
      docker push --quiet "$registry/ghost-ha/$service:$tag"
    done
    # deploy.sh picks the registry of each region by its name; the first one is the default.
    variable="$(tr 'a-z-' 'A-Z_' <<<"$service")_IMAGE"
    printf '%s=%s\n' "$variable" "ghost-ha/$service:$tag" >>"$manifest.tmp"
  done
  printf 'REGISTRIES=%s\n' "${registries[*]}" >>"$manifest.tmp"
fi

mv "$manifest.tmp" "$manifest"
log "Wrote $manifest:"
cat "$manifest" >&2
