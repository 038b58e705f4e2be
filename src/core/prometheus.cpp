#include "core/prometheus.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace exceed::core::prom {

void Histogram::observe(double v) {
  std::size_t i = 0;
  while (i < bounds.size() && v > bounds[i]) ++i;
  counts[i] += 1;
  sum += v;
  count += 1;
}

void Registry::describe(std::string name, Type type, std::string help, std::vector<double> buckets) {
  auto& f = families_[std::move(name)];
  f.type = type;
  f.help = std::move(help);
  f.buckets = std::move(buckets);
}

Registry::Family& Registry::family(std::string_view name, Type type) {
  auto it = families_.find(name);
  if (it == families_.end() || it->second.type != type)
    throw std::logic_error("metric family not declared: " + std::string(name));
  return it->second;
}

double& Registry::counter(std::string_view name, Labels const& labels) {
  return family(name, Type::counter).values[render_labels(labels)];
}

double& Registry::gauge(std::string_view name, Labels const& labels) {
  return family(name, Type::gauge).values[render_labels(labels)];
}

Histogram& Registry::histogram(std::string_view name, Labels const& labels) {
  auto& f = family(name, Type::histogram);
  auto [it, fresh] = f.histograms.try_emplace(render_labels(labels));
  if (fresh) {
    it->second.bounds = f.buckets;
    it->second.counts.assign(f.buckets.size() + 1, 0.0);
  }
  return it->second;
}

void Registry::clear(std::string_view name) { family(name, Type::gauge).values.clear(); }

namespace {
void escape_into(std::string& out, std::string_view s, bool quote) {
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"' && quote) out += "\\\"";
    else out += c;
  }
}

// Adds one label to an already rendered label set ("" or "{...}").
std::string with_label(std::string const& labels, std::string_view name, std::string const& value) {
  std::string extra = std::string(name) + "=\"" + value + "\"";
  if (labels.empty()) return "{" + extra + "}";
  return labels.substr(0, labels.size() - 1) + "," + extra + "}";
}

char const* type_name(Registry::Type t) {
  switch (t) {
    case Registry::Type::counter: return "counter";
    case Registry::Type::gauge: return "gauge";
    case Registry::Type::histogram: return "histogram";
  }
  return "untyped";
}
}  // namespace

std::string render_labels(Labels const& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += labels[i].first;
    out += "=\"";
    escape_into(out, labels[i].second, true);
    out += '"';
  }
  out += '}';
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc{}) return "NaN";
  return std::string(buf, end);
}

std::string Registry::render() const {
  std::string out;
  for (auto const& [name, f] : families_) {
    out += "# HELP " + name + " ";
    escape_into(out, f.help, false);
    out += "\n# TYPE " + name + " " + type_name(f.type) + "\n";
    if (f.type != Type::histogram) {
      for (auto const& [labels, value] : f.values) out += name + labels + " " + format_value(value) + "\n";
      continue;
    }
    for (auto const& [labels, h] : f.histograms) {
      double cumulative = 0;
      for (std::size_t i = 0; i < h.counts.size(); ++i) {
        cumulative += h.counts[i];
        std::string le = i < h.bounds.size() ? format_value(h.bounds[i]) : "+Inf";
        out += name + "_bucket" + with_label(labels, "le", le) + " " + format_value(cumulative) + "\n";
      }
      out += name + "_sum" + labels + " " + format_value(h.sum) + "\n";
      out += name + "_count" + labels + " " + format_value(h.count) + "\n";
    }
  }
  return out;
}

}  // namespace exceed::core::prom
