// Shared pieces of sedx-bench (see BenchCommon.h).
#include "BenchCommon.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <time.h>

namespace SceneryEditorX::Bench
{

namespace
{
Ref<VulkanDevice> s_Device;
bool s_SessionUp = false;
SessionKind s_SessionKind = SessionKind::Default;
VmaAllocator s_SharedRaw = nullptr;
std::mutex s_ExtrasMutex;
nlohmann::json s_Extras = nlohmann::json::object();

uint32_t TruncatedApiVersion(uint32_t version)
{
    return VK_MAKE_API_VERSION(0, VK_API_VERSION_MAJOR(version), VK_API_VERSION_MINOR(version), 0);
}

VmaAllocatorCreateFlags RawVmaFlags()
{
    const DeviceCapabilities& caps = Device().GetCapabilities();
    VmaAllocatorCreateFlags flags = 0;
    if (caps.memoryBudget)
        flags |= VMA_ALLOCATOR_CREATE_EXT_MEMORY_BUDGET_BIT;
    if (caps.memoryPriority)
        flags |= VMA_ALLOCATOR_CREATE_EXT_MEMORY_PRIORITY_BIT;
    if (caps.bufferDeviceAddress)
        flags |= VMA_ALLOCATOR_CREATE_BUFFER_DEVICE_ADDRESS_BIT;
    if (caps.maintenance4)
        flags |= VMA_ALLOCATOR_CREATE_KHR_MAINTENANCE4_BIT;
    return flags;
}
} // namespace

Options& GetOptions()
{
    static Options options;
    return options;
}

benchmark::internal::Benchmark* Configure(benchmark::internal::Benchmark* b, double minTimeSeconds,
                                          int64_t iterationDivisor)
{
    b->Unit(benchmark::kNanosecond);
    if (GetOptions().iterations > 0)
        return b->Iterations(
            std::max<int64_t>(1, GetOptions().iterations / std::max<int64_t>(1, iterationDivisor)));
    return b->MinTime(GetOptions().quick ? 0.002 : minTimeSeconds);
}

int Rounds(int full)
{
    return (GetOptions().quick || GetOptions().iterations > 0) ? 1 : full;
}

// ------------------------------------------------------------------ device
bool CreateDevice()
{
    VulkanDeviceOptions options; // no validation layer: benchmarks measure the driver, not the layer
    options.applicationName = "sedx-bench";
    s_Device = VulkanDevice::Create(options);
    return static_cast<bool>(s_Device);
}

void DestroyDevice()
{
    s_Device = nullptr;
}

VulkanDevice& Device()
{
    return *s_Device;
}

const Ref<VulkanDevice>& DeviceRef()
{
    return s_Device;
}

// ------------------------------------------------------------------ our allocator
AllocatorSettings SettingsFor(SessionKind kind)
{
    AllocatorSettings settings;
    if (kind == SessionKind::ForceGpuDefrag)
        settings.forceGpuDefragmentationCopies = true;
    return settings;
}

bool UseSession(SessionKind kind, bool fresh)
{
    if (s_SessionUp && s_SessionKind == kind && !fresh && MemoryAllocator::IsInitialized())
        return true;
    ReleaseStatsLiveSet();
    if (MemoryAllocator::IsInitialized())
        MemoryAllocator::Shutdown();
    s_SessionUp = MemoryAllocator::Init(s_Device, s_Device->GetApiVersion(), SettingsFor(kind));
    s_SessionKind = kind;
    return s_SessionUp;
}

void EndSession()
{
    ReleaseStatsLiveSet();
    if (MemoryAllocator::IsInitialized())
        MemoryAllocator::Shutdown();
    s_SessionUp = false;
}

// ------------------------------------------------------------------ per-pool figures
nlohmann::json PoolBreakdown(VmaAllocator allocator)
{
    nlohmann::json out = nlohmann::json::array();
    const nlohmann::json root = nlohmann::json::parse(Test::DetailedStatsString(allocator), nullptr, false);
    if (!root.is_object())
        return out;
    auto addPool = [&](const std::string& name, const std::string& type, const nlohmann::json& pool)
    {
        uint64_t blocks = 0, empty = 0, blockBytes = 0, usedBytes = 0, dedicated = 0;
        if (auto b = pool.find("Blocks"); b != pool.end() && b->is_object())
            for (const auto& [index, block] : b->items())
            {
                const uint64_t total = block.value("TotalBytes", uint64_t{0});
                ++blocks;
                blockBytes += total;
                usedBytes += total - block.value("UnusedBytes", uint64_t{0});
                empty += block.value("Allocations", uint64_t{0}) == 0 ? 1 : 0;
            }
        if (auto d = pool.find("DedicatedAllocations"); d != pool.end() && d->is_array())
            for (const auto& a : *d)
                dedicated += a.value("Size", uint64_t{0});
        if (blocks == 0 && dedicated == 0)
            return;
        out.push_back({{"pool", name},
                       {"memory_type", type},
                       {"preferred_block_size", pool.value("PreferredBlockSize", uint64_t{0})},
                       {"blocks", blocks},
                       {"empty_blocks", empty},
                       {"block_bytes", blockBytes},
                       {"used_bytes", usedBytes},
                       {"dedicated_bytes", dedicated}});
    };
    if (auto d = root.find("DefaultPools"); d != root.end() && d->is_object())
        for (const auto& [type, pool] : d->items())
            addPool("default", type, pool);
    if (auto c = root.find("CustomPools"); c != root.end() && c->is_object())
        for (const auto& [type, list] : c->items())
            for (const auto& pool : list)
                addPool(pool.value("Name", std::string("custom")), type, pool);
    return out;
}

double GranularityFloor(const nlohmann::json& pools)
{
    uint64_t best = 0, used = 0;
    for (const nlohmann::json& pool : pools)
    {
        const uint64_t bytes = pool.value("used_bytes", uint64_t{0});
        const uint64_t dedicated = pool.value("dedicated_bytes", uint64_t{0});
        uint64_t blockSize = pool.value("preferred_block_size", uint64_t{0});
        // VMA's default pools grow their blocks from an eighth of the preferred size: their best
        // case is the smallest block.
        if (pool.value("pool", std::string()) == "default")
            blockSize /= 8;
        if (blockSize == 0 && pool.value("blocks", uint64_t{0}) != 0)
            blockSize = pool.value("block_bytes", uint64_t{0}) / pool.value("blocks", uint64_t{1});
        best += (blockSize ? (bytes + blockSize - 1) / blockSize * blockSize : bytes) + dedicated;
        used += bytes + dedicated;
    }
    return used ? static_cast<double>(best) / static_cast<double>(used) : 0.0;
}

// ------------------------------------------------------------------ raw VMA
VmaAllocator CreateRawVma()
{
    VmaAllocatorCreateInfo ci{};
    ci.instance = Device().GetInstance();
    ci.physicalDevice = Device().GetPhysicalDevice();
    ci.device = Device().GetDevice();
    ci.vulkanApiVersion = TruncatedApiVersion(Device().GetApiVersion());
    ci.flags = RawVmaFlags();
    // Like our Init: every member null, so VMA imports the entry points statically.
    VmaVulkanFunctions functions{};
    ci.pVulkanFunctions = &functions;
    VmaAllocator allocator = nullptr;
    if (vmaCreateAllocator(&ci, &allocator) != VK_SUCCESS)
        return nullptr;
    return allocator;
}

void DestroyRawVma(VmaAllocator& allocator)
{
    if (allocator)
        vmaDestroyAllocator(allocator);
    allocator = nullptr;
}

VmaAllocator SharedRawVma()
{
    if (!s_SharedRaw)
        s_SharedRaw = CreateRawVma();
    return s_SharedRaw;
}

void DestroySharedRawVma()
{
    DestroyRawVma(s_SharedRaw);
}

nlohmann::json RawVmaSetup()
{
    const VmaAllocatorCreateFlags flags = RawVmaFlags();
    nlohmann::json flagNames = nlohmann::json::array();
    if (flags & VMA_ALLOCATOR_CREATE_EXT_MEMORY_BUDGET_BIT)
        flagNames.push_back("EXT_MEMORY_BUDGET");
    if (flags & VMA_ALLOCATOR_CREATE_EXT_MEMORY_PRIORITY_BIT)
        flagNames.push_back("EXT_MEMORY_PRIORITY");
    if (flags & VMA_ALLOCATOR_CREATE_BUFFER_DEVICE_ADDRESS_BIT)
        flagNames.push_back("BUFFER_DEVICE_ADDRESS");
    if (flags & VMA_ALLOCATOR_CREATE_KHR_MAINTENANCE4_BIT)
        flagNames.push_back("KHR_MAINTENANCE4");
    const uint32_t version = TruncatedApiVersion(Device().GetApiVersion());
    return nlohmann::json{
        {"allocator", "separate VmaAllocator, same device, same flags as MemoryAllocator::Init"},
        {"flags", flagNames},
        {"vulkanApiVersion",
         std::to_string(VK_API_VERSION_MAJOR(version)) + "." + std::to_string(VK_API_VERSION_MINOR(version))},
        {"vulkanFunctions", "static import (VMA_STATIC_VULKAN_FUNCTIONS), as ours"},
        {"preferredLargeHeapBlockSize", "VMA default"},
        {"pools", "VMA default pools (ours: size-class custom pools for buffers)"},
        {"bufferUsage", "same bits as ours, TRANSFER_SRC|TRANSFER_DST included"},
    };
}

// ------------------------------------------------------------------ inputs
VkBufferUsageFlags EffectiveBufferUsage(VkBufferUsageFlags requested)
{
    if (MemoryAllocator::GetSettings().addTransferUsage)
        requested |= VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    return requested;
}

VkImageUsageFlags EffectiveImageUsage(VkFormat format, VkImageUsageFlags requested)
{
    if (!MemoryAllocator::GetSettings().addTransferUsage)
        return requested;
    VkFormatProperties props{};
    vkGetPhysicalDeviceFormatProperties(Device().GetPhysicalDevice(), format, &props);
    if (props.optimalTilingFeatures & VK_FORMAT_FEATURE_TRANSFER_SRC_BIT)
        requested |= VK_IMAGE_USAGE_TRANSFER_SRC_BIT;
    if (props.optimalTilingFeatures & VK_FORMAT_FEATURE_TRANSFER_DST_BIT)
        requested |= VK_IMAGE_USAGE_TRANSFER_DST_BIT;
    return requested;
}

VkImageCreateInfo SquareImageInfo(uint32_t side, VkImageUsageFlags usage)
{
    return Test::ImageInfo(side, side, Test::FullMipCount(side, side), 1, VK_FORMAT_R8G8B8A8_UNORM, usage);
}

uint64_t SplitMix::Next()
{
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double SplitMix::Unit()
{
    return static_cast<double>(Next() >> 11) * 0x1.0p-53;
}

std::vector<VkDeviceSize> MixedSizes(size_t count, VkDeviceSize min, VkDeviceSize max, uint64_t seed,
                                     VkDeviceSize granule)
{
    SplitMix rng{seed};
    std::vector<VkDeviceSize> sizes(count);
    const double lo = std::log(static_cast<double>(min));
    const double hi = std::log(static_cast<double>(max));
    for (VkDeviceSize& size : sizes)
    {
        const auto raw = static_cast<VkDeviceSize>(std::exp(lo + (hi - lo) * rng.Unit()));
        size = std::clamp<VkDeviceSize>((raw + granule - 1) / granule * granule, min, max);
    }
    return sizes;
}

// ------------------------------------------------------------------ driver baselines
uint32_t BufferMemoryType(VmaAllocator allocator, VmaMemoryUsage usage, VkBufferUsageFlags bufferUsage)
{
    const VkBufferCreateInfo info = BufferInfo(64 * 1024, bufferUsage);
    VmaAllocationCreateInfo aci{};
    aci.usage = usage;
    uint32_t type = UINT32_MAX;
    if (vmaFindMemoryTypeIndexForBufferInfo(allocator, &info, &aci, &type) != VK_SUCCESS)
        return UINT32_MAX;
    return type;
}

VkResult AllocateLikeVma(VkDeviceSize size, uint32_t memoryType, VkDeviceMemory& out)
{
    const DeviceCapabilities& caps = Device().GetCapabilities();
    VkMemoryAllocateInfo info{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    info.allocationSize = size;
    info.memoryTypeIndex = memoryType;
    VkMemoryAllocateFlagsInfo flags{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO};
    VkMemoryPriorityAllocateInfoEXT priority{VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT};
    const void* chain = nullptr;
    if (caps.memoryPriority)
    {
        priority.priority = 0.5f;
        priority.pNext = chain;
        chain = &priority;
    }
    if (caps.bufferDeviceAddress)
    {
        flags.flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT;
        flags.pNext = chain;
        chain = &flags;
    }
    info.pNext = chain;
    return vkAllocateMemory(Device().GetDevice(), &info, nullptr, &out);
}

FloorMemory::FloorMemory(VkDeviceSize size, uint32_t memoryType) : m_Size(size)
{
    if (memoryType == UINT32_MAX || AllocateLikeVma(size, memoryType, m_Memory) != VK_SUCCESS)
        m_Memory = VK_NULL_HANDLE;
}

FloorMemory::~FloorMemory()
{
    if (m_Memory)
        vkFreeMemory(Device().GetDevice(), m_Memory, nullptr);
}

// ------------------------------------------------------------------ extras
void RecordExtra(const std::string& key, nlohmann::json value)
{
    std::lock_guard lock(s_ExtrasMutex);
    s_Extras[key] = std::move(value);
}

nlohmann::json Extras()
{
    std::lock_guard lock(s_ExtrasMutex);
    return s_Extras;
}

double ThreadCpuSeconds()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

const char* UsageName(VmaMemoryUsage usage)
{
    switch (usage)
    {
    case VMA_MEMORY_USAGE_GPU_ONLY:
        return "GPU_ONLY";
    case VMA_MEMORY_USAGE_CPU_TO_GPU:
        return "CPU_TO_GPU";
    case VMA_MEMORY_USAGE_CPU_ONLY:
        return "CPU_ONLY";
    case VMA_MEMORY_USAGE_GPU_TO_CPU:
        return "GPU_TO_CPU";
    case VMA_MEMORY_USAGE_AUTO:
        return "AUTO";
    default:
        return "other";
    }
}

std::vector<int64_t> StatsLiveCounts()
{
    if (GetOptions().quick)
        return {100, 10'000};
    return {100, 100'000};
}

std::vector<int> ThreadCounts()
{
    return {1, 2, 4, 8, 16};
}

} // namespace SceneryEditorX::Bench
