variable "grafana_url" {
  description = "Base URL of the Grafana instance, e.g. https://grafana.example.com/ (TF_VAR_grafana_url)."
  type        = string

  validation {
    condition     = can(regex("^https?://", var.grafana_url))
    error_message = "grafana_url must start with http:// or https://."
  }
}

variable "grafana_auth" {
  description = "A Grafana service account token (glsa_...), or \"user:password\" for basic auth (TF_VAR_grafana_auth). Never commit it."
  type        = string
  sensitive   = true
}

variable "folder_title" {
  description = "Title of the Grafana folder that holds the shortener dashboards."
  type        = string
  default     = "Shortener"
}

variable "folder_uid" {
  description = "UID of that folder (stable, so links to it survive a re-apply)."
  type        = string
  default     = "shortener"
}

variable "prometheus_url" {
  description = "When set, also create a Prometheus data source with this URL (e.g. http://prometheus-server.monitoring.svc:80). Leave empty when Grafana already has one: the dashboards pick it with their data source variable."
  type        = string
  default     = ""
}

variable "prometheus_scrape_interval" {
  description = "Scrape interval of that Prometheus; Grafana derives $__rate_interval from it (at least 4 scrapes per rate window)."
  type        = string
  default     = "15s"
}
