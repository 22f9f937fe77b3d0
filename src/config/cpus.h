// How many CPUs this process may actually use, for sizing thread pools by default. A container
// or `taskset` gives a process fewer CPUs than the machine has: std::thread::hardware_concurrency
// counts the machine's online CPUs, so a pool sized by it oversubscribes (threads that take turns
// on the same core, each turn a context switch).
#pragma once

#include <optional>
#include <string_view>

namespace shortener {

// min(CPUs in this thread's affinity mask, the cgroup v2 CPU quota rounded up), at least 1.
// Falls back to hardware_concurrency when the affinity mask cannot be read.
unsigned usable_cpus();

// The CPUs a cgroup v2 `cpu.max` line ("QUOTA PERIOD", both in µs, or "max PERIOD") allows,
// rounded up: "150000 100000" -> 2. nullopt for no limit ("max") or a malformed line.
std::optional<unsigned> cpus_from_cpu_max(std::string_view line);

// The cgroup v2 path in a /proc/self/cgroup text ("0::/kubepods/pod1/c1" -> "/kubepods/pod1/c1").
// nullopt on a cgroup v1 system (no "0::" line).
std::optional<std::string_view> cgroup2_path(std::string_view proc_self_cgroup);

}  // namespace shortener
