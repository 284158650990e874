#!/usr/bin/env bash
# Creates Ghost's own database users from the <project>/database-app secret: every privilege on the
# ghost schema, nothing else, and only over TLS (REQUIRE SSL). The health sidecar uses the same user and needs, in that schema, CREATE,
# SELECT, INSERT, UPDATE and DELETE on its table ghost_ha_lease and CREATE, DROP (TRUNCATE) and INSERT
# on ghost_ha_heartbeat (covered). Runs once after the primary data stack is deployed; the users live in
# the global database, so the secondary has them too. Goes through the RDS Data API (enabled on the
# primary cluster) as the master user: no network path to the database is needed.
# On a database no Ghost has run on yet (no `migrations` table in the ghost schema) it also writes
# the health-sidecar's lease row, released and without a holder (services/health-sidecar/README.md,
# "A fresh database"): otherwise the first task waits one lease TTL before its Ghost starts. An
# existing row is never overwritten, and a database Ghost ran on gets no row.
#
# Two users alternate (Secrets Manager's "alternating users" rotation strategy,
# https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotation-strategy.html): the one the
# secret names (e.g. ghost_app) and its partner with the suffix _clone (ghost_app_clone), the name
# Secrets Manager's MySQL multi-user rotation function gives it. A rotation sets a new password on the
# partner and makes the secret name it: the login a running task was given at start keeps working
# until the next rotation, so neither Ghost's new connections nor the sidecar's fail in between.
#
# Usage: scripts/create-app-db-user.sh --region REGION [--project NAME] [--rotate [--force]] [--dry-run]
#   --region REGION   the region whose cluster is the global writer (the primary, e.g. eu-west-1)
#   --project NAME    the stacks' ProjectName (default ghost-ha)
#   --rotate          rotate: a new password for the partner user, then the secret names it
#                     (AWSPENDING first, AWSCURRENT once the database has it). Refused while a task of
#                     the region's service started before the last rotation (it still uses the login
#                     this one would change): restart the service first (health-sidecar README,
#                     "Rotating the database password")
#   --force           rotate even so (that task's new database connections are refused from then on)
#   --dry-run         print the AWS CLI calls (password masked) instead of making them
# The password is never an argument of any command (it reaches the AWS CLI in a private file).
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

region=""
project=ghost-ha
dry_run=false
rotate=false
force=false
while (($# > 0)); do
  case "$1" in
  --region) region="${2:?--region needs a value, e.g. --region eu-west-1}"; shift 2 ;;
  --project) project="${2:?--project needs a value, e.g. --project ghost-ha}"; shift 2 ;;
  --rotate) rotate=true; shift ;;
  --force) force=true; shift ;;
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

# Letters and digits only, so the values are safe inside SQL quotes (as the secret's, ExcludePunctuation).
random_password() {
  python3 -c 'import secrets, string; a = string.ascii_letters + string.digits; print("".join(secrets.choice(a) for _ in range(40)))'
}

# The other user of the alternating pair: ghost_app <-> ghost_app_clone.
partner_of() {
  if [[ "$1" == *_clone ]]; then printf '%s' "${1%_clone}"; else printf '%s' "$1_clone"; fi
}

if [[ "$dry_run" == true ]]; then
  cluster_arn="<$project-data.ClusterArn>"
  master_arn="<$project/database ARN>"
  username=ghost_app
  password='<password-from-secret>'
  current_version='<current-version-id>'
else
  cluster_arn="$(aws cloudformation describe-stacks --region "$region" --stack-name "$project-data" \
    --query "Stacks[0].Outputs[?OutputKey=='ClusterArn'].OutputValue | [0]" --output text)"
  [[ "$cluster_arn" == arn:* ]] || die "Stack $project-data in $region has no ClusterArn output: deploy the data stack first."
  master_arn="$(aws secretsmanager describe-secret --region "$region" --secret-id "$project/database" --query ARN --output text)"
  app_secret="$(aws secretsmanager get-secret-value --region "$region" --secret-id "$project/database-app" \
    --version-stage AWSCURRENT --query '{s:SecretString,v:VersionId}' --output json)"
  username="$(python3 -c 'import json,sys; print(json.loads(json.load(sys.stdin)["s"])["username"])' <<<"$app_secret")"
  password="$(python3 -c 'import json,sys; print(json.loads(json.load(sys.stdin)["s"])["password"])' <<<"$app_secret")"
  current_version="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["v"])' <<<"$app_secret")"
  # The generated values are letters and digits (ExcludePunctuation): safe inside SQL quotes.
  [[ "$username$password" =~ ^[A-Za-z0-9_]+$ ]] || die "The $project/database-app secret holds characters this script does not quote; use letters, digits and _."
fi
partner="$(partner_of "$username")"
(("${#partner}" <= 32)) || die "User '$partner' is longer than MySQL's 32 characters; shorten the secret's username."

# Files only this user can read, removed at exit: the statements and secret values carry passwords.
private_dir="$(mktemp -d)"
trap 'rm -rf "$private_dir"' EXIT
private_file="$private_dir/input.json"
masked() {
  local text="$1" secret
  for secret in "${@:2}"; do text="${text//"$secret"/********}"; done
  printf '%s' "$text"
}

# One statement through the Data API; its text reaches the AWS CLI in a private file (--cli-input-json),
# never as an argument: every local user can read a process's command line.
run_sql() {
  local sql="$1"
  log "$(masked "$sql" "${@:2}")"
  (umask 077 && SQL="$sql" RESOURCE_ARN="$cluster_arn" SECRET_ARN="$master_arn" python3 -c '
import json, os
print(json.dumps({"resourceArn": os.environ["RESOURCE_ARN"], "secretArn": os.environ["SECRET_ARN"], "database": "ghost", "sql": os.environ["SQL"]}))
' >"$private_file")
  if [[ "$dry_run" == true ]]; then
    printf 'aws rds-data execute-statement --region %q --cli-input-json file://<statement: %q>\n' \
      "$region" "$(masked "$sql" "${@:2}")"
  else
    aws rds-data execute-statement --region "$region" --cli-input-json "file://$private_file" >/dev/null
  fi
}

# A statement without secrets that may take the lock name as its :lock parameter (a value, never
# spliced into SQL) and the AWS CLI's --query/--output arguments for what to print.
run_lease_sql() {
  local sql="$1" lock="${2:-}"
  shift 2 || shift $#
  log "$sql"
  (umask 077 && SQL="$sql" LOCK="$lock" RESOURCE_ARN="$cluster_arn" SECRET_ARN="$master_arn" python3 -c '
import json, os
statement = {"resourceArn": os.environ["RESOURCE_ARN"], "secretArn": os.environ["SECRET_ARN"], "database": "ghost", "sql": os.environ["SQL"]}
if os.environ["LOCK"]:
    statement["parameters"] = [{"name": "lock", "value": {"stringValue": os.environ["LOCK"]}}]
print(json.dumps(statement))
' >"$private_file")
  if [[ "$dry_run" == true ]]; then
    printf 'aws rds-data execute-statement --region %q --cli-input-json file://<statement: %q>\n' "$region" "$sql"
  elif (($# > 0)); then
    aws rds-data execute-statement --region "$region" --cli-input-json "file://$private_file" "$@"
  else
    aws rds-data execute-statement --region "$region" --cli-input-json "file://$private_file" >/dev/null
  fi
}

# The health-sidecar's lease table, and its released row on a database no Ghost has run on.
provision_lease() {
  run_lease_sql "$(lease_part table)"
  local ghost_ran="SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ghost' AND TABLE_NAME = 'migrations'"
  local ghost_tables="" lock
  if [[ "$dry_run" == true ]]; then
    run_lease_sql "$ghost_ran" ""
  else
    ghost_tables="$(run_lease_sql "$ghost_ran" "" --query 'records[0][0].longValue' --output text)"
  fi
  if [[ "$dry_run" == true || "$ghost_tables" == 0 ]]; then
    lock="$(lease_part lock)"
    run_lease_sql "$(lease_part row | sed 's/VALUES (?,/VALUES (:lock,/')" "$lock"
    log "The lease row '$lock' is written, released: the first task starts Ghost without waiting a lease TTL."
  elif [[ "$ghost_tables" =~ ^[0-9]+$ ]]; then
    log "Ghost has run on this database (its migrations table exists): its lease row is left as it is."
  else
    die "Could not tell whether Ghost has run on this database (got '$ghost_tables'); the lease row was not written."
  fi
}

# Every privilege on the ghost schema, over TLS only: Ghost and the health-sidecar connect with
# database__connection__ssl; nothing may without.
grant_and_require_tls() {
  run_sql "GRANT ALL PRIVILEGES ON \`ghost\`.* TO '$1'@'%'"
  run_sql "ALTER USER '$1'@'%' REQUIRE SSL"
}

if [[ "$rotate" == false ]]; then
  # The partner exists from the start with a password nobody holds; it gets a real one at its rotation.
  # Its password is never changed here: after a rotation a running task may still use it.
  unused="$(random_password)"
  run_sql "CREATE USER IF NOT EXISTS '$username'@'%' IDENTIFIED BY '$password'" "$password"
  run_sql "ALTER USER '$username'@'%' IDENTIFIED BY '$password'" "$password"
  grant_and_require_tls "$username"
  run_sql "CREATE USER IF NOT EXISTS '$partner'@'%' IDENTIFIED BY '$unused'" "$unused"
  grant_and_require_tls "$partner"
  log "Ghost's database users '$username' (in use) and '$partner' (next rotation) have every privilege on the ghost schema only, over TLS only."
  provision_lease
  exit 0
fi

# A running task was given the login at its start; after one rotation that login is the previous one,
# which this rotation would change: refused until the service restarted (or --force).
if [[ "$dry_run" == false && "$force" == false ]]; then
  rotated_at="$(aws secretsmanager list-secret-version-ids --region "$region" --secret-id "$project/database-app" \
    --query "Versions[?contains(VersionStages, 'AWSCURRENT')].CreatedDate | [0]" --output text)"
  task_arns="$(aws ecs list-tasks --region "$region" --cluster "$project" --service-name "$project-ghost" \
    --desired-status RUNNING --query 'taskArns' --output text)"
  if [[ -n "$task_arns" && "$task_arns" != None ]]; then
    read -r -a task_list <<<"$task_arns"
    started="$(aws ecs describe-tasks --region "$region" --cluster "$project" --tasks "${task_list[@]}" \
      --query 'tasks[].startedAt' --output text)"
    older="$(ROTATED_AT="$rotated_at" STARTED="$started" python3 -c '
import os
from datetime import datetime
def when(text):
    text = text.strip()
    try:
        return datetime.fromtimestamp(float(text)).astimezone()
    except ValueError:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone()
rotated = when(os.environ["ROTATED_AT"])
print(sum(1 for s in os.environ["STARTED"].split() if s not in ("", "None") and when(s) < rotated))
')"
    ((older == 0)) || die "$older running task(s) of $project-ghost in $region started before the last rotation ($rotated_at): they still use '$(partner_of "$username")', which this rotation would change. Restart the service first (aws ecs update-service --region $region --cluster $project --service $project-ghost --force-new-deployment), or pass --force."
  fi
fi

# Rotation, in the steps of Secrets Manager's rotation functions (create, set, finish):
# https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html
new_password="$(random_password)"
pending_token="$(python3 -c 'import uuid; print(uuid.uuid4())')"
secret_input() {
  (umask 077 && SECRET_ID="$project/database-app" TOKEN="$pending_token" USERNAME="$partner" PASSWORD="$new_password" python3 -c '
import json, os
value = json.dumps({"username": os.environ["USERNAME"], "password": os.environ["PASSWORD"]})
print(json.dumps({"SecretId": os.environ["SECRET_ID"], "ClientRequestToken": os.environ["TOKEN"], "SecretString": value, "VersionStages": ["AWSPENDING"]}))
' >"$private_file")
}
log "Rotating $project/database-app from '$username' to '$partner' (a new password for '$partner'; '$username' keeps its own)."
# 1. The new login as the secret's AWSPENDING version: nothing reads it yet.
secret_input
if [[ "$dry_run" == true ]]; then
  printf 'aws secretsmanager put-secret-value --region %q --cli-input-json file://<AWSPENDING: username %q, password ********>\n' "$region" "$partner"
else
  aws secretsmanager put-secret-value --region "$region" --cli-input-json "file://$private_file" >/dev/null
fi
# 2. The partner's password in the database (and its grants, should it be missing).
run_sql "CREATE USER IF NOT EXISTS '$partner'@'%' IDENTIFIED BY '$new_password'" "$new_password"
run_sql "ALTER USER '$partner'@'%' IDENTIFIED BY '$new_password'" "$new_password"
grant_and_require_tls "$partner"
# 3. AWSCURRENT moves to the new version (the old one becomes AWSPREVIOUS); AWSPENDING is taken off.
finish=(aws secretsmanager update-secret-version-stage --region "$region" --secret-id "$project/database-app")
if [[ "$dry_run" == true ]]; then
  printf '%q ' "${finish[@]}" --version-stage AWSCURRENT --move-to-version-id "$pending_token" --remove-from-version-id "$current_version"
  printf '\n'
else
  "${finish[@]}" --version-stage AWSCURRENT --move-to-version-id "$pending_token" --remove-from-version-id "$current_version" >/dev/null
  "${finish[@]}" --version-stage AWSPENDING --remove-from-version-id "$pending_token" >/dev/null
fi
log "Rotated: $project/database-app names '$partner' now. Running tasks keep working on '$username' until the next rotation: restart the service (a new deployment) before rotating again."
