#include "MemoryTestSupport.h"

#include <SceneryEditorX/VmaDump/DumpModel.h>

#include <sstream>

namespace SceneryEditorX::Test
{

AllocationCreateInfo CreateInfo(VmaMemoryUsage usage, AllocationFlags flags, std::string name)
{
    AllocationCreateInfo info;
    info.usage = usage;
    info.flags = flags;
    info.name = std::move(name);
    return info;
}

VmaAllocationInfo InfoOf(VmaAllocation allocation)
{
    VmaAllocationInfo info{};
    vmaGetAllocationInfo(MemoryAllocator::GetAllocator(), allocation, &info);
    return info;
}

VmaAllocationInfo2 Info2Of(VmaAllocation allocation)
{
    VmaAllocationInfo2 info{};
    vmaGetAllocationInfo2(MemoryAllocator::GetAllocator(), allocation, &info);
    return info;
}

VkMemoryPropertyFlags MemoryFlagsOf(VmaAllocation allocation)
{
    VkMemoryPropertyFlags flags = 0;
    vmaGetAllocationMemoryProperties(MemoryAllocator::GetAllocator(), allocation, &flags);
    return flags;
}

std::string VmaNameOf(VmaAllocation allocation)
{
    const VmaAllocationInfo info = InfoOf(allocation);
    return info.pName ? std::string(info.pName) : std::string();
}

VmaStatistics VmaTotals()
{
    VmaTotalStatistics total{};
    vmaCalculateStatistics(MemoryAllocator::GetAllocator(), &total);
    return total.total.statistics;
}

uint32_t VmaMemoryTypeFor(const VkBufferCreateInfo& info, VmaMemoryUsage usage)
{
    VkBufferCreateInfo withTransfer = info;
    if (MemoryAllocator::GetSettings().addTransferUsage)
        withTransfer.usage |= VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    VmaAllocationCreateInfo aci{};
    aci.usage = usage;
    uint32_t type = UINT32_MAX;
    if (vmaFindMemoryTypeIndexForBufferInfo(MemoryAllocator::GetAllocator(), &withTransfer, &aci, &type) !=
        VK_SUCCESS)
        return UINT32_MAX;
    return type;
}

std::optional<PoolPlacement> PlacementOf(const std::string& vmaName)
{
    std::string error;
    const std::optional<detail::DumpModel> model =
        detail::ParseVmaDump(DetailedStatsString(MemoryAllocator::GetAllocator()), error);
    if (!model)
    {
        ADD_FAILURE() << "VMA's dump could not be parsed: " << error;
        return std::nullopt;
    }
    for (const detail::DumpPool& pool : model->pools)
    {
        PoolPlacement placement{pool.name, pool.custom, false, pool.preferredBlockSize};
        for (const detail::DumpBlock& block : pool.blocks)
            for (const detail::DumpRange& range : block.ranges)
                if (!range.free && range.name == vmaName)
                    return placement;
        for (const detail::DumpRange& range : pool.dedicated)
            if (range.name == vmaName)
            {
                placement.dedicated = true;
                return placement;
            }
    }
    return std::nullopt;
}

bool IsSingleUnifiedHeap()
{
    const VkPhysicalDeviceMemoryProperties& props = Device()->GetMemoryProperties();
    if (props.memoryHeapCount != 1)
        return false;
    constexpr VkMemoryPropertyFlags kUnified =
        VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
    for (uint32_t t = 0; t < props.memoryTypeCount; ++t)
        if ((props.memoryTypes[t].propertyFlags & kUnified) != kUnified)
            return false;
    return true;
}

bool HasLazilyAllocatedMemoryType()
{
    const VkPhysicalDeviceMemoryProperties& props = Device()->GetMemoryProperties();
    for (uint32_t t = 0; t < props.memoryTypeCount; ++t)
        if (props.memoryTypes[t].propertyFlags & VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT)
            return true;
    return false;
}

std::vector<VkDeviceSize> DeviceLocalHeapLimits(VkDeviceSize bytes)
{
    const VkPhysicalDeviceMemoryProperties& props = Device()->GetMemoryProperties();
    std::vector<VkDeviceSize> limits(props.memoryHeapCount, 0);
    for (uint32_t h = 0; h < props.memoryHeapCount; ++h)
        if (props.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
            limits[h] = bytes;
    return limits;
}

std::vector<VkDeviceSize> AllHeapLimits(VkDeviceSize bytes)
{
    return std::vector<VkDeviceSize>(Device()->GetMemoryProperties().memoryHeapCount, bytes);
}

size_t AllocatorErrors(const LogCapture& capture)
{
    return capture.Count(LogLevel::Error, {}, kAllocatorTag);
}

std::string Describe(const LogCapture& capture)
{
    std::ostringstream out;
    for (const LogRecord& r : capture.Records())
        out << "\n  [" << static_cast<int>(r.level) << "] [" << r.tag << "] " << r.message;
    return out.str();
}

::testing::AssertionResult OneAllocatorError(const LogCapture& capture, std::string_view needle)
{
    const size_t all = capture.Count(LogLevel::Error);
    const size_t tagged = capture.Count(LogLevel::Error, needle, kAllocatorTag);
    if (all == 1 && tagged == 1)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "expected exactly one error line, tagged " << kAllocatorTag
           << (needle.empty() ? "" : " and containing '") << needle << (needle.empty() ? "" : "'") << "; got "
           << all << " error line(s), of which " << tagged << " match. The log:" << Describe(capture);
}

::testing::AssertionResult AllocatorErrorCount(const LogCapture& capture, size_t count)
{
    const size_t all = capture.Count(LogLevel::Error);
    const size_t tagged = AllocatorErrors(capture);
    if (all == count && tagged == count)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "expected " << count << " error line(s) tagged " << kAllocatorTag << "; got " << all
           << " error line(s), " << tagged << " of them tagged. The log:" << Describe(capture);
}

::testing::AssertionResult NoErrors(const LogCapture& capture)
{
    if (capture.Count(LogLevel::Error) == 0)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "expected no error line; the log:" << Describe(capture);
}

CounterSnapshot Snapshot(const MemoryAllocator& allocator)
{
    CounterSnapshot s;
    s.vma = VmaTotals();
    const AllocationStats stats = allocator.GetStats();
    s.statsUsedBytes = stats.usedBytes;
    s.statsAllocationCount = stats.allocationCount;
    s.tag = stats.tag;
    return s;
}

::testing::AssertionResult SameCounters(const CounterSnapshot& before, const CounterSnapshot& after)
{
    const bool same =
        before.vma.allocationCount == after.vma.allocationCount &&
        before.vma.allocationBytes == after.vma.allocationBytes &&
        before.vma.blockCount == after.vma.blockCount && before.vma.blockBytes == after.vma.blockBytes &&
        before.statsUsedBytes == after.statsUsedBytes &&
        before.statsAllocationCount == after.statsAllocationCount &&
        before.tag.usedBytes == after.tag.usedBytes &&
        before.tag.allocationCount == after.tag.allocationCount &&
        before.tag.bufferCount == after.tag.bufferCount && before.tag.imageCount == after.tag.imageCount;
    if (same)
        return ::testing::AssertionSuccess();
    auto describe = [](const CounterSnapshot& s)
    {
        std::ostringstream out;
        out << "VMA {allocations " << s.vma.allocationCount << ", bytes " << s.vma.allocationBytes
            << ", blocks " << s.vma.blockCount << ", block bytes " << s.vma.blockBytes << "}, GetStats {used "
            << s.statsUsedBytes << ", count " << s.statsAllocationCount << "}, tag " << s.tag;
        return out.str();
    };
    return ::testing::AssertionFailure()
           << "the counters changed:\n  before: " << describe(before) << "\n  after:  " << describe(after);
}

bool EndsWith(const std::string& text, const std::string& suffix)
{
    return text.size() >= suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string CurrentTestName()
{
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return info ? std::string(info->test_suite_name()) + "." + info->name() : std::string("NoTest");
}

void AllocatorTest::SetUp()
{
    DeviceTest::SetUp();
    if (HasFatalFailure())
        return;
    if (Log::GetLevel() > LogLevel::Info)
        m_Level.emplace(LogLevel::Info); // tests count warnings and info lines
    ASSERT_FALSE(MemoryAllocator::IsInitialized()) << "a previous test left the allocator initialized";
    ASSERT_TRUE(MemoryAllocator::Init(Device(), VK_API_VERSION_1_3, Settings()));
    m_Allocator = CreateRef<MemoryAllocator>(CurrentTestName());
}

Buffer AllocatorTest::MakeBuffer(VkDeviceSize size, const AllocationCreateInfo& createInfo,
                                 VkBufferUsageFlags bufferUsage, MemoryAllocator* allocator)
{
    Buffer b;
    MemoryAllocator& a = allocator ? *allocator : Alloc();
    b.allocation = a.AllocateBuffer(BufferInfo(size, bufferUsage), createInfo, b.buffer);
    EXPECT_NE(b.allocation, nullptr) << size << " bytes";
    return b;
}

void AllocatorTest::Destroy(const Buffer& b)
{
    EXPECT_TRUE(Alloc().DestroyBuffer(b.buffer, b.allocation));
}

void AllocatorTest::TearDown()
{
    m_Allocator.Reset();
    if (MemoryAllocator::IsInitialized())
    {
        LogCapture capture;
        EXPECT_TRUE(MemoryAllocator::Shutdown());
        EXPECT_EQ(capture.Count(LogLevel::Error, "leak", kAllocatorTag), 0u)
            << "the test leaked allocations:" << Describe(capture);
        EXPECT_EQ(capture.Count(LogLevel::Error, {}, "VMA"), 0u)
            << "VMA reported leaks:" << Describe(capture);
    }
    m_Level.reset();
}

} // namespace SceneryEditorX::Test
