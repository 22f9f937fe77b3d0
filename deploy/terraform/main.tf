# Applies the dashboards in deploy/grafana/dashboards/*.json to a Grafana instance with the
# Grafana provider: one folder, one grafana_dashboard per JSON file (a new file is picked up by
# the next `terraform apply`), and optionally the Prometheus data source they query.
#
#   cd deploy/terraform
#   export TF_VAR_grafana_url=https://grafana.example.com/ TF_VAR_grafana_auth=glsa_...
#   terraform init && terraform plan && terraform apply
#
# The same JSON files are provisioned from disk by docker-compose (deploy/grafana/provisioning);
# tests/observability checks that this configuration parses and names only existing files.

provider "grafana" {
  url  = var.grafana_url
  auth = var.grafana_auth
}

locals {
  dashboards_dir = "${path.module}/../grafana/dashboards"
  # Keyed by file name, so renaming a dashboard's title does not recreate it.
  dashboard_files = fileset(local.dashboards_dir, "*.json")
}

resource "grafana_folder" "shortener" {
  title = var.folder_title
  uid   = var.folder_uid
}

resource "grafana_data_source" "prometheus" {
  count = var.prometheus_url == "" ? 0 : 1

  type       = "prometheus"
  name       = "Prometheus (shortener)"
  uid        = "shortener-prometheus"
  url        = var.prometheus_url
  is_default = true

  json_data_encoded = jsonencode({
    httpMethod   = "POST"
    timeInterval = var.prometheus_scrape_interval
  })
}

resource "grafana_dashboard" "shortener" {
  for_each = local.dashboard_files

  config_json = file("${local.dashboards_dir}/${each.value}")
  folder      = grafana_folder.shortener.uid
  overwrite   = true
  message     = "Applied by deploy/terraform from deploy/grafana/dashboards/${each.value}"
}
