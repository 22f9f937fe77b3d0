output "folder_uid" {
  description = "UID of the Grafana folder holding the dashboards."
  value       = grafana_folder.shortener.uid
}

output "dashboard_urls" {
  description = "Each dashboard's URL, by JSON file name."
  value       = { for file, dashboard in grafana_dashboard.shortener : file => dashboard.url }
}

output "dashboard_uids" {
  description = "Each dashboard's UID (from its JSON), by JSON file name."
  value       = { for file, dashboard in grafana_dashboard.shortener : file => dashboard.uid }
}

output "prometheus_data_source_uid" {
  description = "UID of the Prometheus data source created here, or null when prometheus_url was empty."
  value       = one(grafana_data_source.prometheus[*].uid)
}
