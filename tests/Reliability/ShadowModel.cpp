#include "ShadowModel.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <map>
#include <sstream>

namespace SceneryEditorX::Reliability
{
namespace
{
bool IsAuto(VmaMemoryUsage usage)
{
    return usage == VMA_MEMORY_USAGE_AUTO || usage == VMA_MEMORY_USAGE_AUTO_PREFER_DEVICE ||
           usage == VMA_MEMORY_USAGE_AUTO_PREFER_HOST;
}

bool HasHostAccess(AllocationFlags flags)
{
    return HasFlag(flags, AllocationFlags::HostAccessSequentialWrite) ||
           HasFlag(flags, AllocationFlags::HostAccessRandom);
}

std::string Name(const LiveAllocation& a)
{
    std::ostringstream s;
    s << (a.kind == Kind::Buffer ? "buffer" : "image") << " " << static_cast<const void*>(a.allocation)
      << " (" << a.requested << " bytes requested, " << a.size << " allocated, usage " << int(a.usage)
      << ", flags " << static_cast<uint32_t>(a.flags) << ", instance " << a.instance << ")";
    return s.str();
}

void CollectStaging(const nlohmann::json& node, std::vector<VkDeviceSize>& sizes)
{
    if (node.is_object())
    {
        auto name = node.find("Name");
        auto size = node.find("Size");
        if (name != node.end() && size != node.end() && name->is_string() && size->is_number_unsigned() &&
            name->get<std::string>() == "sedx:staging")
            sizes.push_back(size->get<VkDeviceSize>());
        for (const auto& item : node.items())
            CollectStaging(item.value(), sizes);
    }
    else if (node.is_array())
    {
        for (const auto& item : node)
            CollectStaging(item, sizes);
    }
}

std::vector<VkDeviceSize> StagingSizesInDump()
{
    std::vector<VkDeviceSize> sizes;
    VmaAllocator allocator = MemoryAllocator::GetAllocator();
    if (!allocator)
        return sizes;
    const nlohmann::json dump = nlohmann::json::parse(Test::DetailedStatsString(allocator), nullptr, false);
    CollectStaging(dump, sizes);
    return sizes;
}
} // namespace

size_t ErrorLines(const LogCapture& capture)
{
    return capture.Count(LogLevel::Error);
}

::testing::AssertionResult ErrorLinesAre(const LogCapture& capture, size_t count, std::string_view what)
{
    const size_t all = capture.Count(LogLevel::Error);
    const size_t tagged = capture.Count(LogLevel::Error, {}, kAllocatorTag);
    if (all == count && tagged == count)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << what << ": expected " << count << " error line(s) tagged " << kAllocatorTag << ", got " << all
           << " (" << tagged << " tagged). The log:" << Describe(capture);
}

StagingCount StagingInDump()
{
    StagingCount out;
    for (VkDeviceSize size : StagingSizesInDump())
    {
        ++out.count;
        out.bytes += size;
    }
    return out;
}

VmaStatistics VmaTotals()
{
    VmaTotalStatistics total{};
    vmaCalculateStatistics(MemoryAllocator::GetAllocator(), &total);
    return total.total.statistics;
}

VkDeviceSize VmaSizeOf(VmaAllocation allocation)
{
    VmaAllocationInfo info{};
    vmaGetAllocationInfo(MemoryAllocator::GetAllocator(), allocation, &info);
    return info.size;
}

VkMemoryPropertyFlags VmaMemoryFlagsOf(VmaAllocation allocation)
{
    VkMemoryPropertyFlags flags = 0;
    vmaGetAllocationMemoryProperties(MemoryAllocator::GetAllocator(), allocation, &flags);
    return flags;
}

// ------------------------------------------------------------------------------------------------
ShadowModel::ShadowModel(VkDeviceSize stagingCacheBytes, uint32_t framesInFlight)
    : m_FramesInFlight(framesInFlight), m_StagingLimit(stagingCacheBytes)
{
}

size_t ShadowModel::AddInstance(const std::string& tag)
{
    instances.push_back(Instance{CreateRef<MemoryAllocator>(tag), tag});
    return instances.size() - 1;
}

int ShadowModel::Find(VmaAllocation allocation) const
{
    auto it = m_Index.find(allocation);
    return it == m_Index.end() ? -1 : static_cast<int>(it->second);
}

LiveAllocation& ShadowModel::Fresh(size_t instance, VmaAllocation allocation,
                                   const AllocationCreateInfo& createInfo)
{
    // A new allocation is never one that is live, or one destroyed deferred whose frame has not
    // retired (the reuse cache hands out buffers only after their frame retires).
    if (m_HandOutViolation.empty())
    {
        if (Find(allocation) >= 0)
            m_HandOutViolation = "a new allocation has the handle of a live one";
        for (const Retired& r : m_Retired)
            if (r.allocation == allocation)
                m_HandOutViolation = "a new allocation has the handle of one whose frame has not retired";
    }
    // VMA reuses the objects behind freed handles: a new allocation may carry a freed pointer.
    freed.erase(std::remove_if(freed.begin(), freed.end(),
                               [&](const FreedHandle& f) { return f.allocation == allocation; }),
                freed.end());
    LiveAllocation& a = live.emplace_back();
    a.allocation = allocation;
    a.instance = instance;
    a.usage = createInfo.usage;
    a.flags = createInfo.flags;
    a.hostVisible = (VmaMemoryFlagsOf(allocation) & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) != 0;
    a.mappable = a.hostVisible && (!IsAuto(a.usage) || HasHostAccess(a.flags));
    a.persistent = HasFlag(a.flags, AllocationFlags::Mapped) && a.hostVisible;
    if (a.persistent)
        a.mapped = MemoryAllocator::GetMappedData(allocation);
    return a;
}

LiveAllocation& ShadowModel::Index(LiveAllocation& a)
{
    m_Index[a.allocation] = live.size() - 1;
    m_LiveBytes += a.size;
    return a;
}

LiveAllocation& ShadowModel::AddBuffer(size_t instance, VmaAllocation allocation, VkBuffer buffer,
                                       VkDeviceSize size, const AllocationCreateInfo& createInfo)
{
    LiveAllocation& a = Fresh(instance, allocation, createInfo);
    a.kind = Kind::Buffer;
    a.buffer = buffer;
    a.requested = size;
    a.size = VmaSizeOf(allocation);
    return Index(a);
}

LiveAllocation& ShadowModel::AddImage(size_t instance, VmaAllocation allocation, VkImage image,
                                      const VkImageCreateInfo& info, VkDeviceSize allocatedSize,
                                      const AllocationCreateInfo& createInfo)
{
    LiveAllocation& a = Fresh(instance, allocation, createInfo);
    a.kind = Kind::Image;
    a.image = image;
    a.imageInfo = info;
    a.requested = MemoryAllocator::ImageDataSize(info);
    a.size = allocatedSize;
    return Index(a);
}

void ShadowModel::Remove(size_t index, bool deferred)
{
    LiveAllocation& a = live[index];
    m_LiveBytes -= a.size;
    if (deferred && m_FramesInFlight > 0)
    {
        m_Retired.push_back(Retired{m_Frame + m_FramesInFlight, a.size, a.allocation});
        m_RetiredBytes += a.size;
    }
    freed.push_back(FreedHandle{a.allocation, a.kind,
                                a.kind == Kind::Buffer ? reinterpret_cast<uint64_t>(a.buffer)
                                                       : reinterpret_cast<uint64_t>(a.image)});
    if (freed.size() > kFreedWindow)
        freed.erase(freed.begin());
    m_Index.erase(a.allocation);
    if (index != live.size() - 1)
    {
        live[index] = std::move(live.back());
        m_Index[live[index].allocation] = index;
    }
    live.pop_back();
}

void ShadowModel::AdvanceFrame(uint64_t frame)
{
    m_Frame = frame;
    while (!m_Retired.empty() && m_Retired.front().releaseFrame <= frame)
    {
        m_RetiredBytes -= m_Retired.front().size;
        m_Retired.pop_front();
    }
}

void ShadowModel::StagingUsed(VkDeviceSize bytes)
{
    auto best = m_StagingFree.end();
    for (auto it = m_StagingFree.begin(); it != m_StagingFree.end(); ++it)
        if (*it >= bytes && (best == m_StagingFree.end() || *it < *best))
            best = it;
    VkDeviceSize size = 0;
    if (best != m_StagingFree.end())
    {
        size = *best;
        m_StagingFreeBytes -= size;
        m_StagingFree.erase(best);
    }
    else
    {
        size = std::max<VkDeviceSize>(std::bit_ceil(bytes), 256 * KiB);
    }
    if (m_StagingFreeBytes + size <= m_StagingLimit)
    {
        m_StagingFreeBytes += size;
        m_StagingFree.push_back(size);
    }
}

void ShadowModel::StagingDropped()
{
    m_StagingFree.clear();
    m_StagingFreeBytes = 0;
}

void ShadowModel::ResyncStaging()
{
    m_StagingFree = StagingSizesInDump();
    m_StagingFreeBytes = 0;
    for (VkDeviceSize s : m_StagingFree)
        m_StagingFreeBytes += s;
}

StagingCount ShadowModel::Staging() const
{
    return StagingCount{m_StagingFree.size(), m_StagingFreeBytes};
}

void ShadowModel::Clear()
{
    live.clear();
    freed.clear();
    m_Index.clear();
    m_Retired.clear();
    m_RetiredBytes = 0;
    m_LiveBytes = 0;
    m_StagingFree.clear();
    m_StagingFreeBytes = 0;
    m_Frame = 0;
}

// ------------------------------------------------------------------------------------------------
::testing::AssertionResult ShadowModel::WriteMapped(LiveAllocation& a, uint64_t offset, uint64_t size,
                                                    uint64_t seed)
{
    if (a.kind != Kind::Buffer || !a.mappable)
        return ::testing::AssertionFailure()
               << "WriteMapped on " << Name(a) << ", which is not a mappable buffer";
    uint8_t* ptr = static_cast<uint8_t*>(a.mapped);
    const bool mapHere = ptr == nullptr;
    if (mapHere)
    {
        ptr = Alloc(a.instance).MapMemory<uint8_t>(a.allocation);
        if (!ptr)
            return ::testing::AssertionFailure() << "MapMemory returned null for " << Name(a);
    }
    FillPattern(ptr + offset, offset, size, seed);
    if (!MemoryAllocator::FlushAllocation(a.allocation, offset, size))
        return ::testing::AssertionFailure() << "FlushAllocation failed for " << Name(a);
    if (mapHere && !MemoryAllocator::UnmapMemory(a.allocation))
        return ::testing::AssertionFailure() << "UnmapMemory failed for " << Name(a);
    a.contents.Apply(Segment{offset, size, seed}, a.requested);
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult ShadowModel::Upload(LiveAllocation& a, uint64_t offset, uint64_t size,
                                               uint64_t seed)
{
    m_Scratch.resize(size);
    FillPattern(m_Scratch.data(), offset, size, seed);
    if (a.kind == Kind::Buffer)
    {
        if (!Alloc(a.instance).UploadToBuffer(a.allocation, m_Scratch.data(), size, offset))
            return ::testing::AssertionFailure()
                   << "UploadToBuffer(" << size << " at " << offset << ") failed for " << Name(a);
    }
    else
    {
        if (offset != 0 || size != a.requested)
            return ::testing::AssertionFailure() << "images are uploaded whole";
        if (!Alloc(a.instance).UploadToImage(a.allocation, m_Scratch.data(), size))
            return ::testing::AssertionFailure() << "UploadToImage failed for " << Name(a);
        a.layoutKnown = true;
    }
    StagingUsed(size);
    a.contents.Apply(Segment{offset, size, seed}, a.requested);
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult ShadowModel::Verify(LiveAllocation& a, bool forceReadback)
{
    if (!a.contents.Defined())
        return ::testing::AssertionSuccess();
    const uint8_t* bytes = nullptr;
    bool unmap = false;
    if (a.kind == Kind::Buffer && a.mappable && !forceReadback)
    {
        bytes = static_cast<const uint8_t*>(a.mapped);
        if (!bytes)
        {
            bytes = Alloc(a.instance).MapMemory<const uint8_t>(a.allocation);
            if (!bytes)
                return ::testing::AssertionFailure() << "MapMemory returned null for " << Name(a);
            unmap = true;
        }
        if (!MemoryAllocator::InvalidateAllocation(a.allocation))
            return ::testing::AssertionFailure() << "InvalidateAllocation failed for " << Name(a);
    }
    else if (a.kind == Kind::Buffer)
    {
        m_Scratch.resize(a.requested);
        if (!Alloc(a.instance).ReadbackBuffer(a.allocation, m_Scratch.data(), a.requested))
            return ::testing::AssertionFailure() << "ReadbackBuffer failed for " << Name(a);
        StagingUsed(a.requested);
        bytes = m_Scratch.data();
    }
    else
    {
        if (!Alloc(a.instance).ReadbackImage(a.allocation, m_Scratch))
            return ::testing::AssertionFailure() << "ReadbackImage failed for " << Name(a);
        StagingUsed(a.requested);
        if (m_Scratch.size() != a.requested)
            return ::testing::AssertionFailure()
                   << "ReadbackImage gave " << m_Scratch.size() << " bytes for " << Name(a);
        bytes = m_Scratch.data();
    }
    const uint64_t sum = Checksum(bytes, a.contents.size);
    ::testing::AssertionResult result = ::testing::AssertionSuccess();
    if (sum != a.contents.checksum)
        result = ::testing::AssertionFailure()
                 << "contents of " << Name(a)
                 << " corrupted: " << a.contents.FirstDifference(bytes, a.contents.size);
    if (unmap && !MemoryAllocator::UnmapMemory(a.allocation))
        return ::testing::AssertionFailure() << "UnmapMemory failed for " << Name(a);
    return result;
}

::testing::AssertionResult ShadowModel::VerifyAll(bool readbackAll, size_t readbackBudget)
{
    std::vector<size_t> others;
    for (size_t i = 0; i < live.size(); ++i)
    {
        LiveAllocation& a = live[i];
        if (!a.contents.Defined())
            continue;
        if (a.kind == Kind::Buffer && a.mappable)
        {
            if (auto r = Verify(a); !r)
                return r;
        }
        else
        {
            others.push_back(i);
        }
    }
    const size_t n = readbackAll ? others.size() : std::min(readbackBudget, others.size());
    for (size_t k = 0; k < n; ++k)
    {
        const size_t i = others[(m_ReadbackCursor + k) % others.size()];
        if (auto r = Verify(live[i], true); !r)
            return r;
    }
    if (!others.empty())
        m_ReadbackCursor = (m_ReadbackCursor + n) % others.size();
    return ::testing::AssertionSuccess();
}

// ------------------------------------------------------------------------------------------------
::testing::AssertionResult ShadowModel::CheckCounters() const
{
    if (!m_HandOutViolation.empty())
        return ::testing::AssertionFailure() << m_HandOutViolation;
    struct Expected
    {
        uint64_t bytes = 0, count = 0, buffers = 0, images = 0;
    };
    std::map<std::string, Expected> expected;
    for (const Instance& i : instances)
        expected[i.tag];
    for (const LiveAllocation& a : live)
    {
        Expected& e = expected[instances[a.instance].tag];
        e.bytes += a.size;
        ++e.count;
        ++(a.kind == Kind::Buffer ? e.buffers : e.images);
    }
    uint64_t tagBytes = 0;
    uint64_t tagCount = 0;
    const std::vector<TagStats> all = MemoryAllocator::GetAllTagStats();
    for (const auto& [tag, e] : expected)
    {
        auto it = std::find_if(all.begin(), all.end(), [&](const TagStats& s) { return s.tag == tag; });
        if (it == all.end())
            return ::testing::AssertionFailure() << "tag '" << tag << "' is missing from GetAllTagStats";
        if (it->usedBytes != e.bytes || it->allocationCount != e.count || it->bufferCount != e.buffers ||
            it->imageCount != e.images)
            return ::testing::AssertionFailure()
                   << "tag '" << tag << "': counters {used " << it->usedBytes << ", allocations "
                   << it->allocationCount << ", buffers " << it->bufferCount << ", images " << it->imageCount
                   << "}, model {used " << e.bytes << ", allocations " << e.count << ", buffers " << e.buffers
                   << ", images " << e.images << "}";
        tagBytes += it->usedBytes;
        tagCount += it->allocationCount;
    }
    if (tagBytes != m_LiveBytes || tagCount != live.size())
        return ::testing::AssertionFailure()
               << "sum over tags: " << tagBytes << " bytes in " << tagCount << " allocations, model "
               << m_LiveBytes << " in " << live.size();

    const AllocationStats stats = instances.front().allocator->GetStats();
    const TagStats& own = stats.tag;
    const Expected& e0 = expected[instances.front().tag];
    if (own.usedBytes != e0.bytes || own.allocationCount != e0.count)
        return ::testing::AssertionFailure()
               << "GetStats().tag of '" << own.tag << "': used " << own.usedBytes << " in "
               << own.allocationCount << ", model " << e0.bytes << " in " << e0.count;
    const StagingCount staging = Staging();
    const uint64_t vmaCount = live.size() + m_Retired.size() + staging.count;
    const uint64_t vmaBytes = m_LiveBytes + m_RetiredBytes + staging.bytes;
    if (stats.allocationCount != vmaCount || stats.usedBytes != vmaBytes)
        return ::testing::AssertionFailure()
               << "GetStats (VMA's counters): " << stats.allocationCount << " allocations, "
               << stats.usedBytes << " bytes; model: " << live.size() << " live + " << m_Retired.size()
               << " retired + " << staging.count << " staging = " << vmaCount << " allocations, "
               << m_LiveBytes << " + " << m_RetiredBytes << " + " << staging.bytes << " = " << vmaBytes
               << " bytes";
    m_MaxUsedBytes = std::max(m_MaxUsedBytes, vmaBytes);
    m_MaxUsedCount = std::max(m_MaxUsedCount, vmaCount);
    if (stats.peakUsedBytes < m_LastPeakBytes || stats.peakAllocationCount < m_LastPeakCount ||
        stats.peakUsedBytes < m_MaxUsedBytes || stats.peakAllocationCount < m_MaxUsedCount)
        return ::testing::AssertionFailure()
               << "peaks went down: GetStats reads " << stats.peakUsedBytes << " bytes / "
               << stats.peakAllocationCount << " allocations, after " << m_LastPeakBytes << " / "
               << m_LastPeakCount << "; the model's highest used figures: " << m_MaxUsedBytes << " / "
               << m_MaxUsedCount;
    m_LastPeakBytes = stats.peakUsedBytes;
    m_LastPeakCount = stats.peakAllocationCount;

    for (const LiveAllocation& a : live)
        if (!MemoryAllocator::ContainsAllocation(a.allocation))
            return ::testing::AssertionFailure() << "ContainsAllocation is false for live " << Name(a);
    for (const FreedHandle& f : freed)
        if (MemoryAllocator::ContainsAllocation(f.allocation))
            return ::testing::AssertionFailure() << "ContainsAllocation is true for freed handle "
                                                 << static_cast<const void*>(f.allocation);
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult ShadowModel::CheckHandles() const
{
    for (const LiveAllocation& a : live)
    {
        const VkBuffer buffer = MemoryAllocator::GetBuffer(a.allocation);
        const VkImage image = MemoryAllocator::GetImage(a.allocation);
        if (buffer != a.buffer || image != a.image)
            return ::testing::AssertionFailure()
                   << "GetBuffer/GetImage of " << Name(a) << " is not the model's handle";
        void* mapped = MemoryAllocator::GetMappedData(a.allocation);
        void* expected = (a.mapCount > 0 || a.persistent) ? a.mapped : nullptr;
        if (mapped != expected)
            return ::testing::AssertionFailure()
                   << "GetMappedData of " << Name(a) << " is " << mapped << ", the model says " << expected;
    }
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult ShadowModel::CheckExact() const
{
    const StagingCount dump = StagingInDump();
    const StagingCount model = Staging();
    if (dump.count != model.count || dump.bytes != model.bytes)
        return ::testing::AssertionFailure()
               << "staging buffers in VMA's dump: " << dump.count << " (" << dump.bytes
               << " bytes); the model of the staging cache: " << model.count << " (" << model.bytes
               << " bytes)";
    // The reuse cache's own figures: the model does not track which freed buffers it kept.
    const AllocationStats stats = instances.front().allocator->GetStats();
    const VmaStatistics totals = VmaTotals();
    const uint64_t count = live.size() + m_Retired.size() + dump.count + stats.reuseCacheCount;
    const uint64_t bytes = m_LiveBytes + m_RetiredBytes + dump.bytes + stats.reuseCacheBytes;
    if (totals.allocationCount != count || totals.allocationBytes != bytes)
        return ::testing::AssertionFailure()
               << "vmaCalculateStatistics: " << totals.allocationCount << " allocations, "
               << totals.allocationBytes
               << " bytes; model (live + retired + staging + reuse cache): " << count << ", " << bytes;
    if (stats.reuseCacheBytes > MemoryAllocator::GetSettings().bufferReuseCacheBytes)
        return ::testing::AssertionFailure()
               << "the reuse cache holds " << stats.reuseCacheBytes << " bytes, above its cap";
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult ShadowModel::Relocated(const RelocationNotice& notice)
{
    const int index = Find(notice.allocation);
    if (index < 0)
        return ::testing::AssertionFailure()
               << "relocation notice for " << static_cast<const void*>(notice.allocation)
               << ", which the model does not hold live";
    LiveAllocation& a = live[static_cast<size_t>(index)];
    if (instances[a.instance].tag != notice.tag)
        return ::testing::AssertionFailure()
               << "relocation notice of " << Name(a) << " names tag '" << notice.tag << "'";
    if (a.kind == Kind::Buffer)
    {
        if (notice.oldBuffer != a.buffer || !notice.newBuffer || notice.newBuffer == a.buffer ||
            notice.oldImage || notice.newImage)
            return ::testing::AssertionFailure()
                   << "relocation notice of " << Name(a) << " has wrong handles";
        a.buffer = notice.newBuffer;
    }
    else
    {
        if (notice.oldImage != a.image || !notice.newImage || notice.newImage == a.image ||
            notice.oldBuffer || notice.newBuffer)
            return ::testing::AssertionFailure()
                   << "relocation notice of " << Name(a) << " has wrong handles";
        a.image = notice.newImage;
    }
    const bool mapped = a.mapCount > 0 || a.persistent;
    if (mapped != (notice.newMappedData != nullptr))
        return ::testing::AssertionFailure() << "relocation notice of " << Name(a) << ": newMappedData "
                                             << notice.newMappedData << ", mapped in the model: " << mapped;
    if (mapped)
        a.mapped = notice.newMappedData;
    return ::testing::AssertionSuccess();
}

} // namespace SceneryEditorX::Reliability
