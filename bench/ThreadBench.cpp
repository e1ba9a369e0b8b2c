// (d) 1, 2, 4, 8 and 16 threads, each doing allocate+free pairs (GPU_ONLY, mixed sizes 1 KiB..
//     256 KiB, each thread its own walk through the list): ours (one MemoryAllocator instance per
//     thread, one shared tag, the one global allocator; Default, and SpeedOptimized, which serves
//     the requests from its reuse cache once warm; and SpeedOptimized with a tag per thread, to
//     show what the shared tag's counters cost), raw VMA (one shared VmaAllocator), and the
//     driver floor (each thread binds into its own memory allocated beforehand).
//
//     The counter pairs_per_s is the aggregate rate: each thread's pairs divided by that thread's
//     own wall time, summed over the threads (Google Benchmark sums counters across threads).
#include "BenchCommon.h"

#include <chrono>
#include <string>

namespace SceneryEditorX::Bench
{
namespace
{
constexpr VkBufferUsageFlags kUsage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_VERTEX_BUFFER_BIT;
constexpr size_t kSizeCount = 4096;
using Clock = std::chrono::steady_clock;

const std::vector<VkDeviceSize>& ThreadSizes()
{
    static const std::vector<VkDeviceSize> sizes = MixedSizes(kSizeCount, 1024, 256 * 1024, 0x7EAD'5000ull);
    return sizes;
}

void Finish(benchmark::State& state, Clock::time_point start)
{
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    state.SetItemsProcessed(state.iterations());
    state.counters["pairs_per_s"] =
        benchmark::Counter(seconds > 0 ? static_cast<double>(state.iterations()) / seconds : 0.0);
}

/// This thread's timed loop: its own walk through the size list (each thread starts at its own place),
/// then its rate (Finish).
template <typename Pair>
void RunThreadPairs(benchmark::State& state, const VkBufferCreateInfo& info, Pair&& pair)
{
    const auto& sizes = ThreadSizes();
    const Clock::time_point start = Clock::now();
    RunSizedPairs(state, info, sizes, static_cast<size_t>(state.thread_index()) * 257, pair);
    Finish(state, start);
}

void OursThreads(benchmark::State& state, MemoryAllocator::AllocationStrategy strategy, bool tagPerThread)
{
    // The default session is up before the run (main.cpp); threads must not re-initialize it.
    MemoryAllocator allocator(tagPerThread ? "bench-mt-" + std::to_string(state.thread_index()) : "bench-mt");
    allocator.SetAllocationStrategy(strategy);
    RunThreadPairs(state, BufferInfo(0, kUsage),
                   [&](const VkBufferCreateInfo& info)
                   { return OursBufferPair(state, allocator, info, VMA_MEMORY_USAGE_GPU_ONLY); });
}

void RawVmaThreads(benchmark::State& state)
{
    VmaAllocator vma = SharedRawVma(); // created before the run (main.cpp)
    VmaAllocationCreateInfo aci{};
    aci.usage = VMA_MEMORY_USAGE_GPU_ONLY;
    RunThreadPairs(state, BufferInfo(0, EffectiveBufferUsage(kUsage)),
                   [&](const VkBufferCreateInfo& info) { return RawVmaBufferPair(state, vma, info, aci); });
}

void DriverFloorThreads(benchmark::State& state)
{
    const VkDevice device = Device().GetDevice();
    const VkBufferUsageFlags usage = EffectiveBufferUsage(kUsage);
    FloorMemory memory(1024 * 1024, BufferMemoryType(SharedRawVma(), VMA_MEMORY_USAGE_GPU_ONLY, usage));
    if (!memory.Ok())
        return state.SkipWithError("floor memory allocation failed");
    RunThreadPairs(state, BufferInfo(0, usage),
                   [&](const VkBufferCreateInfo& info)
                   { return FloorBufferPair(state, device, memory, info); });
}

void PrepareThreads(const benchmark::State&)
{
    // Runs once before the threads start: the shared session and raw allocator must exist.
    UseSession(SessionKind::Default);
    SharedRawVma();
}

void FinishThreads(const benchmark::State&)
{
    // Runs once after the threads: SpeedOptimized's cached buffers must not stay in the shared pools.
    MemoryAllocator::ReleaseReuseCache();
}
} // namespace

void RegisterThreadBenchmarks()
{
    for (int round = 0; round < Rounds(3); ++round)
        for (int threads : ThreadCounts())
        {
            Configure(benchmark::RegisterBenchmark("d/threads/ours", OursThreads,
                                                   MemoryAllocator::AllocationStrategy::Default, false),
                      0.25)
                ->Threads(threads)
                ->UseRealTime()
                ->Setup(PrepareThreads)
                ->Teardown(FinishThreads);
            Configure(benchmark::RegisterBenchmark("d/threads/ours_speed", OursThreads,
                                                   MemoryAllocator::AllocationStrategy::SpeedOptimized,
                                                   false),
                      0.25)
                ->Threads(threads)
                ->UseRealTime()
                ->Setup(PrepareThreads)
                ->Teardown(FinishThreads);
            // The same with a tag per thread: how much of the curve is the one tag's shared counters.
            Configure(benchmark::RegisterBenchmark("d/threads/ours_speed_own_tag", OursThreads,
                                                   MemoryAllocator::AllocationStrategy::SpeedOptimized, true),
                      0.25)
                ->Threads(threads)
                ->UseRealTime()
                ->Setup(PrepareThreads)
                ->Teardown(FinishThreads);
            Configure(benchmark::RegisterBenchmark("d/threads/raw_vma", RawVmaThreads), 0.25)
                ->Threads(threads)
                ->UseRealTime()
                ->Setup(PrepareThreads)
                ->Teardown(FinishThreads);
            Configure(benchmark::RegisterBenchmark("d/threads/driver_floor", DriverFloorThreads), 0.25)
                ->Threads(threads)
                ->UseRealTime()
                ->Setup(PrepareThreads)
                ->Teardown(FinishThreads);
        }
}

} // namespace SceneryEditorX::Bench
