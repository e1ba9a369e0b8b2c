// Tests of the project's patches to VMA (patches/vma/*.patch), against VMA alone.
//
// This executable compiles its own VMA implementation from the header named at build time: the
// patched one that the project uses (sedx_vma_patch_tests, every test must pass) and, when
// scripts/install-deps.sh kept it, the unpatched one (sedx_vma_patch_tests_pristine, a CTest entry
// that passes only when the tests of patches 1, 2 and 4 FAIL there; patches 3, 5 and 6 add functions,
// so their tests are left out of that build: the unpatched header does not compile them). VMA's internal
// checks (VMA_ASSERT, VMA_HEAVY_ASSERT, which guards every index into VMA's vectors) throw instead of
// aborting, so an out-of-bounds index fails the test that caused it.
//
// The device is lavapipe's (or whatever SEDX_DEVICE-less instance creation finds first), created
// here with the Khronos validation layer; a validation warning or error fails the test. Lavapipe
// has one memory type and a bufferImageGranularity of 1, so the Vulkan function table given to VMA
// can present each real memory type as several (all allocating from the real one) and a larger
// granularity (always a valid, conservative choice for an allocator). The tests only allocate
// memory (vmaAllocateMemory), so nothing but vkAllocateMemory/vkFreeMemory reaches the driver.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include <vulkan/vulkan.h>

namespace
{
[[noreturn]] void VmaCheckFailed(const char* expr, const char* file, int line)
{
    throw std::logic_error(std::string("VMA check failed: ") + expr + " (" + file + ":" +
                           std::to_string(line) + ")");
}
} // namespace

#define VMA_ASSERT(expr) ((expr) ? (void)0 : VmaCheckFailed(#expr, __FILE__, __LINE__))
#define VMA_HEAVY_ASSERT(expr) VMA_ASSERT(expr)
#define VMA_STATIC_VULKAN_FUNCTIONS 0
#define VMA_DYNAMIC_VULKAN_FUNCTIONS 0
#define VMA_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wnullability-completeness"
#endif
#include SEDX_VMA_PATCH_TEST_HEADER
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace
{
// ------------------------------------------------------------------ the device
struct Device
{
    VkInstance instance = VK_NULL_HANDLE;
    VkPhysicalDevice physical = VK_NULL_HANDLE;
    VkDevice device = VK_NULL_HANDLE;
    VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
    int validationMessages = 0;
    std::string lastMessage;
};
Device g_Device;

VKAPI_ATTR VkBool32 VKAPI_CALL OnValidation(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                            VkDebugUtilsMessageTypeFlagsEXT,
                                            const VkDebugUtilsMessengerCallbackDataEXT* data, void*)
{
    if (severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT)
    {
        ++g_Device.validationMessages;
        g_Device.lastMessage = data && data->pMessage ? data->pMessage : "";
        std::fprintf(stderr, "validation: %s\n", g_Device.lastMessage.c_str());
    }
    return VK_FALSE;
}

class DeviceEnvironment : public ::testing::Environment
{
public:
    void SetUp() override
    {
        const char* layer = "VK_LAYER_KHRONOS_validation";
        const char* extension = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
        VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
        app.pApplicationName = "sedx_vma_patch_tests";
        app.apiVersion = VK_API_VERSION_1_1;
        VkDebugUtilsMessengerCreateInfoEXT messenger{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
        messenger.messageSeverity =
            VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
        messenger.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                                VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                                VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
        messenger.pfnUserCallback = OnValidation;
        VkInstanceCreateInfo info{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
        info.pNext = &messenger;
        info.pApplicationInfo = &app;
        info.enabledLayerCount = 1;
        info.ppEnabledLayerNames = &layer;
        info.enabledExtensionCount = 1;
        info.ppEnabledExtensionNames = &extension;
        ASSERT_EQ(vkCreateInstance(&info, nullptr, &g_Device.instance), VK_SUCCESS)
            << "no Vulkan instance with the validation layer";
        auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(g_Device.instance, "vkCreateDebugUtilsMessengerEXT"));
        ASSERT_NE(create, nullptr);
        ASSERT_EQ(create(g_Device.instance, &messenger, nullptr, &g_Device.messenger), VK_SUCCESS);
        uint32_t count = 1;
        VkResult r = vkEnumeratePhysicalDevices(g_Device.instance, &count, &g_Device.physical);
        ASSERT_TRUE((r == VK_SUCCESS || r == VK_INCOMPLETE) && count == 1) << "no physical device";
        const float priority = 1.0f;
        VkDeviceQueueCreateInfo queue{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
        queue.queueFamilyIndex = 0;
        queue.queueCount = 1;
        queue.pQueuePriorities = &priority;
        VkDeviceCreateInfo deviceInfo{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
        deviceInfo.queueCreateInfoCount = 1;
        deviceInfo.pQueueCreateInfos = &queue;
        ASSERT_EQ(vkCreateDevice(g_Device.physical, &deviceInfo, nullptr, &g_Device.device), VK_SUCCESS);
    }
    void TearDown() override
    {
        if (g_Device.device)
            vkDestroyDevice(g_Device.device, nullptr);
        if (g_Device.messenger)
            reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
                vkGetInstanceProcAddr(g_Device.instance, "vkDestroyDebugUtilsMessengerEXT"))(
                g_Device.instance, g_Device.messenger, nullptr);
        if (g_Device.instance)
            vkDestroyInstance(g_Device.instance, nullptr);
        g_Device = {};
    }
};
const auto* const g_Environment = ::testing::AddGlobalTestEnvironment(new DeviceEnvironment);

// ------------------------------------------------------------------ the function table VMA sees
// Each real memory type appears as `copies` types in a row (same flags, same heap); allocating
// from one of them allocates from the real type. bufferImageGranularity reads at least
// `granularity`.
struct Presentation
{
    uint32_t copies = 1;
    VkDeviceSize granularity = 1;
};
Presentation g_Presentation;

void VKAPI_CALL PresentedProperties(VkPhysicalDevice physical, VkPhysicalDeviceProperties* properties)
{
    vkGetPhysicalDeviceProperties(physical, properties);
    properties->limits.bufferImageGranularity =
        std::max(properties->limits.bufferImageGranularity, g_Presentation.granularity);
}

void VKAPI_CALL PresentedMemoryProperties(VkPhysicalDevice physical,
                                          VkPhysicalDeviceMemoryProperties* properties)
{
    VkPhysicalDeviceMemoryProperties real{};
    vkGetPhysicalDeviceMemoryProperties(physical, &real);
    *properties = real;
    const uint32_t copies = g_Presentation.copies;
    properties->memoryTypeCount = std::min<uint32_t>(real.memoryTypeCount * copies, VK_MAX_MEMORY_TYPES);
    for (uint32_t i = 0; i < properties->memoryTypeCount; ++i)
        properties->memoryTypes[i] = real.memoryTypes[i / copies];
}

VkResult VKAPI_CALL PresentedAllocate(VkDevice device, const VkMemoryAllocateInfo* info,
                                      const VkAllocationCallbacks* callbacks, VkDeviceMemory* memory)
{
    VkMemoryAllocateInfo real = *info;
    real.memoryTypeIndex /= g_Presentation.copies;
    return vkAllocateMemory(device, &real, callbacks, memory);
}

// The presented type bits of real type bits.
uint32_t PresentedBits(uint32_t realBits)
{
    uint32_t bits = 0;
    for (uint32_t i = 0; i < 32 / g_Presentation.copies; ++i)
        if (realBits & (1u << i))
            for (uint32_t k = 0; k < g_Presentation.copies; ++k)
                bits |= 1u << (i * g_Presentation.copies + k);
    return bits;
}

void VKAPI_CALL PresentedBufferRequirements(VkDevice device, VkBuffer buffer,
                                            VkMemoryRequirements* requirements)
{
    vkGetBufferMemoryRequirements(device, buffer, requirements);
    requirements->memoryTypeBits = PresentedBits(requirements->memoryTypeBits);
}

void VKAPI_CALL PresentedImageRequirements(VkDevice device, VkImage image, VkMemoryRequirements* requirements)
{
    vkGetImageMemoryRequirements(device, image, requirements);
    requirements->memoryTypeBits = PresentedBits(requirements->memoryTypeBits);
}

class VmaPatchTest : public ::testing::Test
{
protected:
    void SetUp() override { ASSERT_NE(g_Device.device, VK_NULL_HANDLE); }

    // An allocator over the device, presenting `copies` memory types per real one.
    void CreateAllocator(uint32_t copies, VkDeviceSize granularity, VkDeviceSize blockSize)
    {
        g_Presentation = {copies, granularity};
        VmaVulkanFunctions functions{};
        functions.vkGetInstanceProcAddr = vkGetInstanceProcAddr;
        functions.vkGetDeviceProcAddr = vkGetDeviceProcAddr;
        functions.vkGetPhysicalDeviceProperties = PresentedProperties;
        functions.vkGetPhysicalDeviceMemoryProperties = PresentedMemoryProperties;
        functions.vkAllocateMemory = PresentedAllocate;
        functions.vkFreeMemory = vkFreeMemory;
        functions.vkMapMemory = vkMapMemory;
        functions.vkUnmapMemory = vkUnmapMemory;
        functions.vkFlushMappedMemoryRanges = vkFlushMappedMemoryRanges;
        functions.vkInvalidateMappedMemoryRanges = vkInvalidateMappedMemoryRanges;
        functions.vkBindBufferMemory = vkBindBufferMemory;
        functions.vkBindImageMemory = vkBindImageMemory;
        functions.vkGetBufferMemoryRequirements = PresentedBufferRequirements;
        functions.vkGetImageMemoryRequirements = PresentedImageRequirements;
        functions.vkCreateBuffer = vkCreateBuffer;
        functions.vkDestroyBuffer = vkDestroyBuffer;
        functions.vkCreateImage = vkCreateImage;
        functions.vkDestroyImage = vkDestroyImage;
        functions.vkCmdCopyBuffer = vkCmdCopyBuffer;
        VmaAllocatorCreateInfo info{};
        info.physicalDevice = g_Device.physical;
        info.device = g_Device.device;
        info.instance = g_Device.instance;
        info.vulkanApiVersion = VK_API_VERSION_1_0; // no *2 queries: every call goes through the table above
        info.pVulkanFunctions = &functions;
        info.preferredLargeHeapBlockSize = blockSize;
        info.pAllocationCallbacks = m_HostCallbacks;
        ASSERT_EQ(vmaCreateAllocator(&info, &m_Allocator), VK_SUCCESS);
        VkPhysicalDeviceMemoryProperties properties{};
        PresentedMemoryProperties(g_Device.physical, &properties);
        m_TypeCount = properties.memoryTypeCount;
        m_DeviceLocalType = UINT32_MAX;
        for (uint32_t i = 0; i < properties.memoryTypeCount && m_DeviceLocalType == UINT32_MAX; ++i)
            if (properties.memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT)
                m_DeviceLocalType = i; // the first presented copy of a device-local type
        ASSERT_NE(m_DeviceLocalType, UINT32_MAX);
    }

    void TearDown() override
    {
        // After a failed VMA check VMA's state is not trusted: free nothing, destroy nothing.
        if (m_Broken)
            return;
        for (VmaAllocation a : m_Live)
            if (a)
                vmaFreeMemory(m_Allocator, a);
        if (m_Pool)
            vmaDestroyPool(m_Allocator, m_Pool);
        if (m_Allocator)
            vmaDestroyAllocator(m_Allocator);
        EXPECT_EQ(g_Device.validationMessages, 0) << g_Device.lastMessage;
        g_Device.validationMessages = 0;
    }

    void CreatePool(VkDeviceSize blockSize)
    {
        VmaPoolCreateInfo info{};
        info.memoryTypeIndex = m_DeviceLocalType;
        info.blockSize = blockSize;
        ASSERT_EQ(vmaCreatePool(m_Allocator, &info, &m_Pool), VK_SUCCESS);
    }

    // Host memory callbacks for the next CreateAllocator (null: VMA's own malloc/free).
    const VkAllocationCallbacks* m_HostCallbacks = nullptr;

public:
    // Allocates `size` bytes in the pool, or (`inPool` false, or no pool) in the default pool of
    // the `copy`-th presented copy of the device-local type.
    VmaAllocation Allocate(VkDeviceSize size, uint32_t copy = 0, bool inPool = true)
    {
        const bool pool = inPool && m_Pool;
        VkMemoryRequirements requirements{size, 256, 1u << (m_DeviceLocalType + (pool ? 0 : copy))};
        VmaAllocationCreateInfo info{};
        info.pool = pool ? m_Pool : nullptr;
        VmaAllocation a = nullptr;
        EXPECT_EQ(vmaAllocateMemory(m_Allocator, &requirements, &info, &a, nullptr), VK_SUCCESS);
        m_Live.push_back(a);
        return a;
    }

    void Free(VmaAllocation a)
    {
        auto it = std::find(m_Live.begin(), m_Live.end(), a);
        ASSERT_NE(it, m_Live.end());
        vmaFreeMemory(m_Allocator, a);
        m_Live.erase(it);
    }

    VkDeviceMemory MemoryOf(VmaAllocation a) const
    {
        VmaAllocationInfo info{};
        vmaGetAllocationInfo(m_Allocator, a, &info);
        return info.deviceMemory;
    }

    uint32_t PoolBlocks() const
    {
        VmaStatistics stats{};
        vmaGetPoolStatistics(m_Allocator, m_Pool, &stats);
        return stats.blockCount;
    }

    // Runs a whole defragmentation, pass after pass until VMA proposes nothing (at most 200 passes);
    // `betweenPasses` runs after each pass, `ignore` decides per move. Returns the moves done. A VMA check
    // that fails marks the fixture broken and fails.
    template <class BetweenPasses, class Ignore>
    uint32_t Defragment(VmaPool pool, VmaDefragmentationFlags algorithm, BetweenPasses betweenPasses,
                        Ignore ignore, uint32_t maxAllocationsPerPass = 0)
    {
        uint32_t moved = 0;
        try
        {
            VmaDefragmentationInfo info{};
            info.flags = algorithm;
            info.pool = pool;
            info.maxAllocationsPerPass = maxAllocationsPerPass;
            VmaDefragmentationContext context = nullptr;
            EXPECT_EQ(vmaBeginDefragmentation(m_Allocator, &info, &context), VK_SUCCESS);
            for (int pass = 0; pass < 200; ++pass)
            {
                VmaDefragmentationPassMoveInfo moves{};
                if (vmaBeginDefragmentationPass(m_Allocator, context, &moves) == VK_SUCCESS)
                    break;
                for (uint32_t i = 0; i < moves.moveCount; ++i)
                    if (ignore(moves.pMoves[i]))
                        moves.pMoves[i].operation = VMA_DEFRAGMENTATION_MOVE_OPERATION_IGNORE;
                    else
                        ++moved; // nothing to copy: the allocations hold no data
                // VK_SUCCESS here means VMA sees nothing more to do; another pass is still allowed,
                // and VMA's next vmaBeginDefragmentationPass has the last word.
                vmaEndDefragmentationPass(m_Allocator, context, &moves);
                betweenPasses(pass);
            }
            vmaEndDefragmentation(m_Allocator, context, nullptr);
        }
        catch (const std::logic_error& e)
        {
            m_Broken = true;
            ADD_FAILURE() << e.what();
        }
        return moved;
    }

    VmaAllocator m_Allocator = nullptr;
    VmaPool m_Pool = nullptr;
    uint32_t m_TypeCount = 0;
    uint32_t m_DeviceLocalType = 0;
    std::vector<VmaAllocation> m_Live;
    bool m_Broken = false;
};

constexpr VkDeviceSize kKiB = 1024;
constexpr VkDeviceSize kMiB = 1024 * kKiB;

// Patch 2: FULL and BALANCED compact the first block, so the big allocation of the second block
// moves into it, and the second block is left empty.
class FirstBlock : public VmaPatchTest, public ::testing::WithParamInterface<VmaDefragmentationFlags>
{
};

TEST_P(FirstBlock, IsCompacted)
{
    CreateAllocator(1, 1, 64 * kMiB);
    CreatePool(1 * kMiB);
    // The first block: sixteen 64 KiB allocations, every other one freed (eight 64 KiB holes). The
    // second: one 256 KiB allocation, which fits in the first only once its holes are merged.
    std::vector<VmaAllocation> small;
    for (int i = 0; i < 16; ++i)
        small.push_back(Allocate(64 * kKiB));
    VmaAllocation big = Allocate(256 * kKiB);
    for (int i = 1; i < 16; i += 2)
        Free(small[i]);
    ASSERT_EQ(PoolBlocks(), 2u);
    const VkDeviceMemory firstBlock = MemoryOf(m_Live.front());
    ASSERT_NE(MemoryOf(big), firstBlock);

    const uint32_t moved = Defragment(
        m_Pool, GetParam(), [](int) {}, [](const VmaDefragmentationMove&) { return false; });
    ASSERT_FALSE(m_Broken);
    EXPECT_GT(moved, 1u);
    EXPECT_EQ(MemoryOf(big), firstBlock) << "the 256 KiB allocation stayed in the second block: the first "
                                            "block's holes were never merged";
    for (VmaAllocation a : m_Live)
        EXPECT_EQ(MemoryOf(a), firstBlock);
}

INSTANTIATE_TEST_SUITE_P(
    VmaPatchTest, FirstBlock,
    ::testing::Values(VmaDefragmentationFlags(VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FULL_BIT),
                      VmaDefragmentationFlags(VMA_DEFRAGMENTATION_FLAG_ALGORITHM_BALANCED_BIT)),
    [](const auto& info)
    { return info.param == VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FULL_BIT ? "Full" : "Balanced"; });

// Patch 1: EXTENSIVE keeps StateExtensive::firstFreeBlock inside the block list when the
// application frees whole blocks between passes (VMA allows freeing any allocation that is not in
// the current pass).
TEST_F(VmaPatchTest, ExtensiveSurvivesBlocksFreedBetweenPasses)
{
    CreateAllocator(1, 1024, 64 * kMiB);
    CreatePool(1 * kMiB);
    // Six blocks of four 256 KiB allocations; then a quarter of each block freed, so that the last
    // block's allocations fit in the others and EXTENSIVE empties it first.
    std::vector<std::vector<VmaAllocation>> blocks(6);
    for (auto& block : blocks)
        for (int i = 0; i < 4; ++i)
            block.push_back(Allocate(256 * kKiB));
    ASSERT_EQ(PoolBlocks(), 6u);
    for (auto& block : blocks)
    {
        Free(block[1]);
        block.erase(block.begin() + 1);
    }
    bool freedBlocks = false;
    Defragment(
        m_Pool, VMA_DEFRAGMENTATION_FLAG_ALGORITHM_EXTENSIVE_BIT,
        [&](int)
        {
            if (freedBlocks)
                return;
            // After the first pass: free every allocation of the first three blocks still in
            // place (not the ones the pass moved), which deletes blocks below firstFreeBlock.
            freedBlocks = true;
            std::vector<VkDeviceMemory> doomed;
            for (int b = 0; b < 3; ++b)
                doomed.push_back(MemoryOf(blocks[b][0]));
            std::vector<VmaAllocation> victims;
            for (VmaAllocation a : m_Live)
                if (std::find(doomed.begin(), doomed.end(), MemoryOf(a)) != doomed.end())
                    victims.push_back(a);
            for (VmaAllocation a : victims)
                Free(a);
        },
        [](const VmaDefragmentationMove&) { return false; }, 3);
    EXPECT_FALSE(m_Broken);
}

// Patch 1: a context over the default pools keeps one immovable-block count per memory type. The
// moves proposed in the first memory type are all refused (as for resources that cannot be copied),
// which makes their source blocks immovable; with one count for the whole context, the second
// memory type's blocks then count as immovable too and it is never compacted.
TEST_F(VmaPatchTest, DefaultPoolsKeepOneImmovableCountPerMemoryType)
{
    CreateAllocator(2, 1, 1 * kMiB);
    ASSERT_GE(m_TypeCount, m_DeviceLocalType + 2);
    // Two presented copies of the device-local type, each with its default pool: the first gets
    // six blocks, the second three; every block ends partly empty.
    for (uint32_t copy = 0; copy < 2; ++copy)
    {
        std::vector<VmaAllocation> made;
        for (int i = 0; i < (copy == 0 ? 22 : 8); ++i)
            made.push_back(Allocate(256 * kKiB, copy, false));
        for (size_t i = 3; i < made.size(); i += 4)
            Free(made[i]);
    }
    uint32_t movedInSecond = 0;
    Defragment(
        nullptr, VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FULL_BIT, [](int) {},
        [&](const VmaDefragmentationMove& move)
        {
            VmaAllocationInfo info{};
            vmaGetAllocationInfo(m_Allocator, move.srcAllocation, &info);
            const bool first = info.memoryType == m_DeviceLocalType;
            movedInSecond += first ? 0 : 1;
            return first;
        },
        1);
    EXPECT_FALSE(m_Broken);
    EXPECT_GT(movedInSecond, 0u) << "the second memory type was never compacted: the blocks made "
                                    "immovable in the first counted against it";
}

// Patch 4: EXTENSIVE closes a free range that lies below allocations larger than it. A copy may not
// overlap its source, so none of them can move down into it; the patched cleanup slides one up into
// the block's free tail, and the merged range below takes the others.
TEST_F(VmaPatchTest, ExtensiveClosesAHoleBelowLargerAllocations)
{
    CreateAllocator(1, 1024, 64 * kMiB); // granularity above 1: EXTENSIVE runs as itself, not as FULL
    CreatePool(1 * kMiB);
    // One block: 64 KiB kept, 64 KiB freed (the hole), then two 256 KiB allocations and a free tail.
    Allocate(64 * kKiB);
    VmaAllocation hole = Allocate(64 * kKiB);
    Allocate(256 * kKiB);
    Allocate(256 * kKiB);
    Free(hole);
    ASSERT_EQ(PoolBlocks(), 1u);
    VmaDetailedStatistics before{};
    vmaCalculatePoolStatistics(m_Allocator, m_Pool, &before);
    ASSERT_EQ(before.unusedRangeCount, 2u) << "the hole and the tail";

    const uint32_t moved = Defragment(
        m_Pool, VMA_DEFRAGMENTATION_FLAG_ALGORITHM_EXTENSIVE_BIT, [](int) {},
        [](const VmaDefragmentationMove&) { return false; });
    ASSERT_FALSE(m_Broken);
    EXPECT_GT(moved, 0u);
    VmaDetailedStatistics after{};
    vmaCalculatePoolStatistics(m_Allocator, m_Pool, &after);
    EXPECT_EQ(after.statistics.allocationCount, 3u);
    EXPECT_EQ(after.unusedRangeCount, 1u) << "a free range stayed below the 256 KiB allocations";
    EXPECT_EQ(after.unusedRangeSizeMax, 1 * kMiB - 576 * kKiB);
}

#if !SEDX_VMA_PRISTINE
// Patch 3: vmaReleaseEmptyBlocks frees the one empty block that VMA keeps.
TEST_F(VmaPatchTest, ReleaseEmptyBlocksFreesTheKeptBlock)
{
    CreateAllocator(2, 1, 64 * kMiB);
    CreatePool(1 * kMiB);
    std::vector<VmaAllocation> first, second;
    for (int i = 0; i < 4; ++i)
        first.push_back(Allocate(256 * kKiB));
    for (int i = 0; i < 4; ++i)
        second.push_back(Allocate(256 * kKiB));
    ASSERT_EQ(PoolBlocks(), 2u);
    for (VmaAllocation a : second)
        Free(a);
    EXPECT_EQ(PoolBlocks(), 2u) << "VMA keeps one empty block";
    size_t blocks = 0;
    VkDeviceSize bytes = 0;
    vmaReleaseEmptyBlocks(m_Allocator, m_Pool, &blocks, &bytes);
    EXPECT_EQ(blocks, 1u);
    EXPECT_EQ(bytes, 1 * kMiB);
    EXPECT_EQ(PoolBlocks(), 1u);
    // Nothing more to release; the block in use stays; null outputs are allowed.
    vmaReleaseEmptyBlocks(m_Allocator, m_Pool, &blocks, &bytes);
    EXPECT_EQ(blocks, 0u);
    EXPECT_EQ(bytes, 0u);
    vmaReleaseEmptyBlocks(m_Allocator, m_Pool, nullptr, nullptr);
    EXPECT_EQ(PoolBlocks(), 1u);

    // The default pools: an empty block of one memory type is released the same way.
    Allocate(256 * kKiB, 0, false);
    Free(Allocate(256 * kKiB, 1, false));
    VmaTotalStatistics total{};
    vmaCalculateStatistics(m_Allocator, &total);
    const uint32_t before = total.total.statistics.blockCount;
    vmaReleaseEmptyBlocks(m_Allocator, nullptr, &blocks, &bytes);
    EXPECT_EQ(blocks, 1u);
    vmaCalculateStatistics(m_Allocator, &total);
    EXPECT_EQ(total.total.statistics.blockCount, before - 1);
}

// Patch 5: vmaCalculateStatisticsWithBlocks gives each block's own statistics, with its pool and
// memory type, in the same walk, and fills the totals exactly as vmaCalculateStatistics does.
TEST_F(VmaPatchTest, StatisticsWithBlocksGivesEachBlocksFigures)
{
    CreateAllocator(2, 1, 64 * kMiB);
    CreatePool(1 * kMiB);
    // Pool: block 1 holds 4 x 256 KiB with the 2nd freed (a hole), block 2 one 256 KiB allocation.
    std::vector<VmaAllocation> pool;
    for (int i = 0; i < 5; ++i)
        pool.push_back(Allocate(256 * kKiB));
    Free(pool[1]);
    // Default pool of the 2nd presented copy of the device-local type: one 64 KiB allocation.
    Allocate(64 * kKiB, 1, false);

    struct Seen
    {
        std::vector<VmaBlockStatistics> blocks;
    } seen;
    VmaTotalStatistics withBlocks{};
    vmaCalculateStatisticsWithBlocks(
        m_Allocator, &withBlocks,
        [](void* user, const VmaBlockStatistics* block)
        { static_cast<Seen*>(user)->blocks.push_back(*block); },
        &seen);
    ASSERT_EQ(seen.blocks.size(), 3u);
    VkDeviceSize blockBytes = 0, allocationBytes = 0;
    uint32_t poolBlocks = 0;
    for (const VmaBlockStatistics& b : seen.blocks)
    {
        EXPECT_EQ(b.stats.statistics.blockCount, 1u);
        blockBytes += b.stats.statistics.blockBytes;
        allocationBytes += b.stats.statistics.allocationBytes;
        if (b.pool == m_Pool)
        {
            ++poolBlocks;
            EXPECT_EQ(b.memoryTypeIndex, m_DeviceLocalType);
            EXPECT_EQ(b.stats.statistics.blockBytes, 1 * kMiB);
            if (b.memory == MemoryOf(pool[0]))
            {
                EXPECT_EQ(b.stats.statistics.allocationCount, 3u);
                EXPECT_EQ(b.stats.unusedRangeCount, 1u) << "the freed 256 KiB is one hole";
                EXPECT_EQ(b.stats.unusedRangeSizeMax, 256 * kKiB);
            }
            else
            {
                EXPECT_EQ(b.memory, MemoryOf(pool[4]));
                EXPECT_EQ(b.stats.statistics.allocationCount, 1u);
                EXPECT_EQ(b.stats.unusedRangeSizeMax, 768 * kKiB);
            }
        }
        else
        {
            EXPECT_EQ(b.pool, nullptr);
            EXPECT_EQ(b.memoryTypeIndex, m_DeviceLocalType + 1);
            EXPECT_EQ(b.stats.statistics.allocationCount, 1u);
            EXPECT_EQ(b.stats.statistics.allocationBytes, 64 * kKiB);
        }
    }
    EXPECT_EQ(poolBlocks, 2u);
    // The totals are vmaCalculateStatistics' and the sums of the blocks'.
    VmaTotalStatistics plain{};
    vmaCalculateStatistics(m_Allocator, &plain);
    EXPECT_EQ(withBlocks.total.statistics.blockBytes, plain.total.statistics.blockBytes);
    EXPECT_EQ(withBlocks.total.statistics.allocationBytes, plain.total.statistics.allocationBytes);
    EXPECT_EQ(withBlocks.total.statistics.allocationCount, plain.total.statistics.allocationCount);
    EXPECT_EQ(withBlocks.total.unusedRangeCount, plain.total.unusedRangeCount);
    EXPECT_EQ(withBlocks.total.unusedRangeSizeMax, plain.total.unusedRangeSizeMax);
    EXPECT_EQ(withBlocks.memoryType[m_DeviceLocalType].statistics.blockCount, 2u);
    EXPECT_EQ(blockBytes, plain.total.statistics.blockBytes);
    EXPECT_EQ(allocationBytes, plain.total.statistics.allocationBytes);
}

// Patch 6: vmaSetAllocationNameStatic keeps the caller's pointer (no copy) and never frees it;
// a copied name set before or after is freed as before, and the dump shows the static name.
// VMA's host allocations, checked: every free must be of a block VMA allocated and not yet freed.
struct HostLedger
{
    std::vector<void*> live;
    int allocations = 0;
    int foreignFrees = 0; // frees of pointers VMA never allocated (a static name freed would be one)

    static void* VKAPI_CALL Allocate(void* user, size_t size, size_t alignment, VkSystemAllocationScope)
    {
        auto* self = static_cast<HostLedger*>(user);
        void* p = std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
        self->live.push_back(p);
        ++self->allocations;
        return p;
    }
    static void* VKAPI_CALL Reallocate(void*, void*, size_t, size_t, VkSystemAllocationScope)
    {
        return nullptr; // VMA never reallocates
    }
    static void VKAPI_CALL Free(void* user, void* p)
    {
        if (!p)
            return;
        auto* self = static_cast<HostLedger*>(user);
        auto it = std::find(self->live.begin(), self->live.end(), p);
        if (it == self->live.end())
        {
            ++self->foreignFrees; // not VMA's: left alone
            return;
        }
        self->live.erase(it);
        std::free(p);
    }
};

TEST_F(VmaPatchTest, StaticNameIsKeptAndNeverFreed)
{
    HostLedger ledger;
    const VkAllocationCallbacks callbacks{
        &ledger, HostLedger::Allocate, HostLedger::Reallocate, HostLedger::Free, nullptr, nullptr};
    m_HostCallbacks = &callbacks;
    CreateAllocator(1, 1, 64 * kMiB);
    const std::string shared = "tag:shared"; // outlives the allocations, as a tag's name does
    VmaAllocation a = Allocate(64 * kKiB, 0, false);
    VmaAllocation b = Allocate(64 * kKiB, 0, false);

    int before = ledger.allocations;
    vmaSetAllocationNameStatic(m_Allocator, a, shared.c_str());
    vmaSetAllocationNameStatic(m_Allocator, b, shared.c_str());
    EXPECT_EQ(ledger.allocations, before) << "a static name is not copied";
    VmaAllocationInfo info{};
    vmaGetAllocationInfo(m_Allocator, a, &info);
    EXPECT_EQ(info.pName, shared.c_str()) << "the allocation keeps the caller's pointer";

    char* dump = nullptr;
    vmaBuildStatsString(m_Allocator, &dump, VK_TRUE);
    ASSERT_NE(dump, nullptr);
    EXPECT_NE(std::string(dump).find("\"Name\": \"tag:shared\""), std::string::npos);
    vmaFreeStatsString(m_Allocator, dump);

    // A copied name replaces the static one, then a static name replaces the copy (which is freed).
    before = ledger.allocations;
    vmaSetAllocationName(m_Allocator, a, "copied");
    EXPECT_EQ(ledger.allocations, before + 1);
    vmaGetAllocationInfo(m_Allocator, a, &info);
    ASSERT_NE(info.pName, nullptr);
    EXPECT_STREQ(info.pName, "copied");
    const size_t liveWithCopy = ledger.live.size();
    vmaSetAllocationNameStatic(m_Allocator, a, shared.c_str());
    EXPECT_EQ(ledger.live.size(), liveWithCopy - 1) << "the copy is freed when a static name replaces it";
    vmaSetAllocationNameStatic(m_Allocator, a, nullptr);
    vmaGetAllocationInfo(m_Allocator, a, &info);
    EXPECT_EQ(info.pName, nullptr);
    vmaSetAllocationNameStatic(m_Allocator, a, shared.c_str());

    Free(a);
    Free(b);
    vmaDestroyAllocator(m_Allocator);
    m_Allocator = nullptr;
    EXPECT_EQ(ledger.foreignFrees, 0) << "VMA freed a name it did not copy";
    EXPECT_TRUE(ledger.live.empty()) << ledger.live.size() << " host blocks of VMA's were not freed";
    EXPECT_EQ(shared, "tag:shared");
}
#endif

} // namespace
