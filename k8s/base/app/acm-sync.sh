#!/usr/bin/env bash
# Imports the TLS certificate that cert-manager keeps in a Secret into AWS Certificate Manager,
# where the ALB can use it (the AWS Load Balancer Controller reads certificates from ACM only and
# finds this one by its host name). Runs in the acm-sync CronJob with the Secret mounted:
#   TLS_DIR    directory holding tls.crt (leaf, then the chain) and tls.key   (default /tls)
#   TLS_HOST   the certificate's host name                                     (required)
#   AWS_REGION region of the ALB                                               (default us-east-1)
# The first run imports a new ACM certificate; later runs re-import into the same ARN only when
# cert-manager has renewed the certificate, so the ALB listener follows without any change.
set -euo pipefail

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 0
fi

tls_dir="${TLS_DIR:-/tls}"
host="${TLS_HOST:?TLS_HOST is required}"
region="${AWS_REGION:-us-east-1}"
log() { echo "acm-sync: $*" >&2; }

[[ -s "$tls_dir/tls.crt" && -s "$tls_dir/tls.key" ]] || {
  log "no certificate in $tls_dir yet (cert-manager has not issued it); nothing to do"
  exit 0
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# ACM takes the leaf and the chain separately; tls.crt holds the leaf first.
blocks=0
while IFS= read -r line || [[ -n "$line" ]]; do
  [[ "$line" == "-----BEGIN CERTIFICATE-----" ]] && blocks=$((blocks + 1))
  if ((blocks == 1)); then
    printf '%s\n' "$line" >>"$work/leaf.pem"
  elif ((blocks > 1)); then
    printf '%s\n' "$line" >>"$work/chain.pem"
  fi
done <"$tls_dir/tls.crt"
((blocks >= 1)) || { log "$tls_dir/tls.crt holds no PEM certificate"; exit 1; }

# ListCertificates returns RSA-2048 certificates only unless asked for other key types.
arn="$(aws acm list-certificates --region "$region" \
  --includes keyTypes=RSA_2048,RSA_3072,RSA_4096,EC_prime256v1,EC_secp384r1 \
  --query "CertificateSummaryList[?DomainName=='$host' && Type=='IMPORTED'].CertificateArn | [0]" \
  --output text)"
[[ "$arn" == "None" ]] && arn=""

if [[ -n "$arn" ]]; then
  aws acm get-certificate --region "$region" --certificate-arn "$arn" \
    --query Certificate --output text >"$work/current.pem"
  if [[ "$(tr -d ' \n\r' <"$work/current.pem")" == "$(tr -d ' \n\r' <"$work/leaf.pem")" ]]; then
    log "ACM already has the current certificate for $host ($arn)"
    exit 0
  fi
fi

import=(aws acm import-certificate --region "$region"
  --certificate "fileb://$work/leaf.pem" --private-key "fileb://$tls_dir/tls.key")
[[ -s "$work/chain.pem" ]] && import+=(--certificate-chain "fileb://$work/chain.pem")
if [[ -n "$arn" ]]; then
  import+=(--certificate-arn "$arn")
else
  import+=(--tags "Key=shortener-host,Value=$host")
fi
arn="$("${import[@]}" --query CertificateArn --output text)"
log "imported the certificate for $host into ACM: $arn"
