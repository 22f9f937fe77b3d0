#!/usr/bin/env bash
# Creates the shortener's EKS cluster in us-east-1 and everything the manifests rely on, then
# deploys k8s/overlays/prod and prints the Route 53 record to create. Nothing runs unless you
# call it; --dry-run prints every command instead of running it and changes nothing.
#
#   1. writes an eksctl ClusterConfig (one managed node group of 1-3 t3.small spot nodes; IAM
#      roles for the service accounts of the load balancer controller, cert-manager, Fluent Bit
#      and acm-sync) and creates the cluster with it;
#   2. installs metrics-server (for the HPA), the AWS Load Balancer Controller and cert-manager
#      (Helm), and a Let's Encrypt ClusterIssuer "letsencrypt" solving DNS-01 in Route 53;
#   3. installs Prometheus (scrape jobs deploy/prometheus/k8s-scrape-configs.yaml, rules
#      deploy/prometheus/alerts.yml) and Grafana in namespace monitoring, and Fluent Bit
#      (deploy/fluent-bit) shipping logs to CloudWatch;
#   4. in namespace shortener: generates the credentials (Secrets shortener-postgresql,
#      shortener-redis, shortener-secrets; kept if they exist), installs Bitnami PostgreSQL and
#      Redis with deploy/helm/*-values.yaml, applies k8s/overlays/prod;
#   5. optionally lets the GitHub deploy role (scripts/setup-ecr.sh) manage the app namespaces;
#   6. waits for the ALB and prints the CNAME for the Ingress host (k8s/overlays/prod).
#
# Needs aws, eksctl, kubectl (kustomize v4 or newer: kubectl 1.21+), helm, openssl.
#
#   --hosted-zone-id ID   Route 53 zone of the Ingress host (DNS-01 challenges)   (required)
#   --email ADDRESS       Let's Encrypt account e-mail                             (required)
#   --cluster NAME        cluster name                                  (default shortener)
#   --deploy-role-arn ARN IAM role of .github/workflows/deploy.yml to grant edit rights in
#                         the namespaces shortener and shortener-dev
#   --config-out FILE     where to write the ClusterConfig          (default ./eks-cluster.yaml)
#   --dry-run             print the commands, run none
#   --help                this text
set -euo pipefail

usage() {
  sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

die() {
  echo "setup-eks: $*" >&2
  exit 1
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REGION=us-east-1          # k8s/base (acm-sync) and deploy/fluent-bit name it too
readonly VPC_CIDR=192.168.0.0/16   # SHORTENER_TRUST_PROXY in k8s/base/app/api-config.yaml
readonly APP_NAMESPACE=shortener
readonly CERT_MANAGER_VERSION=v1.16.2

cluster=shortener
zone=""
email=""
deploy_role=""
config_out="$PWD/eks-cluster.yaml"
dry_run=0
while (($#)); do
  case "$1" in
    --hosted-zone-id) zone="${2:?--hosted-zone-id needs a value}"; shift 2 ;;
    --email) email="${2:?--email needs a value}"; shift 2 ;;
    --cluster) cluster="${2:?--cluster needs a value}"; shift 2 ;;
    --deploy-role-arn) deploy_role="${2:?--deploy-role-arn needs a value}"; shift 2 ;;
    --config-out) config_out="${2:?--config-out needs a value}"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "setup-eks: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ -n "$zone" ]] || die "--hosted-zone-id is required"
[[ -n "$email" ]] || die "--email is required"

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"  # run: runs a command, or prints it with --dry-run
say() { printf '\n==> %s\n' "$*" >&2; }  # after lib.sh: this script's own format
# apply_stdin: kubectl apply -f - of the manifest on stdin, or prints it with --dry-run.
apply_stdin() {
  if ((dry_run)); then
    echo "+ kubectl apply -f - <<'EOF'"
    cat
    echo "EOF"
  else
    kubectl apply -f -
  fi
}

if ((!dry_run)); then
  for tool in aws eksctl kubectl helm openssl; do
    command -v "$tool" >/dev/null || die "$tool is required"
  done
  kubectl version --client 2>/dev/null | grep -Eq 'Kustomize Version: v[4-9]' ||
    die "kubectl with kustomize v4+ is required (kubectl 1.21 or newer)"
fi

# The Ingress host is whatever k8s/overlays/prod says: one place to change it.
host="$(kubectl kustomize "$root/k8s/overlays/prod" 2>/dev/null | sed -n 's/^ *- host: *//p' | head -n 1)"
[[ -n "$host" ]] || die "no Ingress host in k8s/overlays/prod"

say "1. EKS cluster $cluster in $REGION (ClusterConfig: $config_out)"
cat >"$config_out" <<EOF
# Written by scripts/setup-eks.sh. One managed node group of t3.small spot nodes (1-3) in public
# subnets: no NAT gateway to pay for; pods reach out through the nodes' public addresses.
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: $cluster
  region: $REGION
  version: "1.31"
vpc:
  cidr: $VPC_CIDR
  nat:
    gateway: Disable
accessConfig:
  authenticationMode: API_AND_CONFIG_MAP
iam:
  withOIDC: true
  serviceAccounts:
    - metadata:
        name: aws-load-balancer-controller
        namespace: kube-system
      wellKnownPolicies:
        awsLoadBalancerController: true
    - metadata:
        name: cert-manager
        namespace: cert-manager
      wellKnownPolicies:
        certManager: true
    - metadata:
        name: fluent-bit
        namespace: amazon-cloudwatch
      attachPolicyARNs:
        - arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy
    - metadata:
        name: acm-sync
        namespace: shortener
      attachPolicy: &acm-sync-policy
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action:
              - acm:ImportCertificate
              - acm:ListCertificates
              - acm:GetCertificate
              - acm:AddTagsToCertificate
            Resource: "*"
    - metadata:
        name: acm-sync
        namespace: shortener-dev
      attachPolicy: *acm-sync-policy
addons:
  - name: vpc-cni
  - name: coredns
  - name: kube-proxy
  - name: aws-ebs-csi-driver
    wellKnownPolicies:
      ebsCSIController: true
managedNodeGroups:
  - name: spot-t3-small
    instanceTypes: [t3.small]
    spot: true
    minSize: 1
    maxSize: 3
    desiredCapacity: 2
    volumeSize: 20
    privateNetworking: false
EOF
((dry_run)) && cat "$config_out" >&2
if ((!dry_run)) && eksctl get cluster --name "$cluster" --region "$REGION" >/dev/null 2>&1; then
  echo "setup-eks: cluster $cluster exists; creating any missing service account roles" >&2
  run eksctl create iamserviceaccount --config-file "$config_out" --approve
else
  run eksctl create cluster --config-file "$config_out"
fi
run aws eks update-kubeconfig --name "$cluster" --region "$REGION"

say "2. metrics-server, AWS Load Balancer Controller, cert-manager, ClusterIssuer letsencrypt"
run helm repo add metrics-server https://kubernetes-sigs.github.io/metrics-server/ --force-update
run helm repo add eks https://aws.github.io/eks-charts --force-update
run helm repo add jetstack https://charts.jetstack.io --force-update
run helm repo add prometheus-community https://prometheus-community.github.io/helm-charts --force-update
run helm repo add grafana https://grafana.github.io/helm-charts --force-update
run helm repo add bitnami https://charts.bitnami.com/bitnami --force-update
run helm repo update
run helm upgrade --install metrics-server metrics-server/metrics-server \
  --namespace kube-system --wait
vpc_id="<vpc-id>"
if ((!dry_run)); then
  vpc_id="$(aws eks describe-cluster --name "$cluster" --region "$REGION" \
    --query cluster.resourcesVpcConfig.vpcId --output text)"
fi
run helm upgrade --install aws-load-balancer-controller eks/aws-load-balancer-controller \
  --namespace kube-system --set clusterName="$cluster" --set region="$REGION" \
  --set vpcId="$vpc_id" --set serviceAccount.create=false \
  --set serviceAccount.name=aws-load-balancer-controller --wait
run helm upgrade --install cert-manager jetstack/cert-manager --namespace cert-manager \
  --version "$CERT_MANAGER_VERSION" --set crds.enabled=true \
  --set serviceAccount.create=false --set serviceAccount.name=cert-manager --wait
apply_stdin <<EOF
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: letsencrypt
spec:
  acme:
    server: https://acme-v02.api.letsencrypt.org/directory
    email: $email
    privateKeySecretRef:
      name: letsencrypt-account-key
    solvers:
      # DNS-01 needs no route to the cluster, so the certificate can be issued before the ALB
      # has one (the ALB itself waits for the certificate in ACM).
      - dns01:
          route53:
            region: $REGION
            hostedZoneID: $zone
EOF

say "3. Prometheus and Grafana (namespace monitoring), Fluent Bit -> CloudWatch Logs"
run helm upgrade --install prometheus prometheus-community/prometheus --namespace monitoring \
  --create-namespace --set alertmanager.enabled=false --set prometheus-pushgateway.enabled=false \
  --set prometheus-node-exporter.enabled=false --set kube-state-metrics.enabled=false \
  --set server.persistentVolume.size=8Gi --set server.retention=15d \
  --set-file extraScrapeConfigs="$root/deploy/prometheus/k8s-scrape-configs.yaml" \
  --set-file 'serverFiles.alerting_rules\.yml'="$root/deploy/prometheus/alerts.yml" --wait
run helm upgrade --install grafana grafana/grafana --namespace monitoring \
  --set persistence.enabled=true --set persistence.size=2Gi --wait
run kubectl apply -k "$root/deploy/fluent-bit"

say "4. namespace $APP_NAMESPACE: credentials, PostgreSQL, Redis, the shortener"
# As k8s/overlays/prod/namespace.yaml declares it (created first: the Secrets go in before).
apply_stdin <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $APP_NAMESPACE
  labels:
    elbv2.k8s.aws/pod-readiness-gate-inject: enabled
EOF
# secret NAME KEY=VALUE...: creates the Secret unless it exists (credentials are never rotated
# by re-running this). Values go through a private file, not the command line.
secret() {
  local name="$1"
  shift
  if ((dry_run)); then
    echo "+ kubectl -n $APP_NAMESPACE create secret generic $name (keys: ${*%%=*}; values generated)"
    return 0
  fi
  if kubectl -n "$APP_NAMESPACE" get secret "$name" >/dev/null 2>&1; then
    echo "setup-eks: secret $name exists, kept" >&2
    return 0
  fi
  local file
  file="$(mktemp)"
  chmod 600 "$file"
  printf '%s\n' "$@" >"$file"
  kubectl -n "$APP_NAMESPACE" create secret generic "$name" --from-env-file="$file"
  rm -f "$file"
}
if ((dry_run)); then
  pg_password="<generated>" redis_password="<generated>" admin_key="<generated>"
else
  pg_password="$(openssl rand -hex 24)"
  redis_password="$(openssl rand -hex 24)"
  admin_key="sk_$(openssl rand -hex 20)"
fi
# The passwords are read back from the Secrets when these already exist, so the URLs match.
if ((!dry_run)) && kubectl -n "$APP_NAMESPACE" get secret shortener-postgresql >/dev/null 2>&1; then
  pg_password="$(kubectl -n "$APP_NAMESPACE" get secret shortener-postgresql \
    -o jsonpath='{.data.password}' | base64 -d)"
fi
if ((!dry_run)) && kubectl -n "$APP_NAMESPACE" get secret shortener-redis >/dev/null 2>&1; then
  redis_password="$(kubectl -n "$APP_NAMESPACE" get secret shortener-redis \
    -o jsonpath='{.data.redis-password}' | base64 -d)"
fi
postgres_admin_password="<generated>"
((dry_run)) || postgres_admin_password="$(openssl rand -hex 24)"
secret shortener-postgresql "password=$pg_password" "postgres-password=$postgres_admin_password"
secret shortener-redis "redis-password=$redis_password"
secret shortener-secrets \
  "SHORTENER_DATABASE_URL=postgres://shortener:$pg_password@shortener-postgresql:5432/shortener" \
  "SHORTENER_REDIS_URL=redis://:$redis_password@shortener-redis-master:6379" \
  "SHORTENER_ADMIN_KEY=$admin_key"
run helm upgrade --install shortener-postgresql bitnami/postgresql --version '^12' \
  --namespace "$APP_NAMESPACE" -f "$root/deploy/helm/postgresql-values.yaml" --wait
run helm upgrade --install shortener-redis bitnami/redis --version '^19' \
  --namespace "$APP_NAMESPACE" -f "$root/deploy/helm/redis-values.yaml" --wait
run kubectl apply -k "$root/k8s/overlays/prod"
echo "setup-eks: the Deployments start once .github/workflows/deploy.yml has set their image" \
  "(push to main, or run it by hand); it also runs the migrate Job" >&2

if [[ -n "$deploy_role" ]]; then
  say "5. edit rights for $deploy_role in namespaces shortener, shortener-dev"
  run aws eks create-access-entry --cluster-name "$cluster" --region "$REGION" \
    --principal-arn "$deploy_role"
  run aws eks associate-access-policy --cluster-name "$cluster" --region "$REGION" \
    --principal-arn "$deploy_role" \
    --policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy \
    --access-scope type=namespace,namespaces=shortener,shortener-dev
fi

say "6. DNS"
alb="<alb-hostname>"
if ((!dry_run)); then
  alb=""
  for _ in $(seq 60); do
    alb="$(kubectl -n "$APP_NAMESPACE" get ingress shortener \
      -o jsonpath='{.status.loadBalancer.ingress[0].hostname}' 2>/dev/null || true)"
    [[ -n "$alb" ]] && break
    sleep 10
  done
  [[ -n "$alb" ]] || die "the Ingress has no ALB after 10 minutes: kubectl -n $APP_NAMESPACE describe ingress shortener"
fi
cat <<EOF

Create this record in the Route 53 hosted zone $zone:
  $host.  CNAME  $alb
(for a zone apex use an alias A record to the ALB instead of a CNAME), e.g.
  aws route53 change-resource-record-sets --hosted-zone-id $zone --change-batch \\
    '{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"$host","Type":"CNAME","TTL":300,"ResourceRecords":[{"Value":"$alb"}]}}]}'
HTTPS answers once cert-manager has issued the certificate and the acm-sync CronJob has
imported it into ACM (kubectl -n $APP_NAMESPACE create job --from=cronjob/acm-sync acm-sync-now).
The admin API key: kubectl -n $APP_NAMESPACE get secret shortener-secrets \\
  -o jsonpath='{.data.SHORTENER_ADMIN_KEY}' | base64 -d
Grafana: kubectl -n monitoring port-forward svc/grafana 3000:80, then deploy/terraform with
  TF_VAR_grafana_url=http://localhost:3000/ and prometheus_url=http://prometheus-server.monitoring.svc
EOF
