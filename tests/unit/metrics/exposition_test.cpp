#include "metrics/exposition.h"

#include <gtest/gtest.h>

namespace shortener::metrics {
namespace {

TEST(Exposition, SingleValueHasHelpTypeAndSample) {
  std::string out;
  append(out, "shortener_x_total", "counter", "Things.", 42);
  EXPECT_EQ(out,
            "# HELP shortener_x_total Things.\n# TYPE shortener_x_total counter\n"
            "shortener_x_total 42\n");
}

TEST(Exposition, FractionsKeepTheirPrecision) {
  std::string out;
  append(out, "g", "gauge", "h", 0.00125);
  EXPECT_NE(out.find("\ng 0.00125\n"), std::string::npos) << out;
}

TEST(Exposition, LabelValuesAreEscaped) {
  EXPECT_EQ(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  std::string out;
  append_labelled(out, "g", "gauge", "h", "path", "/x\"y", 1);
  EXPECT_NE(out.find("g{path=\"/x\\\"y\"} 1\n"), std::string::npos) << out;
}

TEST(Exposition, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Histogram<3> histogram({1, 10, 100});
  for (double v : {0.5, 1.0, 5.0, 50.0, 500.0, 1000.0}) histogram.observe(v);
  std::string out;
  histogram.render(out, "h", "help");
  EXPECT_NE(out.find("# TYPE h histogram\n"), std::string::npos);
  EXPECT_NE(out.find("h_bucket{le=\"1\"} 2\n"), std::string::npos) << out;  // le is inclusive
  EXPECT_NE(out.find("h_bucket{le=\"10\"} 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("h_bucket{le=\"100\"} 4\n"), std::string::npos) << out;
  EXPECT_NE(out.find("h_bucket{le=\"+Inf\"} 6\n"), std::string::npos) << out;
  EXPECT_NE(out.find("h_sum 1556.5\n"), std::string::npos) << out;
  EXPECT_NE(out.find("h_count 6\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace shortener::metrics
