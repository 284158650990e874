#!/usr/bin/env bash
# Deploys the CloudFormation stacks of infra/cloudformation in the order they depend on each other.
#
# Usage: scripts/deploy.sh COMMAND --config FILE [--active primary|secondary] [--dry-run]
#   all                 everything, first time or update: networks, data (both regions, then the
#                       primary again to start EFS replication), apps, functions, edge, observability
#   region primary      one region's stacks (network, data, app, functions, observability)
#   region secondary    the secondary's (network, data, app with no task, observability)
#   edge                CloudFront (us-east-1), then the apps and observability that need its id
#   rotate-origin-token a new X-Origin-Verify value: stored in <project>/origin-verify, accepted by
#                       both ALBs beside the old one, sent by CloudFront, then the only one accepted
#                       (infra/README.md, "Rotating the origin token")
#   --config FILE       settings (see infra/deploy.example.env)
#   --artifacts FILE    what scripts/package.sh built (default dist/artifacts/artifacts.env, read
#                       before the settings, which may override it)
#   --active REGION     which region runs Ghost now: primary or secondary. Read from the Aurora
#                       global database's writer (rds:DescribeGlobalClusters); given, it must match
#                       what was read (a deployment never stops the live Ghost). It decides the
#                       desired count, the alarms that notify and CloudFront's order.
#   --dry-run           print the AWS CLI calls instead of making them (no AWS call; the active
#                       region is --active's, default primary, and the account taken as empty)
#   --resume            rotate-origin-token only: finish a rotation that stopped, without a new value
# Ghost first starts once its database user exists: while the active region's app stack is new (or
# its Ghost service runs nothing), the app stacks are deployed with no Ghost task,
# scripts/create-app-db-user.sh runs, and only then is Ghost started. Each region's task runs
# images from its own registry, and each digest is checked there (ecr:DescribeImages) before that
# region's app stack is deployed.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$REPO_ROOT"

# The comment block at the top of this file.
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

command_name="${1:-}"
[[ "$command_name" == -h || "$command_name" == --help ]] && { usage; exit 0; }
[[ -n "$command_name" ]] || { usage >&2; exit 2; }
shift
target_role=""
if [[ "$command_name" == region ]]; then
  target_role="${1:-}"
  [[ "$target_role" == primary || "$target_role" == secondary ]] || die "'region' needs 'primary' or 'secondary', e.g. scripts/deploy.sh region primary --config deploy.env"
  shift
fi
config=""
artifacts="$REPO_ROOT/dist/artifacts/artifacts.env"
active=""
dry_run=false
resume=false
while (($# > 0)); do
  case "$1" in
  --config) config="${2:?--config needs a file, e.g. --config deploy.env}"; shift 2 ;;
  --artifacts) artifacts="${2:?--artifacts needs a file}"; shift 2 ;;
  --active) active="${2:?--active needs primary or secondary, e.g. --active primary}"; shift 2 ;;
  --dry-run) dry_run=true; shift ;;
  --resume) resume=true; shift ;;
  -h | --help) usage; exit 0 ;;
  *) die "Unknown argument '$1'. Run scripts/deploy.sh --help." ;;
  esac
done
case "$command_name" in all | region | edge | rotate-origin-token) ;; *) usage >&2; die "Unknown command '$command_name'." ;; esac
[[ -z "$active" || "$active" == primary || "$active" == secondary ]] || die "--active must be primary or secondary (got '$active'), e.g. --active primary."
[[ -n "$config" ]] || die "--config is required, e.g. --config deploy.env (start from infra/deploy.example.env)."
[[ -f "$config" ]] || die "Config file '$config' not found (start from infra/deploy.example.env)."

# What package.sh built, then the settings (which may override it).
if [[ -f "$artifacts" ]]; then
  # shellcheck source=/dev/null
  source "$artifacts"
fi
# shellcheck source=/dev/null
source "$config"
PROJECT="${PROJECT:-ghost-ha}"
missing=()
for variable in PRIMARY_REGION SECONDARY_REGION SITE_URL ALIASES PRIMARY_CERTIFICATE_ARN SECONDARY_CERTIFICATE_ARN EDGE_CERTIFICATE_ARN PRIMARY_ORIGIN_HOST SECONDARY_ORIGIN_HOST; do
  [[ -n "${!variable:-}" ]] || missing+=("$variable")
done
((${#missing[@]} == 0)) || die "$config does not set: ${missing[*]} (see infra/deploy.example.env)."
[[ "$PRIMARY_REGION" != "$SECONDARY_REGION" ]] || die "PRIMARY_REGION and SECONDARY_REGION are both '$PRIMARY_REGION'."

readonly TEMPLATES="$REPO_ROOT/infra/cloudformation"
readonly EDGE_REGION=us-east-1

region_of() { if [[ "$1" == primary ]]; then echo "$PRIMARY_REGION"; else echo "$SECONDARY_REGION"; fi; }
peer_of() { if [[ "$1" == primary ]]; then echo secondary; else echo primary; fi; }
stack() { echo "$PROJECT-$1"; }

# The SDK check of infra/src/deploy (every image a region's task needs is in its registry).
deploy_check() {
  [[ -d "$REPO_ROOT/node_modules" ]] || die "Dependencies are not installed: run 'npm ci' in $REPO_ROOT first."
  node --conditions=source --import tsx "$REPO_ROOT/infra/src/deploy/main.ts" "$@"
}

# Where the Aurora global database writes, as a role: primary, secondary, or none when it does not
# exist yet. Asked in the secondary first (in a disaster the primary's endpoint may not answer),
# then the primary. Stops when neither can tell, or while no member is the writer (a switch runs).
writer_role() {
  local region error_file writer="" failures=""
  error_file="$(mktemp)"
  for region in "$SECONDARY_REGION" "$PRIMARY_REGION"; do
    if writer="$(aws rds describe-global-clusters --region "$region" --global-cluster-identifier "$PROJECT-global" \
      --query 'GlobalClusters[0].[GlobalClusterIdentifier, GlobalClusterMembers[?IsWriter].DBClusterArn | [0]]' \
      --output text 2>"$error_file")"; then
      break
    fi
    if grep -q GlobalClusterNotFoundFault "$error_file"; then
      rm -f "$error_file"
      echo none
      return
    fi
    failures+="$region: $(tr '\n' ' ' <"$error_file") "
    writer=""
  done
  rm -f "$error_file"
  # "None": no such global database (AWS answers GlobalClusterNotFoundFault; an empty list too).
  if [[ "$writer" == None ]]; then
    echo none
    return
  fi
  writer="${writer##*$'\t'}"
  [[ -n "$writer" ]] || die "Could not read the global database $PROJECT-global (${failures:-an empty answer}); check the credentials (rds:DescribeGlobalClusters). Nothing was deployed."
  [[ "$writer" == arn:* ]] ||
    die "The global database $PROJECT-global names no writer: a switchover or failover is under way. Wait for it to finish (scripts/failover.sh or failback.sh reports it), then deploy again."
  case "$(cut -d: -f4 <<<"$writer")" in
  "$PRIMARY_REGION") echo primary ;;
  "$SECONDARY_REGION") echo secondary ;;
  *) die "The global database $PROJECT-global writes through $writer, in neither PRIMARY_REGION ($PRIMARY_REGION) nor SECONDARY_REGION ($SECONDARY_REGION): check the settings." ;;
  esac
}

# Read, not remembered: Ghost runs where the Aurora global database writes. A given --active must
# match it; a first deployment (no global database yet) makes the primary the writer.
resolve_active() {
  local read_role
  if [[ "$dry_run" == true ]]; then
    active="${active:-primary}"
    log "Dry run: Ghost's region taken as the $active (a real run reads the global database's writer)"
    return
  fi
  read_role="$(writer_role)"
  if [[ "$read_role" == none ]]; then
    [[ -z "$active" || "$active" == primary ]] ||
      die "--active $active, but there is no global database $PROJECT-global yet: a first deployment runs Ghost in the primary ($PRIMARY_REGION). Run it without --active, e.g. scripts/deploy.sh all --config $config"
    active=primary
    log "No global database $PROJECT-global yet: a first deployment, Ghost's region is the primary ($PRIMARY_REGION)"
    return
  fi
  if [[ -n "$active" && "$active" != "$read_role" ]]; then
    die "--active $active, but the global database $PROJECT-global writes in the $read_role ($(region_of "$read_role")): deploying so would stop the live Ghost. Leave --active out (the writer is read), or switch first with scripts/failover.sh or scripts/failback.sh."
  fi
  active="$read_role"
  log "Ghost's region, read from $PROJECT-global's writer: the $active ($(region_of "$active"))"
}

# Prints or makes one AWS CLI call.
aws_call() {
  if [[ "$dry_run" == true ]]; then
    printf 'aws'
    printf ' %q' "$@"
    printf '\n'
  else
    aws "$@"
  fi
}

# A stack output, or empty when the stack (or output) does not exist yet.
output() {
  local region="$1" stack_name="$2" key="$3"
  if [[ "$dry_run" == true ]]; then
    echo "<$stack_name.$key>"
    return
  fi
  aws cloudformation describe-stacks --region "$region" --stack-name "$stack_name" \
    --query "Stacks[0].Outputs[?OutputKey=='$key'].OutputValue | [0]" --output text 2>/dev/null |
    sed 's/^None$//' || true
}

require_output() {
  local value
  value="$(output "$@")"
  [[ -n "$value" ]] || die "Stack $2 in $1 has no output $3 yet: deploy it first (scripts/deploy.sh all --config ...)."
  echo "$value"
}

deploy_stack() {
  local region="$1" layer="$2" stack_name="$3" template body_dir="" status=0
  shift 3
  template="$TEMPLATES/$layer.yaml"
  log "Deploying $stack_name ($layer) in $region"
  # The CLI sends at most 51,200 bytes inline (more needs an S3 bucket): a template past that goes
  # as compact JSON, the same template without its comments (infra/src/deploy/templateBody.ts).
  if (($(wc -c <"$template") > 51200)); then
    body_dir="$(mktemp -d)"
    template="$body_dir/$layer.json"
    deploy_check template-body "$layer" >"$template" || { rm -rf "$body_dir"; die "Could not render the $layer template as JSON (see above)."; }
  fi
  aws_call cloudformation deploy --region "$region" --stack-name "$stack_name" \
    --template-file "$template" --capabilities CAPABILITY_IAM ${CLOUDFORMATION_ROLE_ARN:+--role-arn "$CLOUDFORMATION_ROLE_ARN"} \
    --no-fail-on-empty-changeset --parameter-overrides "ProjectName=$PROJECT" "$@" || status=$?
  [[ -z "$body_dir" ]] || rm -rf "$body_dir"
  return "$status"
}

# The Ghost image: the mirror package.sh pushed (a repository path pinned by digest, in this
# region's registry), or GHOST_IMAGE as given, or the template's default.
ghost_image_uri() {
  if [[ "${GHOST_IMAGE:-}" == */*@sha256:* && "$GHOST_IMAGE" != *.*/* ]]; then
    image_uri "$1" "$GHOST_IMAGE"
  else
    echo "${GHOST_IMAGE:-ghost:$(pinned_version ghost)}"
  fi
}

# An image as this region's task names it: a repository path (what package.sh writes) in this
# region's own registry. An image in another region's registry cannot be pulled when that region is
# down, so there is no fallback to another region's registry: the deployment stops instead.
# Call it as `var="$(image_uri ...)"` (a failure inside an argument's $(...) would go unnoticed).
image_uri() {
  local region="$1" repository="$2" registry="" candidate
  [[ -n "$repository" ]] || die "No image for $region's task: run scripts/package.sh --registry ... first (or set HEALTH_SIDECAR_IMAGE and CACHE_INVALIDATOR_IMAGE to full URIs)."
  if [[ "$repository" == *.*/* ]]; then
    [[ "$repository" != *.dkr.ecr.* || "$repository" == *".dkr.ecr.$region."* ]] ||
      die "$repository is not in $region's registry: an outage of its region would stop $region's task from starting. Name a repository path (e.g. ghost-ha/health-sidecar@sha256:...) and package for both regions (see REGISTRIES below)."
    echo "$repository"
    return
  fi
  for candidate in ${REGISTRIES:-}; do
    if [[ "$candidate" == *".dkr.ecr.$region."* ]]; then
      registry="$candidate"
    elif [[ "$candidate" != *.dkr.ecr.* && -z "$registry" ]]; then
      # Not Amazon ECR: one registry for every region (its availability is its own).
      registry="$candidate"
    fi
  done
  [[ -n "$registry" ]] ||
    die "REGISTRIES (${REGISTRIES:-empty}) has no registry in $region for $repository: $region's task would pull from another region, which a regional outage takes away. Package for both regions, e.g. scripts/package.sh --registry 123456789012.dkr.ecr.$PRIMARY_REGION.amazonaws.com --registry 123456789012.dkr.ecr.$SECONDARY_REGION.amazonaws.com (or, with the registry stack's replication, --registry <PrimaryRegistry> --replica-registry <SecondaryRegistry>)."
  echo "$registry/$repository"
}

# Stops unless every image pinned by digest in Amazon ECR is found in this region's own registry
# (ecr:DescribeImages there, infra/src/deploy/imagesInRegion.ts). Others (a Docker Hub tag) cannot
# be checked: a warning.
check_images() {
  local region="$1" image ecr_images=()
  shift
  for image in "$@"; do
    if [[ "$image" == *.dkr.ecr.*@sha256:* ]]; then
      ecr_images+=("$image")
    else
      warn "$image is not pinned by digest in $region's registry: $region's task depends on where it is pulled from."
    fi
  done
  ((${#ecr_images[@]} > 0)) || return 0
  if [[ "$dry_run" == true ]]; then
    log "Would check with ecr:DescribeImages in $region: ${ecr_images[*]}"
    return
  fi
  deploy_check check-images --region "$region" "${ecr_images[@]}" >&2 ||
    die "$region's task needs images its registry does not hold (see above); nothing was deployed to its app stack."
}

# The X-Origin-Verify value CloudFront sends and the ALBs require: the <project>/origin-verify
# secret, generated by the primary data stack (48 letters and digits) and replicated to the
# secondary. The deployment stops when it cannot be read or is not a token: the app stacks accept
# no empty one, and a deployment must never open the ALBs to other distributions.
# Call it as `var="$(origin_token role)"`: a failure inside an argument's $(...) would go unnoticed.
origin_token() {
  local region token stage="${2:-AWSCURRENT}"
  region="$(region_of "$1")"
  if [[ -n "$origin_token_override" && "$stage" == AWSCURRENT ]]; then
    printf '%s\n' "$origin_token_override"
    return
  fi
  if [[ "$dry_run" == true ]]; then
    [[ "$stage" == AWSCURRENT ]] && echo "<$PROJECT/origin-verify>" || echo "<$PROJECT/origin-verify:$stage>"
    return
  fi
  token="$(aws secretsmanager get-secret-value --region "$region" --secret-id "$PROJECT/origin-verify" \
    --version-stage "$stage" --query SecretString --output text)" ||
    die "Cannot read the secret $PROJECT/origin-verify in $region (see the error above): it is created by the primary data stack (scripts/deploy.sh region primary); check this identity may call secretsmanager:GetSecretValue and kms:Decrypt on it. Nothing was deployed with it."
  [[ "$token" =~ ^[A-Za-z0-9]{32,128}$ ]] ||
    die "The secret $PROJECT/origin-verify in $region is not 32-128 letters and digits. Store a new one with: scripts/deploy.sh rotate-origin-token --config ..."
  printf '%s\n' "$token"
}

# Set only during rotate-origin-token: the primary's current token for both regions, and the one
# the ALBs accept beside it.
origin_token_override=""
previous_origin_token=""
rotation_file=""
trap 'rm -f "${rotation_file:-}"' EXIT

deploy_network() {
  local role="$1" region cidr_variable default_cidr=10.20.0.0/16
  region="$(region_of "$role")"
  cidr_variable="${role^^}_VPC_CIDR"
  [[ "$role" == secondary ]] && default_cidr=10.30.0.0/16
  deploy_stack "$region" network "$(stack network)" "VpcCidr=${!cidr_variable:-$default_cidr}"
}

deploy_data() {
  local role="$1" region replica="" distribution
  region="$(region_of "$role")"
  # The static mirror bucket admits only the distribution, once it exists.
  distribution="$(output "$EDGE_REGION" "$(stack edge)" DistributionId)"
  [[ "$distribution" == "<"* ]] && distribution=""
  local params=("NetworkStackName=$(stack network)" "Role=$role" "GlobalClusterIdentifier=$PROJECT-global"
    "BackupRetentionDays=${BACKUP_RETENTION_DAYS:-7}" "MirrorDistributionId=$distribution")
  if [[ "$role" == primary ]]; then
    replica="$(output "$SECONDARY_REGION" "$(stack data)" FileSystemId)"
    params+=("SecondaryRegion=$SECONDARY_REGION" "SiteUrl=$SITE_URL" "ReplicaFileSystemId=$replica")
  else
    require_output "$PRIMARY_REGION" "$(stack data)" GlobalClusterIdentifier >/dev/null
  fi
  # The bucket the cache-invalidator writes (MIRROR_REGION, default the secondary) replicates into
  # the other region's, so both are kept for a switch; S3 needs that bucket to exist first.
  local other_region=$PRIMARY_REGION other_bucket
  [[ "$role" == primary ]] && other_region=$SECONDARY_REGION
  if [[ "$region" == "${MIRROR_REGION:-$SECONDARY_REGION}" ]]; then
    other_bucket="$(output "$other_region" "$(stack data)" MirrorBucketName)"
    if [[ -n "$other_bucket" ]]; then params+=("MirrorReplicaRegion=$other_region"); fi
  fi
  deploy_stack "$region" data "$(stack data)" "${params[@]}"
  # The mirror canary's object (edge stack MirrorCanaryFunction), under the stacks' MirrorPrefix
  # (site): whichever bucket the edge reads holds the page the ALB always answers with 503.
  aws_call s3api put-object --region "$region" --bucket "$(require_output "$region" "$(stack data)" MirrorBucketName)" \
    --key site/.ghost-ha-canary.html --body "$REPO_ROOT/infra/mirror-canary.html" \
    --content-type "text/html; charset=utf-8" --cache-control no-store --query ETag --output text
}

deploy_app() {
  local role="$1" region prefix_list certificate desired=0 distribution token ghost_image sidecar_image invalidator_image
  region="$(region_of "$role")"
  token="$(origin_token "$role")"
  # One count for both ECS services of the stack, Ghost's and the cache-invalidator's (its own task,
  # its own role): 1 in the active region (the global cluster's writer), 0 in the standby, and 0 on a
  # first deploy until Ghost's database user exists.
  [[ "$role" == "$active" && "$ghost_held" != true ]] && desired=1
  ghost_image="$(ghost_image_uri "$region")"
  sidecar_image="$(image_uri "$region" "${HEALTH_SIDECAR_IMAGE:-}")"
  invalidator_image="$(image_uri "$region" "${CACHE_INVALIDATOR_IMAGE:-}")"
  check_images "$region" "$ghost_image" "$sidecar_image" "$invalidator_image"
  if [[ "$dry_run" == true ]]; then
    prefix_list="<pl-cloudfront-origin-facing>"
  else
    prefix_list="$(aws ec2 describe-managed-prefix-lists --region "$region" \
      --filters Name=prefix-list-name,Values=com.amazonaws.global.cloudfront.origin-facing \
      --query 'PrefixLists[0].PrefixListId' --output text)"
    [[ "$prefix_list" == pl-* ]] || die "CloudFront's origin-facing prefix list was not found in $region."
  fi
  certificate="PRIMARY_CERTIFICATE_ARN"
  [[ "$role" == secondary ]] && certificate="SECONDARY_CERTIFICATE_ARN"
  distribution="$(output "$EDGE_REGION" "$(stack edge)" DistributionId)"
  [[ "$distribution" == "<"* ]] && distribution=""
  deploy_stack "$region" app "$(stack app)" "NetworkStackName=$(stack network)" "DataStackName=$(stack data)" \
    "DesiredCount=$desired" "SiteUrl=$SITE_URL" "CertificateArn=${!certificate}" \
    "OriginFacingPrefixListId=$prefix_list" "OriginVerifyToken=$token" \
    "OriginVerifyPreviousToken=$previous_origin_token" "DistributionId=$distribution" \
    "GhostImage=$ghost_image" "HealthSidecarImage=$sidecar_image" "CacheInvalidatorImage=$invalidator_image" \
    "LogRetentionDays=${LOG_RETENTION_DAYS:-30}" "MailFrom=${MAIL_FROM:-}" "MirrorRegion=${MIRROR_REGION:-$SECONDARY_REGION}"
}

deploy_functions() {
  local region
  region="$(region_of "$1")"
  [[ -n "${ARTIFACT_BUCKET:-}" ]] || die "ARTIFACT_BUCKET is not set: run scripts/package.sh --bucket ... --region $region first."
  [[ -n "${DELETE_ALL_POSTS_KEY:-}" && -n "${RESTORE_POSTS_KEY:-}" ]] || die "Lambda bundle keys are missing: run scripts/package.sh --bucket ... first."
  deploy_stack "$region" functions "$(stack functions)" "NetworkStackName=$(stack network)" \
    "ArtifactBucket=$ARTIFACT_BUCKET" "DeleteAllPostsKey=$DELETE_ALL_POSTS_KEY" "RestorePostsKey=$RESTORE_POSTS_KEY"
}

deploy_observability() {
  local role="$1" region status=standby distribution
  region="$(region_of "$role")"
  [[ "$role" == "$active" ]] && status=active
  distribution="$(output "$EDGE_REGION" "$(stack edge)" DistributionId)"
  [[ "$distribution" == "<"* ]] && distribution=""
  deploy_stack "$region" observability "$(stack observability)" "NetworkStackName=$(stack network)" \
    "AppStackName=$(stack app)" "Role=$status" "DistributionId=$distribution" "AlarmEmail=${ALARM_EMAIL:-}"
}

deploy_edge() {
  local token
  token="$(origin_token "$active")"
  deploy_stack "$EDGE_REGION" edge "$(stack edge)" "Aliases=$ALIASES" "ViewerCertificateArn=$EDGE_CERTIFICATE_ARN" \
    "PrimaryRegion=$PRIMARY_REGION" "SecondaryRegion=$SECONDARY_REGION" "ActiveRegion=$active" \
    "OriginVerifyToken=$token" \
    "PrimaryOriginDomain=$PRIMARY_ORIGIN_HOST" "SecondaryOriginDomain=$SECONDARY_ORIGIN_HOST" \
    "CacheTtlSeconds=${CACHE_TTL_SECONDS:-3600}" "WebAclArn=${WEB_ACL_ARN:-}" "EnableWaf=${ENABLE_WAF:-true}" "MirrorRegion=${MIRROR_REGION:-}"
  # The mirror buckets, the cache-invalidator and the CloudFront alarm need the distribution's id.
  # CloudFormation returns once the distribution is deployed everywhere: from now on CloudFront sends
  # the current token only, so the ALBs stop accepting a previous one.
  previous_origin_token=""
  for role in primary secondary; do
    deploy_data "$role"
    deploy_app "$role"
    deploy_observability "$role"
  done
  if [[ "$PRIMARY_REGION" != "$EDGE_REGION" && "$SECONDARY_REGION" != "$EDGE_REGION" ]]; then
    log "Deploying the CloudFront alarm in $EDGE_REGION (CloudFront publishes its metrics there)"
    aws_call cloudformation deploy --region "$EDGE_REGION" --stack-name "$(stack edge-observability)" \
      --template-file "$TEMPLATES/observability.yaml" ${CLOUDFORMATION_ROLE_ARN:+--role-arn "$CLOUDFORMATION_ROLE_ARN"} \
      --no-fail-on-empty-changeset --parameter-overrides \
      "ProjectName=$PROJECT" "NetworkStackName=" "AppStackName=" \
      "DistributionId=$(require_output "$EDGE_REGION" "$(stack edge)" DistributionId)" "AlarmEmail=${ALARM_EMAIL:-}"
  fi
}

# A new origin token without a moment in which CloudFront's requests are refused: the ALBs accept
# the new value (the secret's AWSCURRENT) and the old one (AWSPREVIOUS) while CloudFront moves to the
# new one, then the new one only. Both regions get the primary's values, so replication to the
# secondary's replica is not waited for. --resume repeats the deployments without a new value (after
# one failed half way: a fresh value then would leave CloudFront's current one unaccepted).
rotate_origin_token() {
  local region new
  region="$(region_of primary)"
  if [[ "$resume" != true ]]; then
    origin_token primary >/dev/null
    if [[ "$dry_run" == true ]]; then
      new="<new $PROJECT/origin-verify>"
    else
      new="$(aws secretsmanager get-random-password --region "$region" --password-length 48 \
        --exclude-punctuation --query RandomPassword --output text)"
      [[ "$new" =~ ^[A-Za-z0-9]{48}$ ]] || die "Secrets Manager did not return a 48-character token."
    fi
    log "Storing a new $PROJECT/origin-verify in $region (the previous value stays as AWSPREVIOUS)"
    # The value travels in a file, never on a command line (ps shows those to every local user).
    rotation_file="$(mktemp)"
    printf '%s' "$new" >"$rotation_file"
    aws_call secretsmanager put-secret-value --region "$region" --secret-id "$PROJECT/origin-verify" \
      --secret-string "file://$rotation_file" --query VersionId --output text
    rm -f "$rotation_file"
  fi
  trap 'status=$?; rm -f "${rotation_file:-}"; ((status == 0)) || warn "The rotation stopped half way. Finish it with: scripts/deploy.sh rotate-origin-token --resume --config $config"' EXIT
  origin_token_override="$(origin_token primary)"
  previous_origin_token="$(origin_token primary AWSPREVIOUS)"
  deploy_app primary
  deploy_app secondary
  # Edge (CloudFront sends the new value), then the apps with the new value only.
  deploy_edge
  origin_token_override=""
}

# True while Ghost has never been started in the active region: its app stack does not exist yet,
# or its Ghost service runs nothing and is asked for nothing (desired and running count 0; after a
# failover the switch tool sets the count itself, so the stack's DesiredCount says nothing). Then
# holding Ghost at 0 stops nothing, and its database user may be missing. Any other failure to read
# stops the deployment (guessing could stop a running Ghost).
ghost_never_started() {
  local region counts error_file
  [[ "$dry_run" == true ]] && return 0
  region="$(region_of "$active")"
  error_file="$(mktemp)"
  if ! aws cloudformation describe-stacks --region "$region" --stack-name "$(stack app)" \
    --query 'Stacks[0].StackName' --output text >/dev/null 2>"$error_file"; then
    if grep -q 'does not exist' "$error_file"; then
      rm -f "$error_file"
      return 0
    fi
    cat "$error_file" >&2
    rm -f "$error_file"
    die "Could not read stack $(stack app) in $region (see above); nothing was deployed."
  fi
  rm -f "$error_file"
  counts="$(aws ecs describe-services --region "$region" --cluster "$PROJECT" --services "$PROJECT-ghost" \
    --query 'services[0].[desiredCount, runningCount]' --output text)" ||
    die "Could not read the ECS service $PROJECT-ghost in $region (see above); nothing was deployed."
  [[ "$counts" =~ ^[0-9]+[[:space:]]+[0-9]+$ ]] ||
    die "The app stack $(stack app) in $region has no ECS service $PROJECT-ghost (got '$counts'); check the stack in the CloudFormation console."
  [[ "$counts" =~ ^0[[:space:]]+0$ ]]
}

# Ghost's database user (and the released lease row of a database no Ghost ever ran on), made in
# the region that writes: the first start of Ghost needs it.
create_app_user() {
  local flags=()
  [[ "$dry_run" == true ]] && flags+=(--dry-run)
  log "Creating Ghost's database user in $(region_of "$active") before Ghost first starts"
  bash "$REPO_ROOT/scripts/create-app-db-user.sh" --region "$(region_of "$active")" --project "$PROJECT" "${flags[@]}"
}

deploy_region() {
  local role="$1"
  deploy_network "$role"
  deploy_data "$role"
  if [[ "$role" == "$active" ]] && ghost_never_started; then
    # The app stack with no Ghost task, the user, then Ghost.
    ghost_held=true
    deploy_app "$role"
    create_app_user
    ghost_held=false
  fi
  deploy_app "$role"
  [[ "$role" == primary ]] && deploy_functions "$role"
  deploy_observability "$role"
}

# Set while Ghost must not start yet (its database user may not exist): every app stack at 0.
ghost_held=false
resolve_active

case "$command_name" in
all)
  first_start=false
  ghost_never_started && first_start=true
  # Secrets in the primary replicate into the secondary's KMS key: its network (with the key) first.
  deploy_network secondary
  deploy_network primary
  deploy_data primary
  deploy_data secondary
  # Now the secondary file system exists: the primary's starts replicating into it.
  deploy_data primary
  # On a first start the apps come up with no Ghost task, Ghost's user is created, and the edge's
  # deployment of the apps starts Ghost, once.
  ghost_held="$first_start"
  deploy_app primary
  deploy_app secondary
  if [[ "$first_start" == true ]]; then
    create_app_user
    ghost_held=false
  fi
  deploy_functions primary
  deploy_edge
  ;;
region) deploy_region "$target_role" ;;
edge) deploy_edge ;;
rotate-origin-token) rotate_origin_token ;;
esac
log "Done. Next: point DNS for $ALIASES at $(output "$EDGE_REGION" "$(stack edge)" DistributionDomainName), then see infra/README.md."
