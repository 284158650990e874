#!/usr/bin/env bash
# Creates Ghost's own database user from the <project>/database-app secret: every privilege on the
# ghost schema, nothing else, and only over TLS (REQUIRE SSL). The health sidecar uses the same user and needs, in that schema, CREATE,
# SELECT, INSERT, UPDATE and DELETE on its table ghost_ha_lease and CREATE, DROP (TRUNCATE) and INSERT
# on ghost_ha_heartbeat (covered). Runs once after the primary data stack is deployed (and again after a
# password change); the user lives in the global database, so the secondary has it too. Goes through
# the RDS Data API (enabled on the primary cluster) as the master user: no network path to the
# database is needed.
#
# Usage: scripts/create-app-db-user.sh --region REGION [--project NAME] [--dry-run]
#   --region REGION   the region whose cluster is the global writer (the primary, e.g. eu-west-1)
#   --project NAME    the stacks' ProjectName (default ghost-ha)
#   --dry-run         print the AWS CLI calls (password masked) instead of making them
# The password is never an argument of any command (it reaches the AWS CLI in a private file).
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

region=""
project=ghost-ha
dry_run=false
while (($# > 0)); do
  case "$1" in
  --region) region="${2:?--region needs a value, e.g. --region eu-west-1}"; shift 2 ;;
  --project) project="${2:?--project needs a value, e.g. --project ghost-ha}"; shift 2 ;;
  --dry-run) dry_run=true; shift ;;
  -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  *) die "Unknown argument '$1'. Run scripts/create-app-db-user.sh --help." ;;
  esac
done
[[ -n "$region" ]] || die "--region is required, e.g. --region eu-west-1 (where the global writer is)."
command -v aws >/dev/null || die "The AWS CLI v2 is needed: https://docs.aws.amazon.com/cli/"

if [[ "$dry_run" == true ]]; then
  cluster_arn="<$project-data.ClusterArn>"
  master_arn="<$project/database ARN>"
  username=ghost_app
  password='<password-from-secret>'
else
  cluster_arn="$(aws cloudformation describe-stacks --region "$region" --stack-name "$project-data" \
    --query "Stacks[0].Outputs[?OutputKey=='ClusterArn'].OutputValue | [0]" --output text)"
  [[ "$cluster_arn" == arn:* ]] || die "Stack $project-data in $region has no ClusterArn output: deploy the data stack first."
  master_arn="$(aws secretsmanager describe-secret --region "$region" --secret-id "$project/database" --query ARN --output text)"
  app_secret="$(aws secretsmanager get-secret-value --region "$region" --secret-id "$project/database-app" --query SecretString --output text)"
  username="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["username"])' <<<"$app_secret")"
  password="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])' <<<"$app_secret")"
  # The generated values are letters and digits (ExcludePunctuation): safe inside SQL quotes.
  [[ "$username$password" =~ ^[A-Za-z0-9_]+$ ]] || die "The $project/database-app secret holds characters this script does not quote; use letters, digits and _."
fi

statements=(
  "CREATE USER IF NOT EXISTS '$username'@'%' IDENTIFIED BY '$password'"
  "ALTER USER '$username'@'%' IDENTIFIED BY '$password'"
  "GRANT ALL PRIVILEGES ON \`ghost\`.* TO '$username'@'%'"
  # Ghost and the health-sidecar connect over TLS (database__connection__ssl); nothing may without.
  "ALTER USER '$username'@'%' REQUIRE SSL"
)
# The statements carry the password, so they reach the AWS CLI in a file only this user can read
# (--cli-input-json), never as arguments: every local user can read a process's command line.
statement_dir="$(mktemp -d)"
trap 'rm -rf "$statement_dir"' EXIT
statement_file="$statement_dir/statement.json"
for sql in "${statements[@]}"; do
  log "${sql//"$password"/********}"
  (umask 077 && SQL="$sql" RESOURCE_ARN="$cluster_arn" SECRET_ARN="$master_arn" python3 -c '
import json, os
print(json.dumps({"resourceArn": os.environ["RESOURCE_ARN"], "secretArn": os.environ["SECRET_ARN"], "database": "ghost", "sql": os.environ["SQL"]}))
' >"$statement_file")
  if [[ "$dry_run" == true ]]; then
    printf 'aws rds-data execute-statement --region %q --cli-input-json file://<statement: %q>\n' \
      "$region" "${sql//"$password"/********}"
  else
    aws rds-data execute-statement --region "$region" --cli-input-json "file://$statement_file" >/dev/null
  fi
done
log "Ghost's database user '$username' has every privilege on the ghost schema only, over TLS only."
