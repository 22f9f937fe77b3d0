#include "config/cpus.h"

#include <gtest/gtest.h>

#include <thread>

namespace shortener {
namespace {

TEST(CpuMax, RoundsTheQuotaUpToWholeCpus) {
  EXPECT_EQ(cpus_from_cpu_max("100000 100000\n"), 1u);
  EXPECT_EQ(cpus_from_cpu_max("150000 100000\n"), 2u);
  EXPECT_EQ(cpus_from_cpu_max("50000 100000"), 1u);  // half a CPU still needs one thread
  EXPECT_EQ(cpus_from_cpu_max("400000 100000"), 4u);
  EXPECT_EQ(cpus_from_cpu_max("1 1000000"), 1u);
}

TEST(CpuMax, NoLimitOrGarbageIsNoAnswer) {
  EXPECT_EQ(cpus_from_cpu_max("max 100000\n"), std::nullopt);
  EXPECT_EQ(cpus_from_cpu_max(""), std::nullopt);
  EXPECT_EQ(cpus_from_cpu_max("100000"), std::nullopt);      // no period
  EXPECT_EQ(cpus_from_cpu_max("0 100000"), std::nullopt);    // a zero quota is not a limit
  EXPECT_EQ(cpus_from_cpu_max("100000 0"), std::nullopt);    // nor a zero period
  EXPECT_EQ(cpus_from_cpu_max("-1 100000"), std::nullopt);   // negative
  EXPECT_EQ(cpus_from_cpu_max("1e5 100000"), std::nullopt);  // not an integer
  EXPECT_EQ(cpus_from_cpu_max("100000 100000 7"), std::nullopt);
}

TEST(CpuMax, AHugeQuotaIsBounded) {
  EXPECT_EQ(cpus_from_cpu_max("18446744073709551615 1"), 65536u);
}

TEST(Cgroup2Path, FindsTheUnifiedHierarchyLine) {
  EXPECT_EQ(cgroup2_path("0::/kubepods/burstable/pod1/c1\n"), "/kubepods/burstable/pod1/c1");
  EXPECT_EQ(cgroup2_path("0::/\n"), "/");
  // Hybrid systems list v1 controllers first.
  EXPECT_EQ(cgroup2_path("12:cpu,cpuacct:/docker/x\n1:name=systemd:/x\n0::/docker/x\n"),
            "/docker/x");
  EXPECT_EQ(cgroup2_path("0::/no-newline"), "/no-newline");
}

TEST(Cgroup2Path, CgroupV1OnlyHasNone) {
  EXPECT_EQ(cgroup2_path("4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n"), std::nullopt);
  EXPECT_EQ(cgroup2_path(""), std::nullopt);
}

TEST(UsableCpus, IsAtLeastOneAndAtMostTheMachine) {
  unsigned cpus = usable_cpus();
  EXPECT_GE(cpus, 1u);
  unsigned machine = std::thread::hardware_concurrency();
  if (machine > 0) {
    EXPECT_LE(cpus, machine);
  }
}

}  // namespace
}  // namespace shortener
