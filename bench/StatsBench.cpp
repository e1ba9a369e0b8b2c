// (e) GetStats, GetMemoryBudget and ContainsAllocation with 100 and with 100,000 live allocations
//     (256-byte GPU_ONLY buffers made through ours), next to VMA's own vmaCalculateStatistics (a
//     walk) and vmaGetHeapBudgets (counters) on the same allocator as reference points, and our
//     exact CalculateStats (a walk plus VMA's JSON dump).
//
//     The live set is made once per count and kept across the benchmarks of that count; any
//     session change releases it (BenchCommon.cpp).
#include "BenchCommon.h"

#include <array>
#include <chrono>
#include <memory>

namespace SceneryEditorX::Bench
{
namespace
{
struct LiveSet
{
    std::unique_ptr<MemoryAllocator> allocator;
    std::vector<std::pair<VkBuffer, VmaAllocation>> live;
    double createSeconds = 0;
};
LiveSet s_Live;

bool EnsureLiveSet(size_t count)
{
    if (!MemoryAllocator::IsInitialized() && !UseSession(SessionKind::Default))
        return false;
    if (s_Live.allocator && s_Live.live.size() == count)
        return true;
    ReleaseStatsLiveSet();
    s_Live.allocator = std::make_unique<MemoryAllocator>("bench-live");
    s_Live.live.reserve(count);
    const VkBufferCreateInfo info = BufferInfo(256, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT);
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < count; ++i)
    {
        VkBuffer buffer = VK_NULL_HANDLE;
        VmaAllocation allocation = s_Live.allocator->AllocateBuffer(info, VMA_MEMORY_USAGE_GPU_ONLY, buffer);
        if (!allocation)
            return false;
        s_Live.live.emplace_back(buffer, allocation);
    }
    s_Live.createSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    RecordExtra("stats_live_set/" + std::to_string(count),
                {{"allocations", count},
                 {"buffer_bytes", 256},
                 {"create_seconds", s_Live.createSeconds},
                 {"committed_bytes", s_Live.allocator->GetStats().totalBytes}});
    return true;
}

template <class Fn>
void StatsLoop(benchmark::State& state, Fn&& fn)
{
    const auto count = static_cast<size_t>(state.range(0));
    if (!EnsureLiveSet(count))
        return state.SkipWithError("could not make the live set");
    for (auto _ : state)
        fn();
    state.counters["live"] = static_cast<double>(count);
    state.SetItemsProcessed(state.iterations());
}

void GetStatsBench(benchmark::State& state)
{
    MemoryAllocator allocator("bench");
    StatsLoop(state, [&] { benchmark::DoNotOptimize(allocator.GetStats()); });
}

void GetMemoryBudgetBench(benchmark::State& state)
{
    MemoryAllocator allocator("bench");
    StatsLoop(state, [&] { benchmark::DoNotOptimize(allocator.GetMemoryBudget()); });
}

void ContainsAllocationBench(benchmark::State& state)
{
    size_t i = 0;
    StatsLoop(state,
              [&]
              {
                  // Walk the live handles in a scattered order (a multiplicative step through the set).
                  const size_t n = s_Live.live.size();
                  i = (i + 7919) % n;
                  benchmark::DoNotOptimize(MemoryAllocator::ContainsAllocation(s_Live.live[i].second));
              });
}

void CalculateStatsBench(benchmark::State& state)
{
    MemoryAllocator allocator("bench");
    StatsLoop(state, [&] { benchmark::DoNotOptimize(allocator.CalculateStats()); });
}

void VmaCalculateStatisticsBench(benchmark::State& state)
{
    StatsLoop(state,
              [&]
              {
                  VmaTotalStatistics total{};
                  vmaCalculateStatistics(MemoryAllocator::GetAllocator(), &total);
                  benchmark::DoNotOptimize(total);
              });
}

void VmaGetHeapBudgetsBench(benchmark::State& state)
{
    StatsLoop(state,
              [&]
              {
                  std::array<VmaBudget, VK_MAX_MEMORY_HEAPS> budgets{};
                  vmaGetHeapBudgets(MemoryAllocator::GetAllocator(), budgets.data());
                  benchmark::DoNotOptimize(budgets);
              });
}
} // namespace

void ReleaseStatsLiveSet()
{
    if (s_Live.allocator && MemoryAllocator::IsInitialized())
        for (auto& [buffer, allocation] : s_Live.live)
            s_Live.allocator->DestroyBuffer(buffer, allocation);
    s_Live.live.clear();
    s_Live.live.shrink_to_fit();
    s_Live.allocator.reset();
}

void RegisterStatsBenchmarks()
{
    for (int64_t count : StatsLiveCounts())
    {
        for (int round = 0; round < Rounds(3); ++round)
        {
            Configure(benchmark::RegisterBenchmark("e/GetStats", GetStatsBench), 0.1)->Arg(count);
            Configure(benchmark::RegisterBenchmark("e/GetMemoryBudget", GetMemoryBudgetBench), 0.1)
                ->Arg(count);
            Configure(benchmark::RegisterBenchmark("e/ContainsAllocation", ContainsAllocationBench), 0.1)
                ->Arg(count);
            Configure(benchmark::RegisterBenchmark("e/vmaGetHeapBudgets", VmaGetHeapBudgetsBench), 0.1)
                ->Arg(count);
        }
        // The walks: one round (at 100,000 live, one call takes from a fraction of a millisecond to
        // a good part of a second).
        Configure(benchmark::RegisterBenchmark("e/vmaCalculateStatistics", VmaCalculateStatisticsBench), 0.1,
                  100)
            ->Arg(count);
        Configure(benchmark::RegisterBenchmark("e/CalculateStats", CalculateStatsBench), 0.1, 10'000)
            ->Arg(count);
    }
}

} // namespace SceneryEditorX::Bench
