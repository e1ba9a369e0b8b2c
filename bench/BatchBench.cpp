// (c) A batch of 1024 mixed sizes (1 KiB..256 KiB, GPU_ONLY): AllocateBufferBatch+FreeBufferBatch
//     (Default, and SpeedOptimized, whose freed buffers serve the next iteration's batch), against 1024
//     single AllocateBuffer calls (then 1024 DestroyBuffer), 1024 raw vmaCreateBuffer calls (then 1024
//     vmaDestroyBuffer), and the driver floor (1024 vkCreateBuffer + vkGetBufferMemoryRequirements +
//     vkBindBufferMemory into memory allocated beforehand, then 1024 vkDestroyBuffer). One iteration is the
//     whole batch, created and freed; the counters create_ns (thread CPU time, the table's time base) and
//     create_wall_ns are the creation half alone.
#include "BenchCommon.h"

#include <chrono>

namespace SceneryEditorX::Bench
{
namespace
{
constexpr size_t kBatch = 1024;
constexpr VkBufferUsageFlags kUsage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_VERTEX_BUFFER_BIT;
using Clock = std::chrono::steady_clock;

// Times the creation half of a batch in thread CPU time and wall time.
struct PhaseTimer
{
    double cpu = 0;
    double wall = 0;
    double cpu0 = 0;
    Clock::time_point wall0;
    void Start()
    {
        cpu0 = ThreadCpuSeconds();
        wall0 = Clock::now();
    }
    void Stop()
    {
        cpu += ThreadCpuSeconds() - cpu0;
        wall += std::chrono::duration<double>(Clock::now() - wall0).count();
    }
};

const std::vector<VkDeviceSize>& BatchSizes()
{
    static const std::vector<VkDeviceSize> sizes = MixedSizes(kBatch, 1024, 256 * 1024, 0xBA7C'4000ull);
    return sizes;
}

void Finish(benchmark::State& state, const PhaseTimer& create)
{
    const auto n = static_cast<double>(std::max<int64_t>(1, state.iterations()));
    state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kBatch));
    state.counters["create_ns"] = create.cpu * 1e9 / n;
    state.counters["create_wall_ns"] = create.wall * 1e9 / n;
    state.counters["buffers"] = static_cast<double>(kBatch);
}

/// The timed loop of the variants made of single calls: each iteration creates the whole batch (the
/// creation timed by `create`) and destroys it again; a failed creation skips the run with `error`.
template <typename CreateAll, typename DestroyAll>
void RunBatches(benchmark::State& state, PhaseTimer& create, const char* error, CreateAll&& createAll,
                DestroyAll&& destroyAll)
{
    for (auto _ : state)
    {
        create.Start();
        const bool ok = createAll();
        create.Stop();
        destroyAll();
        if (!ok)
        {
            state.SkipWithError(error);
            break;
        }
    }
}

void OursBatch(benchmark::State& state, MemoryAllocator::AllocationStrategy strategy)
{
    if (!UseSession(SessionKind::Default))
        return state.SkipWithError("MemoryAllocator::Init failed");
    MemoryAllocator allocator("bench");
    allocator.SetAllocationStrategy(strategy);
    const auto& sizes = BatchSizes();
    PhaseTimer create;
    for (auto _ : state)
    {
        create.Start();
        std::vector<BatchBufferAllocation> batch = allocator.AllocateBufferBatch(
            sizes, BufferUsage::Storage | BufferUsage::Vertex, VMA_MEMORY_USAGE_GPU_ONLY);
        create.Stop();
        if (batch.size() != kBatch)
        {
            state.SkipWithError("AllocateBufferBatch failed");
            break;
        }
        allocator.FreeBufferBatch(batch);
    }
    // The cached buffers would stay in the shared session's pools and slow the scenarios after this one.
    MemoryAllocator::ReleaseReuseCache();
    Finish(state, create);
}

void OursSingles(benchmark::State& state)
{
    if (!UseSession(SessionKind::Default))
        return state.SkipWithError("MemoryAllocator::Init failed");
    MemoryAllocator allocator("bench");
    const auto& sizes = BatchSizes();
    std::vector<std::pair<VkBuffer, VmaAllocation>> made(kBatch);
    VkBufferCreateInfo info = BufferInfo(0, kUsage);
    PhaseTimer create;
    RunBatches(
        state, create, "AllocateBuffer failed",
        [&]
        {
            bool ok = true;
            for (size_t i = 0; i < kBatch; ++i)
            {
                info.size = sizes[i];
                made[i].second = allocator.AllocateBuffer(info, VMA_MEMORY_USAGE_GPU_ONLY, made[i].first);
                ok = ok && made[i].second;
            }
            return ok;
        },
        [&]
        {
            for (auto& [buffer, allocation] : made)
                if (allocation)
                    allocator.DestroyBuffer(buffer, allocation);
        });
    Finish(state, create);
}

void RawVmaSingles(benchmark::State& state)
{
    VmaAllocator vma = SharedRawVma();
    const auto& sizes = BatchSizes();
    std::vector<std::pair<VkBuffer, VmaAllocation>> made(kBatch);
    VkBufferCreateInfo info = BufferInfo(0, EffectiveBufferUsage(kUsage));
    VmaAllocationCreateInfo aci{};
    aci.usage = VMA_MEMORY_USAGE_GPU_ONLY;
    PhaseTimer create;
    RunBatches(
        state, create, "vmaCreateBuffer failed",
        [&]
        {
            bool ok = true;
            for (size_t i = 0; i < kBatch; ++i)
            {
                info.size = sizes[i];
                made[i] = {VK_NULL_HANDLE, nullptr};
                ok = vmaCreateBuffer(vma, &info, &aci, &made[i].first, &made[i].second, nullptr) ==
                         VK_SUCCESS &&
                     ok;
            }
            return ok;
        },
        [&]
        {
            for (auto& [buffer, allocation] : made)
                if (allocation)
                    vmaDestroyBuffer(vma, buffer, allocation);
        });
    Finish(state, create);
}

void DriverFloorBatch(benchmark::State& state)
{
    const VkDevice device = Device().GetDevice();
    const VkBufferUsageFlags usage = EffectiveBufferUsage(kUsage);
    const uint32_t type = BufferMemoryType(SharedRawVma(), VMA_MEMORY_USAGE_GPU_ONLY, usage);
    const auto& sizes = BatchSizes();
    // Room for every buffer at its own aligned offset.
    VkDeviceSize total = 0;
    for (VkDeviceSize s : sizes)
        total += s + 4096;
    FloorMemory memory(total, type);
    if (!memory.Ok())
        return state.SkipWithError("floor memory allocation failed");
    std::vector<VkBuffer> made(kBatch, VK_NULL_HANDLE);
    VkBufferCreateInfo info = BufferInfo(0, usage);
    PhaseTimer create;
    RunBatches(
        state, create, "vkCreateBuffer/vkBindBufferMemory failed",
        [&]
        {
            bool ok = true;
            VkDeviceSize offset = 0;
            for (size_t i = 0; i < kBatch && ok; ++i)
            {
                info.size = sizes[i];
                ok = vkCreateBuffer(device, &info, nullptr, &made[i]) == VK_SUCCESS;
                if (!ok)
                {
                    made[i] = VK_NULL_HANDLE;
                    break;
                }
                VkMemoryRequirements req{};
                vkGetBufferMemoryRequirements(device, made[i], &req);
                offset = (offset + req.alignment - 1) / req.alignment * req.alignment;
                ok = offset + req.size <= memory.Size() &&
                     vkBindBufferMemory(device, made[i], memory.Get(), offset) == VK_SUCCESS;
                offset += req.size;
            }
            return ok;
        },
        [&]
        {
            for (VkBuffer& buffer : made)
            {
                if (buffer)
                    vkDestroyBuffer(device, buffer, nullptr);
                buffer = VK_NULL_HANDLE;
            }
        });
    Finish(state, create);
}
} // namespace

void RegisterBatchBenchmarks()
{
    for (int round = 0; round < Rounds(3); ++round)
    {
        Configure(benchmark::RegisterBenchmark("c/batch1024/ours_batch", OursBatch,
                                               MemoryAllocator::AllocationStrategy::Default),
                  0.3, kBatch)
            ->Unit(benchmark::kMicrosecond);
        // SpeedOptimized: from the second iteration on, every buffer of the batch comes from the
        // reuse cache (the batch's 1024 buffers fit its default 64 MiB).
        Configure(benchmark::RegisterBenchmark("c/batch1024/ours_batch_speed", OursBatch,
                                               MemoryAllocator::AllocationStrategy::SpeedOptimized),
                  0.3, kBatch)
            ->Unit(benchmark::kMicrosecond);
        Configure(benchmark::RegisterBenchmark("c/batch1024/ours_singles", OursSingles), 0.3, kBatch)
            ->Unit(benchmark::kMicrosecond);
        Configure(benchmark::RegisterBenchmark("c/batch1024/raw_vma", RawVmaSingles), 0.3, kBatch)
            ->Unit(benchmark::kMicrosecond);
        Configure(benchmark::RegisterBenchmark("c/batch1024/driver_floor", DriverFloorBatch), 0.3, kBatch)
            ->Unit(benchmark::kMicrosecond);
    }
}

} // namespace SceneryEditorX::Bench
