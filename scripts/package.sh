#!/usr/bin/env bash
# Builds what CloudFormation needs: the content Lambdas as zip bundles (uploaded to S3 under a
# content-addressed key), the two service images (pushed to each given registry) and a mirror of the
# Ghost image (pulled from Docker Hub once, pushed next to them). Writes the resulting keys and the
# images pinned by digest to dist/artifacts/artifacts.env, which scripts/deploy.sh reads.
#
# Usage: scripts/package.sh [--bucket NAME --region REGION] [--registry URI]... [--replica-registry URI]...
#                           [--tag TAG] [--ghost-image IMAGE] [--project NAME]
#   --bucket NAME         S3 bucket for the Lambda bundles (in the region the functions stack runs in)
#   --region REGION       that bucket's region
#   --registry URI        image registry to push to, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com;
#                         repeat it for the secondary's registry. Needs a Docker engine.
#   --replica-registry URI  a registry the registry stack's replication fills (its SecondaryRegistry
#                         output): not pushed to, but named for that region's task (same digests).
# Each region's task pulls from its own registry: scripts/deploy.sh stops when REGISTRIES has none in
# a region, and checks there (ecr:DescribeImages) that every digest has arrived.
#   --tag TAG             image tag (default: the commit, with -dirty for uncommitted changes)
#   --ghost-image IMAGE   the Ghost image to mirror (default: app.yaml's GhostImage default)
#   --project NAME        the stacks' ProjectName (default ghost-ha): images go to the registry stack's
#                         repositories <NAME>/ghost, <NAME>/health-sidecar, <NAME>/cache-invalidator
# Without --bucket the bundles are only built; without --registry no image is built or mirrored.
# Images are built and pulled for linux/amd64, the architecture the task definition pins (X86_64),
# also on an ARM machine.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$REPO_ROOT"

readonly FUNCTIONS=(delete-all-posts restore-posts)
readonly SERVICES=(health-sidecar cache-invalidator)
readonly OUT="${ARTIFACTS_DIR:-$REPO_ROOT/dist/artifacts}"
# The task definition's RuntimePlatform.CpuArchitecture (X86_64) as Docker names it.
readonly PLATFORM=linux/amd64

bucket=""
region=""
registries=()
replica_registries=()
tag=""
ghost_image=""
project=ghost-ha
while (($# > 0)); do
  case "$1" in
  --bucket) bucket="${2:?--bucket needs a value, e.g. --bucket my-artifacts}"; shift 2 ;;
  --region) region="${2:?--region needs a value, e.g. --region eu-west-1}"; shift 2 ;;
  --registry) registries+=("${2:?--registry needs a value, e.g. --registry 123456789012.dkr.ecr.eu-west-1.amazonaws.com}"); shift 2 ;;
  --replica-registry) replica_registries+=("${2:?--replica-registry needs a value, e.g. --replica-registry 123456789012.dkr.ecr.eu-central-1.amazonaws.com}"); shift 2 ;;
  --tag) tag="${2:?--tag needs a value, e.g. --tag v1.2.0}"; shift 2 ;;
  --project) project="${2:?--project needs a value, e.g. --project ghost-ha}"; shift 2 ;;
  --ghost-image) ghost_image="${2:?--ghost-image needs a value, e.g. --ghost-image ghost:<version>}"; shift 2 ;;
  -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  *) die "Unknown argument '$1'. Run scripts/package.sh --help." ;;
  esac
done
[[ "$project" =~ ^[a-z][a-z0-9-]{1,30}$ ]] || die "--project '$project' is not a ProjectName the stacks accept (lower case, digits and -, e.g. --project ghost-ha)."
if [[ -n "$bucket" && -z "$region" ]]; then
  die "--bucket needs --region (the bucket's region, where the functions stack is deployed)."
fi
if ((${#replica_registries[@]} > 0 && ${#registries[@]} == 0)); then
  die "--replica-registry needs --registry (the registry that replicates into it), e.g. --registry 123456789012.dkr.ecr.eu-west-1.amazonaws.com --replica-registry 123456789012.dkr.ecr.eu-central-1.amazonaws.com"
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

# Pushes a local image to every registry as <repository>:<tag> and prints `<repository>@sha256:...`,
# the digest the registry reports: deploy.sh pins the tasks to it, so a re-pushed tag changes nothing.
push_pinned() {
  local local_image="$1" repository="$2" image_tag="$3" registry digest=""
  for registry in "${registries[@]}"; do
    docker tag "$local_image" "$registry/$repository:$image_tag"
    log "Pushing $registry/$repository:$image_tag"
    docker push --quiet "$registry/$repository:$image_tag" >&2
    [[ -n "$digest" ]] && continue
    digest="$(docker inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$registry/$repository:$image_tag" |
      sed -n "s|^$registry/$repository@||p" | head -n 1)"
    [[ "$digest" == sha256:* ]] || die "The registry reported no digest for $registry/$repository:$image_tag."
  done
  echo "$repository@$digest"
}

if ((${#registries[@]} > 0)); then
  command -v docker >/dev/null || die "--registry needs Docker to build the service images; install it or build elsewhere."
  docker info >/dev/null 2>&1 || die "Docker is installed but its engine does not answer (is the daemon running?)."
  for service in "${SERVICES[@]}"; do
    local_image="$project/$service:$tag"
    log "Building $local_image for $PLATFORM"
    docker build --platform "$PLATFORM" --file "services/$service/Dockerfile" --tag "$local_image" .
    # deploy.sh picks the registry of each region by its name; the first one is the default.
    variable="$(tr 'a-z-' 'A-Z_' <<<"$service")_IMAGE"
    printf '%s=%s\n' "$variable" "$(push_pinned "$local_image" "$project/$service" "$tag")" >>"$manifest.tmp"
  done
  # Ghost from the registry next to the task, not from Docker Hub at failover time (rate limits, and
  # a third party's outage during this region's).
  if [[ -z "$ghost_image" ]]; then
    ghost_image="$(awk '/^  GhostImage:/ { found = 1 } found && /Default:/ { print $2; exit }' infra/cloudformation/app.yaml)"
  fi
  [[ "$ghost_image" == *:* ]] || die "No Ghost image to mirror (got '$ghost_image'); pass --ghost-image ghost:<version>."
  log "Mirroring $ghost_image ($PLATFORM)"
  docker pull --quiet --platform "$PLATFORM" "$ghost_image" >&2
  printf 'GHOST_IMAGE=%s\n' "$(push_pinned "$ghost_image" "$project/ghost" "${ghost_image##*:}")" >>"$manifest.tmp"
  # Quoted: the file is sourced, and an unquoted second word would run as a command.
  all_registries=("${registries[@]}" "${replica_registries[@]}")
  printf 'REGISTRIES="%s"\n' "${all_registries[*]}" >>"$manifest.tmp"
fi

mv "$manifest.tmp" "$manifest"
log "Wrote $manifest:"
cat "$manifest" >&2
