// (a) One buffer allocate+free pair on one thread, mixed sizes 1 KiB..256 KiB, GPU_ONLY and
//     CPU_TO_GPU: ours, raw VMA, one vkAllocateMemory per resource, the driver floor.
// (b) RGBA8 images 256^2..2048^2 with full mip chains: ours, raw VMA, the driver floor.
//
// Every variant of a scenario gets the same inputs: the same seeded size list walked in the same
// order, the same usage bits (ours adds TRANSFER_SRC|TRANSFER_DST; the baselines are given them),
// and the same memory type (the one VMA picks; recorded in the output). Ours and raw VMA each keep
// the same background of live buffers, so that neither measures an empty block.
#include "BenchCommon.h"

#include <string>
#include <utility>

namespace SceneryEditorX::Bench
{
namespace
{
constexpr VkBufferUsageFlags kUsage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_VERTEX_BUFFER_BIT;
constexpr size_t kSizeCount = 4096; // a power of two: the loops walk the list with a mask
constexpr size_t kBackground = 256;

const std::vector<VkDeviceSize>& PairSizes()
{
    static const std::vector<VkDeviceSize> sizes =
        MixedSizes(kSizeCount, 1024, 256 * 1024, 0xA11C'0CA7'E5EEDull);
    return sizes;
}

void RecordMemoryTypes(VmaMemoryUsage usage, VkBufferUsageFlags bufferUsage)
{
    // Where ours and raw VMA land, and what the driver baselines use.
    MemoryAllocator probe("bench-probe");
    VkBuffer buffer = VK_NULL_HANDLE;
    const VkBufferCreateInfo info = BufferInfo(64 * 1024, kUsage);
    uint32_t oursType = UINT32_MAX;
    if (VmaAllocation a = probe.AllocateBuffer(info, usage, buffer))
    {
        VmaAllocationInfo ai{};
        vmaGetAllocationInfo(MemoryAllocator::GetAllocator(), a, &ai);
        oursType = ai.memoryType;
        probe.DestroyBuffer(buffer, a);
    }
    const uint32_t rawType = BufferMemoryType(SharedRawVma(), usage, bufferUsage);
    const auto& props = Device().GetMemoryProperties();
    RecordExtra(
        std::string("memory_types/") + UsageName(usage),
        {{"ours", oursType},
         {"raw_vma", rawType},
         {"baselines", rawType},
         {"property_flags", rawType < props.memoryTypeCount ? props.memoryTypes[rawType].propertyFlags : 0},
         {"buffer_usage", bufferUsage}});
}

// ------------------------------------------------------------------ (a) buffers
/// The timed loop of the (a) variants: the seeded size list from its start; every pair is an item.
template <typename Pair>
void RunPairs(benchmark::State& state, VkBufferUsageFlags bufferUsage, Pair&& pair)
{
    RunSizedPairs(state, BufferInfo(0, bufferUsage), PairSizes(), 0, pair);
    state.SetItemsProcessed(state.iterations());
}

void OursPair(benchmark::State& state, VmaMemoryUsage usage)
{
    if (!UseSession(SessionKind::Default))
        return state.SkipWithError("MemoryAllocator::Init failed");
    RecordMemoryTypes(usage, EffectiveBufferUsage(kUsage));
    MemoryAllocator allocator("bench");
    const auto& sizes = PairSizes();
    std::vector<std::pair<VkBuffer, VmaAllocation>> background;
    for (size_t i = 0; i < kBackground; ++i)
    {
        VkBuffer buffer = VK_NULL_HANDLE;
        if (VmaAllocation a =
                allocator.AllocateBuffer(BufferInfo(sizes[kSizeCount - 1 - i], kUsage), usage, buffer))
            background.emplace_back(buffer, a);
    }
    RunPairs(state, kUsage,
             [&](const VkBufferCreateInfo& info) { return OursBufferPair(state, allocator, info, usage); });
    for (auto& [buffer, allocation] : background)
        allocator.DestroyBuffer(buffer, allocation);
}

void RawVmaPair(benchmark::State& state, VmaMemoryUsage usage)
{
    VmaAllocator vma = SharedRawVma();
    if (!vma)
        return state.SkipWithError("vmaCreateAllocator failed");
    const VkBufferUsageFlags bufferUsage = EffectiveBufferUsage(kUsage);
    const auto& sizes = PairSizes();
    VmaAllocationCreateInfo aci{};
    aci.usage = usage;
    std::vector<std::pair<VkBuffer, VmaAllocation>> background;
    for (size_t i = 0; i < kBackground; ++i)
    {
        const VkBufferCreateInfo bg = BufferInfo(sizes[kSizeCount - 1 - i], bufferUsage);
        VkBuffer buffer = VK_NULL_HANDLE;
        VmaAllocation a = nullptr;
        if (vmaCreateBuffer(vma, &bg, &aci, &buffer, &a, nullptr) == VK_SUCCESS)
            background.emplace_back(buffer, a);
    }
    RunPairs(state, bufferUsage,
             [&](const VkBufferCreateInfo& info) { return RawVmaBufferPair(state, vma, info, aci); });
    for (auto& [buffer, allocation] : background)
        vmaDestroyBuffer(vma, buffer, allocation);
}

/// One buffer with its own vkAllocateMemory of memory type `type`, bound, then destroyed and freed.
bool BufferWithOwnMemoryPair(benchmark::State& state, VkDevice device, uint32_t type,
                             const VkBufferCreateInfo& info)
{
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    if (vkCreateBuffer(device, &info, nullptr, &buffer) != VK_SUCCESS)
        return SkipRun(state, "vkCreateBuffer failed");
    VkMemoryRequirements req{};
    vkGetBufferMemoryRequirements(device, buffer, &req);
    const bool bound = (req.memoryTypeBits & (1u << type)) &&
                       AllocateLikeVma(req.size, type, memory) == VK_SUCCESS &&
                       vkBindBufferMemory(device, buffer, memory, 0) == VK_SUCCESS;
    vkDestroyBuffer(device, buffer, nullptr);
    if (memory)
        vkFreeMemory(device, memory, nullptr);
    return bound || SkipRun(state, "vkAllocateMemory/vkBindBufferMemory failed");
}

void AllocationPerResourcePair(benchmark::State& state, VmaMemoryUsage usage)
{
    const VkBufferUsageFlags bufferUsage = EffectiveBufferUsage(kUsage);
    const uint32_t type = BufferMemoryType(SharedRawVma(), usage, bufferUsage);
    if (type == UINT32_MAX)
        return state.SkipWithError("no memory type");
    const VkDevice device = Device().GetDevice();
    RunPairs(state, bufferUsage,
             [&](const VkBufferCreateInfo& info)
             { return BufferWithOwnMemoryPair(state, device, type, info); });
}

void DriverFloorPair(benchmark::State& state, VmaMemoryUsage usage)
{
    const VkBufferUsageFlags bufferUsage = EffectiveBufferUsage(kUsage);
    const uint32_t type = BufferMemoryType(SharedRawVma(), usage, bufferUsage);
    FloorMemory memory(1024 * 1024, type); // above the largest requirement of the list
    if (!memory.Ok())
        return state.SkipWithError("floor memory allocation failed");
    const VkDevice device = Device().GetDevice();
    RunPairs(state, bufferUsage,
             [&](const VkBufferCreateInfo& info) { return FloorBufferPair(state, device, memory, info); });
}

// ------------------------------------------------------------------ (b) images
constexpr VkImageUsageFlags kImageUsage = VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT;

void OursImage(benchmark::State& state, uint32_t side)
{
    if (!UseSession(SessionKind::Default))
        return state.SkipWithError("MemoryAllocator::Init failed");
    MemoryAllocator allocator("bench");
    const VkImageCreateInfo info = SquareImageInfo(side, kImageUsage);
    for (auto _ : state)
    {
        VkImage image = VK_NULL_HANDLE;
        VmaAllocation allocation = allocator.AllocateImage(info, VMA_MEMORY_USAGE_GPU_ONLY, image);
        if (!allocation)
        {
            state.SkipWithError("AllocateImage failed");
            break;
        }
        allocator.DestroyImage(image, allocation);
    }
    state.SetItemsProcessed(state.iterations());
}

void RawVmaImage(benchmark::State& state, uint32_t side)
{
    VmaAllocator vma = SharedRawVma();
    const VkImageCreateInfo info =
        SquareImageInfo(side, EffectiveImageUsage(VK_FORMAT_R8G8B8A8_UNORM, kImageUsage));
    VmaAllocationCreateInfo aci{};
    aci.usage = VMA_MEMORY_USAGE_GPU_ONLY;
    for (auto _ : state)
    {
        VkImage image = VK_NULL_HANDLE;
        VmaAllocation allocation = nullptr;
        if (vmaCreateImage(vma, &info, &aci, &image, &allocation, nullptr) != VK_SUCCESS)
        {
            state.SkipWithError("vmaCreateImage failed");
            break;
        }
        vmaDestroyImage(vma, image, allocation);
    }
    state.SetItemsProcessed(state.iterations());
}

void DriverFloorImage(benchmark::State& state, uint32_t side)
{
    const VkDevice device = Device().GetDevice();
    const VkImageCreateInfo info =
        SquareImageInfo(side, EffectiveImageUsage(VK_FORMAT_R8G8B8A8_UNORM, kImageUsage));
    VmaAllocationCreateInfo aci{};
    aci.usage = VMA_MEMORY_USAGE_GPU_ONLY;
    uint32_t type = UINT32_MAX;
    if (vmaFindMemoryTypeIndexForImageInfo(SharedRawVma(), &info, &aci, &type) != VK_SUCCESS)
        return state.SkipWithError("no memory type");
    // Size the memory from one probe image.
    VkImage probe = VK_NULL_HANDLE;
    if (vkCreateImage(device, &info, nullptr, &probe) != VK_SUCCESS)
        return state.SkipWithError("vkCreateImage failed");
    VkMemoryRequirements probeReq{};
    vkGetImageMemoryRequirements(device, probe, &probeReq);
    vkDestroyImage(device, probe, nullptr);
    FloorMemory memory(probeReq.size, type);
    if (!memory.Ok())
        return state.SkipWithError("floor memory allocation failed");
    for (auto _ : state)
    {
        VkImage image = VK_NULL_HANDLE;
        if (vkCreateImage(device, &info, nullptr, &image) != VK_SUCCESS)
        {
            state.SkipWithError("vkCreateImage failed");
            break;
        }
        VkMemoryRequirements req{};
        vkGetImageMemoryRequirements(device, image, &req);
        if (req.size > memory.Size() || vkBindImageMemory(device, image, memory.Get(), 0) != VK_SUCCESS)
        {
            vkDestroyImage(device, image, nullptr);
            state.SkipWithError("vkBindImageMemory failed");
            break;
        }
        vkDestroyImage(device, image, nullptr);
    }
    state.SetItemsProcessed(state.iterations());
}
} // namespace

void RegisterAllocationBenchmarks()
{
    for (VmaMemoryUsage usage : {VMA_MEMORY_USAGE_GPU_ONLY, VMA_MEMORY_USAGE_CPU_TO_GPU})
    {
        const std::string p = std::string("a/pair/") + UsageName(usage) + "/";
        for (int round = 0; round < Rounds(5); ++round)
        {
            Configure(benchmark::RegisterBenchmark((p + "ours").c_str(), OursPair, usage), 0.2);
            Configure(benchmark::RegisterBenchmark((p + "raw_vma").c_str(), RawVmaPair, usage), 0.2);
            Configure(benchmark::RegisterBenchmark((p + "alloc_per_resource").c_str(),
                                                   AllocationPerResourcePair, usage),
                      0.2);
            Configure(benchmark::RegisterBenchmark((p + "driver_floor").c_str(), DriverFloorPair, usage),
                      0.2);
        }
    }
    for (uint32_t side : {256u, 512u, 1024u, 2048u})
    {
        const std::string p = "b/image/" + std::to_string(side) + "/";
        for (int round = 0; round < Rounds(3); ++round)
        {
            Configure(benchmark::RegisterBenchmark((p + "ours").c_str(), OursImage, side), 0.15);
            Configure(benchmark::RegisterBenchmark((p + "raw_vma").c_str(), RawVmaImage, side), 0.15);
            Configure(benchmark::RegisterBenchmark((p + "driver_floor").c_str(), DriverFloorImage, side),
                      0.15);
        }
    }
}

} // namespace SceneryEditorX::Bench
