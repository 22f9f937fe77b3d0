#!/usr/bin/env bash
# Creates the ECR repository the shortener image is pushed to (one image for serve, worker and
# migrate; tags are commit SHAs, so tags are immutable) and, with --github-repo, the IAM role
# .github/workflows/deploy.yml assumes through GitHub's OIDC provider. Nothing runs unless you
# call it; --dry-run prints every command instead of running it and changes nothing.
#
#   --repository NAME        ECR repository                               (default shortener)
#   --github-repo OWNER/NAME also create the deploy role shortener-github-deploy, trusted for
#                            workflow runs on that repository's main branch: push to the
#                            repository, describe the EKS cluster
#   --cluster NAME           EKS cluster the role may describe            (default shortener)
#   --dry-run                print the commands, run none
#   --help                   this text
#
# Then: store the printed role ARN as the repository secret AWS_DEPLOY_ROLE_ARN, and give the
# role rights in the cluster with scripts/setup-eks.sh --deploy-role-arn ARN.
set -euo pipefail

usage() {
  sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

die() {
  echo "setup-ecr: $*" >&2
  exit 1
}

readonly REGION=us-east-1
readonly ROLE_NAME=shortener-github-deploy
readonly OIDC_HOST=token.actions.githubusercontent.com
repository=shortener
github_repo=""
cluster=shortener
dry_run=0
while (($#)); do
  case "$1" in
    --repository) repository="${2:?--repository needs a value}"; shift 2 ;;
    --github-repo) github_repo="${2:?--github-repo needs a value}"; shift 2 ;;
    --cluster) cluster="${2:?--cluster needs a value}"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "setup-ecr: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ -z "$github_repo" || "$github_repo" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] ||
  die "--github-repo must be OWNER/NAME"

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"  # run: runs a command, or prints it with --dry-run

account="<account-id>"
if ((!dry_run)); then
  command -v aws >/dev/null || die "aws is required"
  account="$(aws sts get-caller-identity --query Account --output text)"
fi
registry="$account.dkr.ecr.$REGION.amazonaws.com"

if ((!dry_run)) && aws ecr describe-repositories --region "$REGION" \
  --repository-names "$repository" >/dev/null 2>&1; then
  echo "setup-ecr: repository $repository exists" >&2
else
  run aws ecr create-repository --region "$REGION" --repository-name "$repository" \
    --image-tag-mutability IMMUTABLE --image-scanning-configuration scanOnPush=true
fi
# Keep the newest 50 images (each is one commit of main): enough to roll back, bounded storage.
run aws ecr put-lifecycle-policy --region "$REGION" --repository-name "$repository" \
  --lifecycle-policy-text '{"rules":[{"rulePriority":1,"description":"keep the newest 50 images","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":50},"action":{"type":"expire"}}]}'

role_arn=""
if [[ -n "$github_repo" ]]; then
  provider_arn="arn:aws:iam::$account:oidc-provider/$OIDC_HOST"
  if ((!dry_run)) && aws iam get-open-id-connect-provider \
    --open-id-connect-provider-arn "$provider_arn" >/dev/null 2>&1; then
    echo "setup-ecr: the GitHub OIDC provider exists" >&2
  else
    run aws iam create-open-id-connect-provider --url "https://$OIDC_HOST" \
      --client-id-list sts.amazonaws.com
  fi
  trust="$(cat <<EOF
{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
 "Principal":{"Federated":"$provider_arn"},"Action":"sts:AssumeRoleWithWebIdentity",
 "Condition":{"StringEquals":{"$OIDC_HOST:aud":"sts.amazonaws.com",
  "$OIDC_HOST:sub":"repo:$github_repo:ref:refs/heads/main"}}}]}
EOF
)"
  permissions="$(cat <<EOF
{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"},
 {"Effect":"Allow","Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage",
  "ecr:CompleteLayerUpload","ecr:DescribeImages","ecr:GetDownloadUrlForLayer",
  "ecr:InitiateLayerUpload","ecr:PutImage","ecr:UploadLayerPart"],
  "Resource":"arn:aws:ecr:$REGION:$account:repository/$repository"},
 {"Effect":"Allow","Action":"eks:DescribeCluster",
  "Resource":"arn:aws:eks:$REGION:$account:cluster/$cluster"}]}
EOF
)"
  if ((!dry_run)) && aws iam get-role --role-name "$ROLE_NAME" >/dev/null 2>&1; then
    run aws iam update-assume-role-policy --role-name "$ROLE_NAME" --policy-document "$trust"
  else
    run aws iam create-role --role-name "$ROLE_NAME" --assume-role-policy-document "$trust"
  fi
  run aws iam put-role-policy --role-name "$ROLE_NAME" --policy-name shortener-deploy \
    --policy-document "$permissions"
  role_arn="arn:aws:iam::$account:role/$ROLE_NAME"
fi

echo "registry: $registry"
echo "repository: $registry/$repository"
if [[ -n "$role_arn" ]]; then
  echo "deploy role: $role_arn"
  echo "next: gh secret set AWS_DEPLOY_ROLE_ARN --body '$role_arn' --repo $github_repo"
  echo "      scripts/setup-eks.sh ... --deploy-role-arn $role_arn"
fi
