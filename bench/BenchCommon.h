#pragma once
// Shared pieces of sedx-bench: options, the one device, our allocator's session, the raw-VMA
// baseline (a separate VmaAllocator with our flags), the driver baselines, seeded inputs, and the
// extra figures that go into the ratio table's JSON.
//
// Every scenario group lives in its own file and registers its benchmarks through one
// Register*Benchmarks() function, called by main.cpp in a fixed order.

#include "Testing/Builders.h"

#include <SceneryEditorX/Memory.h>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace SceneryEditorX::Bench
{

// ------------------------------------------------------------------ options
struct Options
{
    bool quick = false;     ///< smoke run: tiny times and counts, figures not meaningful
    int64_t iterations = 0; ///< > 0: a fixed iteration count instead of minimum times (profiling runs)
};
Options& GetOptions();

/// Applies the suite's time controls to a benchmark: nanoseconds and a minimum time (short in
/// quick mode). With Options::iterations, a fixed count of max(1, iterations / iterationDivisor)
/// instead (heavy scenarios, whose iteration is a batch or a round, pass a divisor).
benchmark::internal::Benchmark* Configure(benchmark::internal::Benchmark* b, double minTimeSeconds = 0.2,
                                          int64_t iterationDivisor = 1);

/// Rounds of a scenario group: each round registers every variant of the group once, so the
/// variants run interleaved (A B C D, A B C D, ...) and a slow phase of a shared machine hits them
/// alike; the table takes the median over the rounds. 1 in quick and fixed-iteration runs.
int Rounds(int full);

// ------------------------------------------------------------------ the device
bool CreateDevice();
void DestroyDevice();
VulkanDevice& Device();
const Ref<VulkanDevice>& DeviceRef();

// ------------------------------------------------------------------ our allocator
enum class SessionKind
{
    Default,        ///< AllocatorSettings{} as shipped
    ForceGpuDefrag, ///< AllocatorSettings{} with forceGpuDefragmentationCopies = true
};
AllocatorSettings SettingsFor(SessionKind kind);
/// Makes sure our global allocator is initialized with `kind`'s settings. `fresh` re-initializes
/// even when it already is (empty pools, zero counters). Releases the statistics live set first
/// whenever it has to re-initialize. Returns false if Init failed.
bool UseSession(SessionKind kind, bool fresh = false);
void EndSession();
/// Restores the default session when destroyed (scenarios that need a fresh or special one).
class ScopedSession
{
public:
    ScopedSession(SessionKind kind, bool fresh) : m_Ok(UseSession(kind, fresh)) {}
    ~ScopedSession() { UseSession(SessionKind::Default, true); }
    ScopedSession(const ScopedSession&) = delete;
    ScopedSession& operator=(const ScopedSession&) = delete;
    bool Ok() const { return m_Ok; }

private:
    bool m_Ok;
};
/// Live allocations kept for the statistics scenario (e) across its benchmarks; released on any
/// session change (StatsBench.cpp).
void ReleaseStatsLiveSet();

// ------------------------------------------------------------------ the raw-VMA baseline
/// A new VmaAllocator on the same device with the flags our Init uses (budget extension, memory
/// priority, buffer device address, maintenance4 where the device has them), the same API version
/// and VMA's own Vulkan function import. Null on failure.
VmaAllocator CreateRawVma();
void DestroyRawVma(VmaAllocator& allocator);
/// The long-lived raw allocator of the micro-benchmarks (warm, like our long-lived one).
VmaAllocator SharedRawVma();
void DestroySharedRawVma();
/// A description of the raw allocator's setup, for the output.
nlohmann::json RawVmaSetup();

// ------------------------------------------------------------------ inputs and usage bits
/// Buffer usage as our allocator creates it (TRANSFER_SRC|TRANSFER_DST added when the setting
/// addTransferUsage is on), so that the baselines create the same buffers.
VkBufferUsageFlags EffectiveBufferUsage(VkBufferUsageFlags requested);
/// Image usage as our allocator creates it (transfer bits where the format supports them).
VkImageUsageFlags EffectiveImageUsage(VkFormat format, VkImageUsageFlags requested);
using Test::BufferInfo; // the builders the tests use (testing/Testing/Builders.h)
/// 2D RGBA8 image of side x side with a full mip chain, optimal tiling.
VkImageCreateInfo SquareImageInfo(uint32_t side, VkImageUsageFlags usage);

/// A small deterministic generator (SplitMix64): the same seed gives the same sequence anywhere.
struct SplitMix
{
    uint64_t state;
    uint64_t Next();
    double Unit(); ///< [0, 1)
};
/// `count` sizes spread log-uniformly over [min, max], rounded up to `granule` bytes.
std::vector<VkDeviceSize> MixedSizes(size_t count, VkDeviceSize min, VkDeviceSize max, uint64_t seed,
                                     VkDeviceSize granule = 16);

// ------------------------------------------------------------------ driver baselines
/// The memory type raw VMA picks for a buffer of `usage` (the baselines use it). UINT32_MAX on failure.
uint32_t BufferMemoryType(VmaAllocator allocator, VmaMemoryUsage usage, VkBufferUsageFlags bufferUsage);
/// vkAllocateMemory with the same pNext chain VMA gives its blocks (device-address flag with buffer
/// device address, priority 0.5 with memory priority).
VkResult AllocateLikeVma(VkDeviceSize size, uint32_t memoryType, VkDeviceMemory& out);

/// Device memory allocated before a driver-floor loop and freed after it.
class FloorMemory
{
public:
    FloorMemory(VkDeviceSize size, uint32_t memoryType);
    ~FloorMemory();
    FloorMemory(const FloorMemory&) = delete;
    FloorMemory& operator=(const FloorMemory&) = delete;
    VkDeviceMemory Get() const { return m_Memory; }
    VkDeviceSize Size() const { return m_Size; }
    bool Ok() const { return m_Memory != VK_NULL_HANDLE; }

private:
    VkDeviceMemory m_Memory = VK_NULL_HANDLE;
    VkDeviceSize m_Size = 0;
};

// ------------------------------------------------------------------ one timed buffer pair
// The bodies of the buffer scenarios' timed loops: create one buffer and free it again, through ours,
// raw VMA or the driver floor. On failure each skips the run with the failed call's name and
// returns false, and the loop stops. Inline: they run inside the measured iterations.

/// Skips the run with `error`; false, for `return SkipRun(...)` in the helpers below.
inline bool SkipRun(benchmark::State& state, const char* error)
{
    state.SkipWithError(error);
    return false;
}

inline bool OursBufferPair(benchmark::State& state, MemoryAllocator& allocator,
                           const VkBufferCreateInfo& info, VmaMemoryUsage usage)
{
    VkBuffer buffer = VK_NULL_HANDLE;
    VmaAllocation allocation = allocator.AllocateBuffer(info, usage, buffer);
    if (!allocation)
        return SkipRun(state, "AllocateBuffer failed");
    allocator.DestroyBuffer(buffer, allocation);
    return true;
}

inline bool RawVmaBufferPair(benchmark::State& state, VmaAllocator vma, const VkBufferCreateInfo& info,
                             const VmaAllocationCreateInfo& createInfo)
{
    VkBuffer buffer = VK_NULL_HANDLE;
    VmaAllocation allocation = nullptr;
    if (vmaCreateBuffer(vma, &info, &createInfo, &buffer, &allocation, nullptr) != VK_SUCCESS)
        return SkipRun(state, "vmaCreateBuffer failed");
    vmaDestroyBuffer(vma, buffer, allocation);
    return true;
}

/// The timed loop of a mixed-size scenario: each iteration gives `pair` the create info with the next
/// size of `sizes` (a power-of-two count, walked from index `first` and wrapping); stops when `pair`
/// returns false.
template <typename Pair>
void RunSizedPairs(benchmark::State& state, VkBufferCreateInfo info, const std::vector<VkDeviceSize>& sizes,
                   size_t first, Pair&& pair)
{
    const size_t mask = sizes.size() - 1;
    size_t i = first;
    for (auto _ : state)
    {
        info.size = sizes[i++ & mask];
        if (!pair(info))
            break;
    }
}

/// The driver floor: vkCreateBuffer, bound at offset 0 of `memory`, vkDestroyBuffer.
inline bool FloorBufferPair(benchmark::State& state, VkDevice device, const FloorMemory& memory,
                            const VkBufferCreateInfo& info)
{
    VkBuffer buffer = VK_NULL_HANDLE;
    if (vkCreateBuffer(device, &info, nullptr, &buffer) != VK_SUCCESS)
        return SkipRun(state, "vkCreateBuffer failed");
    VkMemoryRequirements req{};
    vkGetBufferMemoryRequirements(device, buffer, &req);
    const bool bound =
        req.size <= memory.Size() && vkBindBufferMemory(device, buffer, memory.Get(), 0) == VK_SUCCESS;
    vkDestroyBuffer(device, buffer, nullptr);
    return bound || SkipRun(state, "vkBindBufferMemory failed");
}

// ------------------------------------------------------------------ per-pool figures
/// Where the committed bytes are: per pool (VMA's default pool of each memory type, and each custom
/// pool) its blocks, empty blocks, block and used bytes, preferred block size and dedicated bytes,
/// from VMA's detailed statistics dump (a walk: for reports, not for frames).
nlohmann::json PoolBreakdown(VmaAllocator allocator);
/// The granularity floor of a PoolBreakdown: the best committed/live its block sizes allow, every
/// custom pool packed into ceil(used / block size) blocks of its block size, VMA's default pools
/// into blocks of the smallest size they make (an eighth of the preferred size), dedicated
/// allocations as they are.
double GranularityFloor(const nlohmann::json& pools);

// ------------------------------------------------------------------ extra figures
/// Figures beyond Google Benchmark's (memory types, trace series, moved regions): written to the
/// ratio table's JSON under "extras". Thread safe.
void RecordExtra(const std::string& key, nlohmann::json value);
nlohmann::json Extras();

/// CPU time of the calling thread, in seconds (the time base of the single-thread rows).
double ThreadCpuSeconds();

/// Names of VMA memory usages as the table prints them.
const char* UsageName(VmaMemoryUsage usage);

// ------------------------------------------------------------------ scenario groups
void RegisterAllocationBenchmarks();  // (a) buffer pairs, (b) images
void RegisterBatchBenchmarks();       // (c)
void RegisterThreadBenchmarks();      // (d)
void RegisterStatsBenchmarks();       // (e)
void RegisterChurnTraceBenchmarks();  // (f)
void RegisterDefragBenchmarks();      // (g)
void RegisterSteadyChurnBenchmarks(); // (h)
void RegisterLargeTraceBenchmarks();  // (i)

/// Sizes of the statistics scenario's live sets (100 and 100,000; smaller in quick mode).
std::vector<int64_t> StatsLiveCounts();
/// Thread counts of scenario (d).
std::vector<int> ThreadCounts();

} // namespace SceneryEditorX::Bench
