// (e) GetStats, GetMemoryBudget and ContainsAllocation with 100 and with 100,000 live allocations
//     (256-byte GPU_ONLY buffers made through ours), next to VMA's own vmaCalculateStatistics (a
//     walk) and vmaGetHeapBudgets (counters) on the same allocator as reference points, and our
//     exact CalculateStats (one VMA walk with each block's figures, patch 5): T12.
//     e/frame: frames at 100 and 100,000 live, each with a fixed number of deferred destroys and as
//     many new buffers (the freed places are reused: no block is released), timing each frame's
//     SetCurrentFrameIndex, GetStats and GetMemoryBudget one call at a time: p99 and mean (T11).
//
//     The live set is made once per count and kept across the benchmarks of that count; any
//     session change releases it (BenchCommon.cpp).
#include "BenchCommon.h"

#include <algorithm>
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

// One call's duration in nanoseconds.
template <class Fn>
double TimeOne(Fn&& fn)
{
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
}

double P99(std::vector<double> v)
{
    if (v.empty())
        return 0;
    const size_t k = std::min(v.size() - 1, static_cast<size_t>(static_cast<double>(v.size()) * 0.99));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

double Mean(const std::vector<double>& v)
{
    double sum = 0;
    for (double x : v)
        sum += x;
    return v.empty() ? 0 : sum / static_cast<double>(v.size());
}

constexpr size_t kFreesPerFrame = 16;

void FrameBench(benchmark::State& state)
{
    const auto count = static_cast<size_t>(state.range(0));
    if (!EnsureLiveSet(count))
        return state.SkipWithError("could not make the live set");
    MemoryAllocator allocator("bench");
    const VkBufferCreateInfo info = BufferInfo(256, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT);
    std::vector<double> frame, stats, budget;
    const uint64_t blocksBefore = allocator.GetStats().blockCount;
    uint64_t blocksMin = blocksBefore;
    size_t next = 0; // the oldest buffer of the live set (a ring)
    for (auto _ : state)
    {
        for (size_t i = 0; i < kFreesPerFrame; ++i)
        {
            auto& [buffer, allocation] = s_Live.live[next];
            s_Live.allocator->DestroyBufferDeferred(buffer, allocation);
            allocation = s_Live.allocator->AllocateBuffer(info, VMA_MEMORY_USAGE_GPU_ONLY, buffer);
            if (!allocation)
                return state.SkipWithError("could not refill the live set");
            next = (next + 1) % s_Live.live.size();
        }
        const uint64_t index = MemoryAllocator::GetCurrentFrameIndex() + 1;
        const double f = TimeOne([&] { MemoryAllocator::SetCurrentFrameIndex(index); });
        const double s = TimeOne([&] { benchmark::DoNotOptimize(allocator.GetStats()); });
        const double b = TimeOne([&] { benchmark::DoNotOptimize(allocator.GetMemoryBudget()); });
        state.SetIterationTime(f * 1e-9);
        frame.push_back(f);
        stats.push_back(s);
        budget.push_back(b);
        if ((frame.size() & 63) == 0)
            blocksMin = std::min(blocksMin, allocator.GetStats().blockCount);
    }
    // Let the last frames' destroys retire, so that the live set is exactly `count` again.
    const uint64_t last = MemoryAllocator::GetCurrentFrameIndex();
    MemoryAllocator::SetCurrentFrameIndex(last + MemoryAllocator::GetSettings().framesInFlight);
    state.counters["live"] = static_cast<double>(count);
    state.counters["frees_per_frame"] = static_cast<double>(kFreesPerFrame);
    state.counters["frame_p99_ns"] = P99(frame);
    state.counters["frame_mean_ns"] = Mean(frame);
    state.counters["getstats_p99_ns"] = P99(stats);
    state.counters["getstats_mean_ns"] = Mean(stats);
    state.counters["budget_p99_ns"] = P99(budget);
    state.counters["budget_mean_ns"] = Mean(budget);
    state.counters["blocks_released"] = static_cast<double>(blocksBefore - std::min(blocksBefore, blocksMin));
    state.SetItemsProcessed(state.iterations());
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
        // 3,000 frames: the p99 is the 30th slowest.
        benchmark::RegisterBenchmark("e/frame", FrameBench)
            ->Unit(benchmark::kNanosecond)
            ->UseManualTime()
            ->Iterations(GetOptions().quick ? 200 : 3000)
            ->Arg(count);
    }
}

} // namespace SceneryEditorX::Bench
