// (h) Steady-state churn of same-class buffers: the same request (64 KiB, vertex|storage, GPU_ONLY)
//     allocated and freed again and again, next to 64 live buffers of that size.
//       pair:   one allocate + immediate destroy per iteration. Ours with SpeedOptimized, against
//               raw VMA with VMA_ALLOCATION_CREATE_STRATEGY_MIN_TIME_BIT (the same strategy), raw
//               VMA without a strategy flag, and the driver floor.
//       frames: one iteration is a frame that allocates 16 buffers and destroys the 16 of the frame
//               before through the deferred path (DestroyBufferDeferred, released framesInFlight
//               frames later by SetCurrentFrameIndex); raw VMA mirrors the same delay. The table
//               reports it per pair (the counter pairs_per_iter says how many pairs an iteration is).
#include "BenchCommon.h"

#include <deque>

namespace SceneryEditorX::Bench
{
namespace
{
constexpr VkDeviceSize kSize = 64 * 1024;
constexpr VkBufferUsageFlags kUsage = VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
constexpr size_t kBackground = 64;
constexpr size_t kPerFrame = 16;

using Made = std::vector<std::pair<VkBuffer, VmaAllocation>>;

void OursPair(benchmark::State& state)
{
    if (!UseSession(SessionKind::Default))
        return state.SkipWithError("MemoryAllocator::Init failed");
    MemoryAllocator allocator("bench-churn");
    allocator.SetAllocationStrategy(MemoryAllocator::AllocationStrategy::SpeedOptimized);
    const VkBufferCreateInfo info = BufferInfo(kSize, kUsage);
    Made background(kBackground);
    for (auto& [buffer, allocation] : background)
        allocation = allocator.AllocateBuffer(info, VMA_MEMORY_USAGE_GPU_ONLY, buffer);
    for (auto _ : state)
    {
        if (!OursBufferPair(state, allocator, info, VMA_MEMORY_USAGE_GPU_ONLY))
            break;
    }
    for (auto& [buffer, allocation] : background)
        if (allocation)
            allocator.DestroyBuffer(buffer, allocation);
    MemoryAllocator::ReleaseReuseCache(); // not into the scenarios after this one
    state.SetItemsProcessed(state.iterations());
    state.counters["pairs_per_iter"] = 1;
}

void RawVmaPair(benchmark::State& state, VmaAllocationCreateFlags flags)
{
    VmaAllocator vma = SharedRawVma();
    const VkBufferCreateInfo info = BufferInfo(kSize, EffectiveBufferUsage(kUsage));
    VmaAllocationCreateInfo aci{};
    aci.usage = VMA_MEMORY_USAGE_GPU_ONLY;
    aci.flags = flags;
    Made background(kBackground);
    for (auto& [buffer, allocation] : background)
        vmaCreateBuffer(vma, &info, &aci, &buffer, &allocation, nullptr);
    for (auto _ : state)
    {
        if (!RawVmaBufferPair(state, vma, info, aci))
            break;
    }
    for (auto& [buffer, allocation] : background)
        if (allocation)
            vmaDestroyBuffer(vma, buffer, allocation);
    state.SetItemsProcessed(state.iterations());
    state.counters["pairs_per_iter"] = 1;
}

void DriverFloorPair(benchmark::State& state)
{
    const VkDevice device = Device().GetDevice();
    const VkBufferUsageFlags usage = EffectiveBufferUsage(kUsage);
    FloorMemory memory(4 * kSize, BufferMemoryType(SharedRawVma(), VMA_MEMORY_USAGE_GPU_ONLY, usage));
    if (!memory.Ok())
        return state.SkipWithError("floor memory allocation failed");
    const VkBufferCreateInfo info = BufferInfo(kSize, usage);
    for (auto _ : state)
    {
        if (!FloorBufferPair(state, device, memory, info))
            break;
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["pairs_per_iter"] = 1;
}

void OursFrames(benchmark::State& state)
{
    if (!UseSession(SessionKind::Default))
        return state.SkipWithError("MemoryAllocator::Init failed");
    MemoryAllocator allocator("bench-churn");
    allocator.SetAllocationStrategy(MemoryAllocator::AllocationStrategy::SpeedOptimized);
    const VkBufferCreateInfo info = BufferInfo(kSize, kUsage);
    Made previous;
    for (auto _ : state)
    {
        Made current(kPerFrame);
        for (auto& [buffer, allocation] : current)
            allocation = allocator.AllocateBuffer(info, VMA_MEMORY_USAGE_GPU_ONLY, buffer);
        for (auto& [buffer, allocation] : previous)
            if (allocation)
                allocator.DestroyBufferDeferred(buffer, allocation);
        previous = std::move(current);
        MemoryAllocator::SetCurrentFrameIndex(MemoryAllocator::GetCurrentFrameIndex() + 1);
    }
    for (auto& [buffer, allocation] : previous)
        if (allocation)
            allocator.DestroyBuffer(buffer, allocation);
    MemoryAllocator::SetCurrentFrameIndex(MemoryAllocator::GetCurrentFrameIndex() +
                                          MemoryAllocator::GetSettings().framesInFlight + 1);
    MemoryAllocator::ReleaseReuseCache();
    state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kPerFrame));
    state.counters["pairs_per_iter"] = kPerFrame;
}

void RawVmaFrames(benchmark::State& state)
{
    VmaAllocator vma = SharedRawVma();
    const VkBufferCreateInfo info = BufferInfo(kSize, EffectiveBufferUsage(kUsage));
    VmaAllocationCreateInfo aci{};
    aci.usage = VMA_MEMORY_USAGE_GPU_ONLY;
    aci.flags = VMA_ALLOCATION_CREATE_STRATEGY_MIN_TIME_BIT;
    const uint32_t framesInFlight = MemoryAllocator::GetSettings().framesInFlight;
    Made previous;
    std::deque<Made> retired; // destroyed in a frame, released framesInFlight frames later
    for (auto _ : state)
    {
        Made current(kPerFrame);
        for (auto& [buffer, allocation] : current)
            vmaCreateBuffer(vma, &info, &aci, &buffer, &allocation, nullptr);
        retired.push_back(std::move(previous));
        previous = std::move(current);
        while (retired.size() > framesInFlight)
        {
            for (auto& [buffer, allocation] : retired.front())
                if (allocation)
                    vmaDestroyBuffer(vma, buffer, allocation);
            retired.pop_front();
        }
    }
    retired.push_back(std::move(previous));
    for (Made& frame : retired)
        for (auto& [buffer, allocation] : frame)
            if (allocation)
                vmaDestroyBuffer(vma, buffer, allocation);
    state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kPerFrame));
    state.counters["pairs_per_iter"] = kPerFrame;
}
} // namespace

void RegisterSteadyChurnBenchmarks()
{
    const std::string p = "h/churn64K/";
    for (int round = 0; round < Rounds(5); ++round)
    {
        Configure(benchmark::RegisterBenchmark((p + "pair/ours_speed").c_str(), OursPair), 0.2);
        Configure(benchmark::RegisterBenchmark(
                      (p + "pair/raw_vma_min_time").c_str(), RawVmaPair,
                      VmaAllocationCreateFlags{VMA_ALLOCATION_CREATE_STRATEGY_MIN_TIME_BIT}),
                  0.2);
        Configure(benchmark::RegisterBenchmark((p + "pair/raw_vma_default").c_str(), RawVmaPair,
                                               VmaAllocationCreateFlags{0}),
                  0.2);
        Configure(benchmark::RegisterBenchmark((p + "pair/driver_floor").c_str(), DriverFloorPair), 0.2);
        Configure(benchmark::RegisterBenchmark((p + "frames/ours_speed").c_str(), OursFrames), 0.2);
        Configure(benchmark::RegisterBenchmark((p + "frames/raw_vma_min_time").c_str(), RawVmaFrames), 0.2);
    }
}

} // namespace SceneryEditorX::Bench
