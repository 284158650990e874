#!/usr/bin/env bash
# Creates Ghost's own database user from the <project>/database-app secret: every privilege on the
# ghost schema, nothing else, and only over TLS (REQUIRE SSL). The health sidecar uses the same user and needs, in that schema, CREATE,
# SELECT, INSERT, UPDATE and DELETE on its table ghost_ha_lease and CREATE, DROP (TRUNCATE) and INSERT
# on ghost_ha_heartbeat (covered). Runs once after the primary data stack is deployed (and again after a
# password change); the user lives in the global database, so the secondary has it too. Goes through
# the RDS Data API (enabled on the primary cluster) as the master user: no network path to the
# database is needed.
# On a database no Ghost has run on yet (no `migrations` table in the ghost schema) it also writes
# the health-sidecar's lease row, released and without a holder (services/health-sidecar/README.md,
# "A fresh database"): otherwise the first task waits one lease TTL before its Ghost starts. An
# existing row is never overwritten, and a database Ghost ran on gets no row.
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
[[ -d "$REPO_ROOT/node_modules" ]] || die "Dependencies are not installed: run 'npm ci' in $REPO_ROOT first."

# The lease table, its released row and the lock name the sidecar uses (LOCK_NAME is not set in
# app.yaml: the default for the ghost database), from packages/core, where the sidecar reads them.
lease="$(cd "$REPO_ROOT" && node --conditions=source --import tsx --input-type=module -e '
import { defaultLockName, leaseTableDdl, provisionLeaseSql } from "@ghost-ha/core";
console.log(JSON.stringify({ lock: defaultLockName("ghost"), table: leaseTableDdl(), row: provisionLeaseSql() }));
')" || die "Could not read the lease table's definition from packages/core (see above)."
lease_part() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1" <<<"$lease"; }

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
# Runs one statement: SQL, then optionally a value for its :lock parameter and the AWS CLI's
# --query/--output arguments for what to print (nothing by default).
run_statement() {
  local sql="$1" lock="${2:-}"
  shift 2 || shift $#
  log "${sql//"$password"/********}"
  (umask 077 && SQL="$sql" LOCK="$lock" RESOURCE_ARN="$cluster_arn" SECRET_ARN="$master_arn" python3 -c '
import json, os
statement = {"resourceArn": os.environ["RESOURCE_ARN"], "secretArn": os.environ["SECRET_ARN"], "database": "ghost", "sql": os.environ["SQL"]}
if os.environ["LOCK"]:
    statement["parameters"] = [{"name": "lock", "value": {"stringValue": os.environ["LOCK"]}}]
print(json.dumps(statement))
' >"$statement_file")
  if [[ "$dry_run" == true ]]; then
    printf 'aws rds-data execute-statement --region %q --cli-input-json file://<statement: %q>\n' \
      "$region" "${sql//"$password"/********}"
  elif (($# > 0)); then
    aws rds-data execute-statement --region "$region" --cli-input-json "file://$statement_file" "$@"
  else
    aws rds-data execute-statement --region "$region" --cli-input-json "file://$statement_file" >/dev/null
  fi
}
for sql in "${statements[@]}"; do run_statement "$sql"; done
log "Ghost's database user '$username' has every privilege on the ghost schema only, over TLS only."

run_statement "$(lease_part table)"
ghost_ran="SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ghost' AND TABLE_NAME = 'migrations'"
ghost_tables=""
if [[ "$dry_run" == true ]]; then
  run_statement "$ghost_ran" ""
else
  ghost_tables="$(run_statement "$ghost_ran" "" --query 'records[0][0].longValue' --output text)"
fi
if [[ "$dry_run" == true || "$ghost_tables" == 0 ]]; then
  lock="$(lease_part lock)"
  run_statement "$(lease_part row | sed 's/VALUES (?,/VALUES (:lock,/')" "$lock"
  log "The lease row '$lock' is written, released: the first task starts Ghost without waiting a lease TTL."
elif [[ "$ghost_tables" =~ ^[0-9]+$ ]]; then
  log "Ghost has run on this database (its migrations table exists): its lease row is left as it is."
else
  die "Could not tell whether Ghost has run on this database (got '$ghost_tables'); the lease row was not written."
fi
