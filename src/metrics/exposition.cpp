#include "metrics/exposition.h"

#include <cmath>
#include <cstdio>

namespace shortener::metrics {

namespace {

void append_number(std::string& out, double value) {
  char text[64];
  if (std::isnan(value))
    out += "NaN";
  else if (value == std::floor(value) && std::fabs(value) < 1e15)
    out.append(text, static_cast<std::size_t>(std::snprintf(text, sizeof text, "%.0f", value)));
  else
    out.append(text, static_cast<std::size_t>(std::snprintf(text, sizeof text, "%.9g", value)));
}

void append_header(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
  out.append(name).append(" ").append(type).append("\n");
}

}  // namespace

std::string escape_label(std::string_view value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == '"') escaped += '\\';
    if (c == '\n') {
      escaped += "\\n";
      continue;
    }
    escaped += c;
  }
  return escaped;
}

void append(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            double value) {
  append_header(out, name, type, help);
  out.append(name).append(" ");
  append_number(out, value);
  out += '\n';
}

void append_labelled(std::string& out, std::string_view name, std::string_view type,
                     std::string_view help, std::string_view label, std::string_view label_value,
                     double value) {
  append_header(out, name, type, help);
  out.append(name).append("{").append(label).append("=\"");
  out.append(escape_label(label_value)).append("\"} ");
  append_number(out, value);
  out += '\n';
}

void render_histogram(std::string& out, std::string_view name, std::string_view help,
                      const double* bounds, const std::uint64_t* counts, std::size_t n,
                      double sum) {
  append_header(out, name, "histogram", help);
  std::uint64_t cumulative = 0;
  char le[32];
  for (std::size_t i = 0; i < n; ++i) {
    cumulative += counts[i];
    std::snprintf(le, sizeof le, "%g", bounds[i]);
    out.append(name).append("_bucket{le=\"").append(le).append("\"} ");
    append_number(out, static_cast<double>(cumulative));
    out += '\n';
  }
  cumulative += counts[n];
  out.append(name).append("_bucket{le=\"+Inf\"} ");
  append_number(out, static_cast<double>(cumulative));
  out.append("\n").append(name).append("_sum ");
  append_number(out, sum);
  out.append("\n").append(name).append("_count ");
  append_number(out, static_cast<double>(cumulative));
  out += '\n';
}

}  // namespace shortener::metrics
