#pragma once
// How much memory this process may still take, so a run whose shapes need more can be refused with
// the figures before it allocates (and is killed, or fails with a bare "out of memory", half way).
#include <cstdint>
#include <optional>

namespace melodist {

// The least of: MemAvailable (/proc/meminfo), the cgroup v2 limit minus its usage
// (/sys/fs/cgroup/memory.max, memory.current), and RLIMIT_AS minus this process's address space
// (VmSize). Absent when none of them can be read.
std::optional<double> available_memory_bytes();

}  // namespace melodist
