// (g) Defragmentation throughput: bytes moved per second.
//     Each round makes a workload of GPU_ONLY buffers (seeded sizes), frees every other one, and
//     runs BeginDefragmentation + MarkAllForDefragmentation + EndDefragmentation; the manual time
//     of an iteration is those three calls. Two workloads:
//       small: 192 buffers of 64 KiB..2 MiB (small and medium size-class pools, ~100 MiB);
//       large:  48 buffers of 4 MiB..16 MiB (large size-class pool, ~415 MiB), so that on a
//               discrete GPU the copies, not the per-submission latency, set the rate. Two sessions:
//               forceGpuDefragmentationCopies = true
//     (every move is a vkCmdCopyBuffer, the path of device-local memory on a discrete GPU) and the
//     shipped default (memcpy where the memory is host-visible and cached, as on lavapipe).
//     Baseline: plain vkCmdCopyBuffer calls with the same regions (the sizes and count of the moves
//     of the forced-GPU session), device-local buffer to device-local buffer, all in one
//     VulkanDevice::RunOneTimeCommands on the same queue.
//     Every buffer is filled (vkCmdFillBuffer) before the timed part, on both sides.
//     Counter GBps: copied bytes (the moved buffers' sizes) per second of the moves: the timed part
//     less the release of the blocks the run emptied (vkFreeMemory of the blocks VMA emptied, and
//     the release of empty blocks at the end; DefragmentationStats::releaseDuration), which is
//     reported beside it (release_ms_per_round, release_share of the timed part). The moves' time
//     splits into copies, VMA and other (copy_share, vma_share, other_share of the moves' time).
#include "BenchCommon.h"

#include <algorithm>
#include <chrono>
#include <unordered_map>

namespace SceneryEditorX::Bench
{
namespace
{
using Clock = std::chrono::steady_clock;

struct Workload
{
    const char* name;
    std::vector<VkDeviceSize> sizes;
    std::vector<VkDeviceSize> forcedGpuRegions; // the moves of the last forced-GPU round
};

Workload& GetWorkload(int index)
{
    constexpr VkDeviceSize MiB = 1024 * 1024;
    const bool quick = GetOptions().quick;
    static Workload workloads[2] = {
        {"small", MixedSizes(quick ? 48 : 192, 64 * 1024, 2 * MiB, 0xDEF4'A600ull, 256), {}},
        {"large", MixedSizes(quick ? 12 : 48, 4 * MiB, 16 * MiB, 0xDEF4'A601ull, 4096), {}},
    };
    return workloads[index];
}

struct Round
{
    bool ok = false;
    double seconds = 0;
    uint64_t copiedBytes = 0;
    std::vector<VkDeviceSize> regions; // one per move: the moved buffer's size
    DefragmentationStats stats;
};

Round RunRound(MemoryAllocator& allocator, const Workload& workload)
{
    Round round;
    const auto& sizes = workload.sizes;
    std::unordered_map<VmaAllocation, VkDeviceSize> requested;
    std::vector<VmaAllocation> live;
    for (size_t i = 0; i < sizes.size(); ++i)
    {
        VkBuffer buffer = VK_NULL_HANDLE;
        VmaAllocation a = allocator.AllocateBuffer(BufferInfo(sizes[i], VK_BUFFER_USAGE_STORAGE_BUFFER_BIT),
                                                   VMA_MEMORY_USAGE_GPU_ONLY, buffer);
        if (!a)
        {
            for (VmaAllocation made : live)
                allocator.DestroyBuffer(MemoryAllocator::GetBuffer(made), made);
            return round;
        }
        requested[a] = sizes[i];
        live.push_back(a);
    }
    // The buffers hold data before they are moved (as they would in use): one fill on the GPU,
    // outside the timed part. It also commits the memory on drivers that back it lazily (lavapipe's
    // host pages), so that neither side of the comparison times page faults.
    if (Device().RunOneTimeCommands(
            [&](VkCommandBuffer cmd)
            {
                for (VmaAllocation a : live)
                    vkCmdFillBuffer(cmd, MemoryAllocator::GetBuffer(a), 0, VK_WHOLE_SIZE, 0x5EDB5EDBu);
            }) != VK_SUCCESS)
    {
        for (VmaAllocation made : live)
            allocator.DestroyBuffer(MemoryAllocator::GetBuffer(made), made);
        return round;
    }
    std::vector<VmaAllocation> kept;
    for (size_t i = 0; i < live.size(); ++i)
    {
        if (i % 2)
            allocator.DestroyBuffer(MemoryAllocator::GetBuffer(live[i]), live[i]);
        else
            kept.push_back(live[i]);
    }

    std::vector<VmaAllocation> moved;
    const uint64_t callback = MemoryAllocator::AddRelocationCallback([&](const RelocationNotice& n)
                                                                     { moved.push_back(n.allocation); });
    const Clock::time_point t0 = Clock::now();
    round.ok = allocator.BeginDefragmentation();
    if (round.ok)
    {
        allocator.MarkAllForDefragmentation();
        round.stats = allocator.EndDefragmentation();
    }
    round.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    MemoryAllocator::RemoveRelocationCallback(callback);
    for (VmaAllocation a : moved)
    {
        round.regions.push_back(requested[a]);
        round.copiedBytes += requested[a];
    }
    for (VmaAllocation a : kept)
        allocator.DestroyBuffer(MemoryAllocator::GetBuffer(a), a);
    // Release the old handles that the moves retired.
    MemoryAllocator::SetCurrentFrameIndex(MemoryAllocator::GetCurrentFrameIndex() +
                                          MemoryAllocator::GetSettings().framesInFlight + 1);
    return round;
}

void OursDefrag(benchmark::State& state, SessionKind kind, int workloadIndex)
{
    Workload& workload = GetWorkload(workloadIndex);
    ScopedSession session(kind, true);
    if (!session.Ok())
        return state.SkipWithError("MemoryAllocator::Init failed");
    MemoryAllocator allocator("defrag");
    double seconds = 0;
    uint64_t bytes = 0, statBytes = 0, moves = 0, passes = 0, refused = 0, failed = 0;
    double copySeconds = 0, vmaSeconds = 0, passSeconds = 0; // the parts of the passes (DefragmentationStats)
    double releaseSeconds = 0, moveSeconds = 0; // the release of emptied blocks; the rest (the moves)
    Round last;
    for (auto _ : state)
    {
        last = RunRound(allocator, workload);
        if (!last.ok)
        {
            state.SkipWithError("defragmentation round failed");
            break;
        }
        const double release = std::chrono::duration<double>(last.stats.releaseDuration).count();
        state.SetIterationTime(std::max(last.seconds - release, 1e-9));
        seconds += last.seconds;
        releaseSeconds += release;
        moveSeconds += std::max(last.seconds - release, 0.0);
        bytes += last.copiedBytes;
        statBytes += last.stats.bytesMoved;
        moves += last.stats.allocationsMoved;
        passes += last.stats.passes;
        refused += last.stats.allocationsRefused;
        failed += last.stats.movesFailed;
        copySeconds += std::chrono::duration<double>(last.stats.copyDuration).count();
        vmaSeconds += std::chrono::duration<double>(last.stats.vmaDuration).count();
        passSeconds += std::chrono::duration<double>(last.stats.duration).count();
    }
    const auto n = static_cast<double>(std::max<int64_t>(1, state.iterations()));
    state.counters["GBps"] = moveSeconds > 0 ? static_cast<double>(bytes) / moveSeconds / 1e9 : 0.0;
    state.counters["MiB_per_round"] = static_cast<double>(bytes) / n / (1024.0 * 1024.0);
    state.counters["release_ms_per_round"] = releaseSeconds / n * 1e3;
    state.counters["moves_per_round"] = static_cast<double>(moves) / n;
    state.counters["passes_per_round"] = static_cast<double>(passes) / n;
    state.counters["refused"] = static_cast<double>(refused);
    state.counters["failed"] = static_cast<double>(failed);
    // Where the timed Begin..End went: the copies, VMA, and the passes as a whole (the rest of the
    // timed part is Begin, MarkAll and the session's bookkeeping).
    if (seconds > 0 && moveSeconds > 0)
    {
        state.counters["release_share"] = releaseSeconds / seconds;
        state.counters["copy_share"] = copySeconds / moveSeconds;
        state.counters["vma_share"] = vmaSeconds / moveSeconds;
        state.counters["other_share"] = std::max(0.0, 1.0 - (copySeconds + vmaSeconds) / moveSeconds);
        state.counters["pass_share"] = (passSeconds - releaseSeconds) / moveSeconds;
    }
    if (kind == SessionKind::ForceGpuDefrag && last.ok)
        workload.forcedGpuRegions = last.regions;
    RecordExtra(std::string("defrag/") + workload.name +
                    (kind == SessionKind::ForceGpuDefrag ? "/ours_forced_gpu" : "/ours_default"),
                {{"buffers", workload.sizes.size()},
                 {"freed", workload.sizes.size() / 2},
                 {"rounds", state.iterations()},
                 {"copied_bytes_per_round", static_cast<double>(bytes) / n},
                 {"vma_bytes_moved_per_round", static_cast<double>(statBytes) / n},
                 {"moves_per_round", static_cast<double>(moves) / n},
                 {"passes_per_round", static_cast<double>(passes) / n},
                 {"refused", refused},
                 {"moves_failed", failed},
                 {"seconds", seconds},
                 {"move_seconds", moveSeconds},
                 {"release_seconds", releaseSeconds}});
}

void PlainCopy(benchmark::State& state, int workloadIndex)
{
    Workload& workload = GetWorkload(workloadIndex);
    std::vector<VkDeviceSize>& regions = workload.forcedGpuRegions;
    if (regions.empty())
    {
        // Run alone (filtered): learn the regions from one forced-GPU round.
        ScopedSession session(SessionKind::ForceGpuDefrag, true);
        MemoryAllocator allocator("defrag");
        if (session.Ok())
            regions = RunRound(allocator, workload).regions;
    }
    if (regions.empty())
        return state.SkipWithError("no regions: the defragmentation round moved nothing");
    VmaAllocator vma = CreateRawVma();
    if (!vma)
        return state.SkipWithError("vmaCreateAllocator failed");
    const VkBufferUsageFlags usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    VmaAllocationCreateInfo aci{};
    aci.usage = VMA_MEMORY_USAGE_GPU_ONLY;
    struct Pair
    {
        VkBuffer src = VK_NULL_HANDLE, dst = VK_NULL_HANDLE;
        VmaAllocation srcA = nullptr, dstA = nullptr;
        VkDeviceSize size = 0;
    };
    std::vector<Pair> pairs;
    bool ok = true;
    uint64_t bytes = 0;
    uint32_t type = UINT32_MAX;
    for (VkDeviceSize size : regions)
    {
        Pair p;
        p.size = size;
        const VkBufferCreateInfo info = BufferInfo(size, usage);
        VmaAllocationInfo ai{};
        ok = ok && vmaCreateBuffer(vma, &info, &aci, &p.src, &p.srcA, &ai) == VK_SUCCESS;
        type = ai.memoryType;
        ok = ok && vmaCreateBuffer(vma, &info, &aci, &p.dst, &p.dstA, nullptr) == VK_SUCCESS;
        pairs.push_back(p);
        bytes += size;
    }
    // Same preparation as the defragmentation rounds: both sides hold data before the copies.
    if (ok && Device().RunOneTimeCommands(
                  [&](VkCommandBuffer cmd)
                  {
                      for (const Pair& p : pairs)
                      {
                          vkCmdFillBuffer(cmd, p.src, 0, VK_WHOLE_SIZE, 0x5EDB5EDBu);
                          vkCmdFillBuffer(cmd, p.dst, 0, VK_WHOLE_SIZE, 0);
                      }
                  }) != VK_SUCCESS)
        ok = false;
    double seconds = 0;
    if (!ok)
        state.SkipWithError("vmaCreateBuffer or the fill failed");
    else
        for (auto _ : state)
        {
            const Clock::time_point t0 = Clock::now();
            const VkResult r = Device().RunOneTimeCommands(
                [&](VkCommandBuffer cmd)
                {
                    for (const Pair& p : pairs)
                    {
                        const VkBufferCopy region{0, 0, p.size};
                        vkCmdCopyBuffer(cmd, p.src, p.dst, 1, &region);
                    }
                });
            const double s = std::chrono::duration<double>(Clock::now() - t0).count();
            if (r != VK_SUCCESS)
            {
                state.SkipWithError("RunOneTimeCommands failed");
                break;
            }
            state.SetIterationTime(s);
            seconds += s;
        }
    for (Pair& p : pairs)
    {
        if (p.srcA)
            vmaDestroyBuffer(vma, p.src, p.srcA);
        if (p.dstA)
            vmaDestroyBuffer(vma, p.dst, p.dstA);
    }
    DestroyRawVma(vma);
    const auto n = static_cast<double>(std::max<int64_t>(1, state.iterations()));
    state.counters["GBps"] = seconds > 0 ? static_cast<double>(bytes) * n / seconds / 1e9 : 0.0;
    state.counters["MiB_per_round"] = static_cast<double>(bytes) / (1024.0 * 1024.0);
    state.counters["copies_per_round"] = static_cast<double>(pairs.size());
    const auto& props = Device().GetMemoryProperties();
    RecordExtra(std::string("defrag/") + workload.name + "/plain_copy",
                {{"regions", pairs.size()},
                 {"bytes_per_round", bytes},
                 {"memory_type", type},
                 {"device_local", type < props.memoryTypeCount && (props.memoryTypes[type].propertyFlags &
                                                                   VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT)},
                 {"submits_per_round", 1}});
}
} // namespace

void RegisterDefragBenchmarks()
{
    for (int w = 0; w < 2; ++w)
    {
        const std::string p = std::string("g/defrag/") + GetWorkload(w).name + "/";
        // Each round allocates and fills the whole workload (page faults on lavapipe): short minimum times.
        const double minTime = 0.05;
        for (int round = 0; round < Rounds(3); ++round)
        {
            Configure(benchmark::RegisterBenchmark((p + "ours_forced_gpu").c_str(), OursDefrag,
                                                   SessionKind::ForceGpuDefrag, w),
                      minTime, 10'000)
                ->UseManualTime()
                ->Unit(benchmark::kMicrosecond);
            Configure(benchmark::RegisterBenchmark((p + "ours_default").c_str(), OursDefrag,
                                                   SessionKind::Default, w),
                      0.3, 10'000)
                ->UseManualTime()
                ->Unit(benchmark::kMicrosecond);
            Configure(benchmark::RegisterBenchmark((p + "plain_vkCmdCopyBuffer").c_str(), PlainCopy, w),
                      minTime, 10'000)
                ->UseManualTime()
                ->Unit(benchmark::kMicrosecond);
        }
    }
}

} // namespace SceneryEditorX::Bench
