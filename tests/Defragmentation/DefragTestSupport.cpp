#include "DefragTestSupport.h"

#include <SceneryEditorX/VmaDump/DumpModel.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace SceneryEditorX::DefragTest
{

std::string CopyPathName(const ::testing::TestParamInfo<CopyPath>& info)
{
    return info.param == CopyPath::GpuCopy ? "GpuCopyForced" : "MemcpyAllowed";
}

void AllocatorTest::ConfigureSettings(AllocatorSettings& settings)
{
    settings.forceGpuDefragmentationCopies = GetParam() == CopyPath::GpuCopy;
    settings.stagingCacheBytes = 0;
}

void AllocatorTest::SetUp()
{
    DeviceTest::SetUp();
    if (HasFatalFailure())
        return;
    AllocatorSettings settings;
    ConfigureSettings(settings);
    ASSERT_TRUE(MemoryAllocator::Init(::SceneryEditorX::Test::Device(), VK_API_VERSION_1_3, settings));
    m_Allocator = CreateRef<MemoryAllocator>("DefragTest");
}

void AllocatorTest::TearDown()
{
    m_Allocator.Reset();
    if (!MemoryAllocator::IsInitialized())
        return;
    LogCapture capture;
    MemoryAllocator::Shutdown();
    EXPECT_EQ(capture.Count(LogLevel::Error, "leak"), 0u) << "the test left allocations behind";
}

// ---------------------------------------------------------------- patterns
namespace
{
uint32_t Mix(uint32_t seed, uint32_t index)
{
    uint32_t x = seed * 0x9E3779B9u ^ (index + 0x7F4A7C15u) * 0x85EBCA6Bu;
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}
} // namespace

std::vector<uint8_t> MakePattern(uint32_t seed, size_t size)
{
    std::vector<uint8_t> bytes(size);
    size_t i = 0;
    for (; i + 4 <= size; i += 4)
    {
        const uint32_t word = Mix(seed, static_cast<uint32_t>(i / 4));
        std::memcpy(bytes.data() + i, &word, 4);
    }
    const uint32_t tail = Mix(seed, static_cast<uint32_t>(i / 4));
    std::memcpy(bytes.data() + i, &tail, size - i);
    return bytes;
}

VkImageCreateInfo MippedImageInfo(uint32_t width, uint32_t height)
{
    return Test::ImageInfo(width, height, FullMipCount(width, height));
}

bool CreateFilledBuffer(MemoryAllocator& allocator, VkDeviceSize size, uint32_t seed, TrackedBuffer& out,
                        VkBufferUsageFlags usage)
{
    out = {};
    VkBuffer buffer = VK_NULL_HANDLE;
    VmaAllocation allocation =
        allocator.AllocateBuffer(BufferInfo(size, usage), VMA_MEMORY_USAGE_GPU_ONLY, buffer);
    if (!allocation)
    {
        ADD_FAILURE() << "AllocateBuffer(" << size << ") failed";
        return false;
    }
    out = {allocation, buffer, size, seed};
    const std::vector<uint8_t> pattern = MakePattern(seed, static_cast<size_t>(size));
    if (!allocator.UploadToBuffer(allocation, pattern.data(), size))
    {
        ADD_FAILURE() << "UploadToBuffer(" << size << ") failed";
        return false;
    }
    return true;
}

bool CreateFilledImage(MemoryAllocator& allocator, uint32_t width, uint32_t height, uint32_t seed,
                       TrackedImage& out)
{
    out = {};
    const VkImageCreateInfo info = MippedImageInfo(width, height);
    VkImage image = VK_NULL_HANDLE;
    VmaAllocation allocation = allocator.AllocateImage(info, VMA_MEMORY_USAGE_GPU_ONLY, image);
    if (!allocation)
    {
        ADD_FAILURE() << "AllocateImage(" << width << "x" << height << ") failed";
        return false;
    }
    out = {allocation, image, info, seed};
    const VkDeviceSize size = MemoryAllocator::ImageDataSize(info);
    const std::vector<uint8_t> pattern = MakePattern(seed, static_cast<size_t>(size));
    if (!allocator.UploadToImage(allocation, pattern.data(), size))
    {
        ADD_FAILURE() << "UploadToImage(" << width << "x" << height << ") failed";
        return false;
    }
    return true;
}

::testing::AssertionResult HoldsPattern(MemoryAllocator& allocator, const TrackedBuffer& buffer)
{
    std::vector<uint8_t> read(static_cast<size_t>(buffer.size));
    if (!allocator.ReadbackBuffer(buffer.allocation, read.data(), buffer.size))
        return ::testing::AssertionFailure() << "ReadbackBuffer failed";
    const std::vector<uint8_t> expected = MakePattern(buffer.seed, read.size());
    const auto mismatch = std::mismatch(read.begin(), read.end(), expected.begin());
    if (mismatch.first == read.end())
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "buffer of " << buffer.size << " bytes (seed " << buffer.seed
           << ") differs from its pattern at byte " << (mismatch.first - read.begin());
}

::testing::AssertionResult HoldsPattern(MemoryAllocator& allocator, const TrackedImage& image)
{
    std::vector<uint8_t> read;
    if (!allocator.ReadbackImage(image.allocation, read))
        return ::testing::AssertionFailure() << "ReadbackImage failed";
    const std::vector<uint8_t> expected =
        MakePattern(image.seed, static_cast<size_t>(MemoryAllocator::ImageDataSize(image.info)));
    if (read.size() != expected.size())
        return ::testing::AssertionFailure()
               << "read " << read.size() << " bytes, expected " << expected.size();
    size_t offset = 0;
    for (uint32_t level = 0; level < image.info.mipLevels; ++level)
    {
        const size_t w = std::max(1u, image.info.extent.width >> level);
        const size_t h = std::max(1u, image.info.extent.height >> level);
        const size_t bytes = w * h * 4;
        if (std::memcmp(read.data() + offset, expected.data() + offset, bytes) != 0)
            return ::testing::AssertionFailure()
                   << image.info.extent.width << "x" << image.info.extent.height << " image (seed "
                   << image.seed << "): mip " << level << " of " << image.info.mipLevels
                   << " differs from its pattern";
        offset += bytes;
    }
    return ::testing::AssertionSuccess();
}

void Destroy(MemoryAllocator& allocator, const TrackedBuffer& buffer)
{
    EXPECT_TRUE(allocator.DestroyBuffer(MemoryAllocator::GetBuffer(buffer.allocation), buffer.allocation));
}

void Destroy(MemoryAllocator& allocator, const TrackedImage& image)
{
    EXPECT_TRUE(allocator.DestroyImage(MemoryAllocator::GetImage(image.allocation), image.allocation));
}

void ExpectHoldPatterns(MemoryAllocator& allocator, const std::vector<TrackedBuffer>& buffers,
                        const std::vector<TrackedImage>& images)
{
    for (const TrackedBuffer& b : buffers)
        EXPECT_TRUE(HoldsPattern(allocator, b));
    for (const TrackedImage& im : images)
        EXPECT_TRUE(HoldsPattern(allocator, im));
}

void ExpectMarked(MemoryAllocator& allocator, const std::vector<TrackedBuffer>& buffers,
                  const std::vector<TrackedImage>& images)
{
    for (const TrackedBuffer& b : buffers)
        EXPECT_TRUE(allocator.MarkForDefragmentation(b.allocation));
    for (const TrackedImage& im : images)
        EXPECT_TRUE(allocator.MarkForDefragmentation(im.allocation));
}

void DestroyAll(MemoryAllocator& allocator, const std::vector<TrackedBuffer>& buffers,
                const std::vector<TrackedImage>& images)
{
    for (const TrackedBuffer& b : buffers)
        Destroy(allocator, b);
    for (const TrackedImage& im : images)
        Destroy(allocator, im);
}

Placement PlacementOf(VmaAllocation allocation)
{
    VmaAllocationInfo info{};
    vmaGetAllocationInfo(MemoryAllocator::GetAllocator(), allocation, &info);
    return {info.deviceMemory, info.offset};
}

// ---------------------------------------------------------------- relocation notices
RelocationRecorder::RelocationRecorder()
{
    m_Id = MemoryAllocator::AddRelocationCallback(
        [this](const RelocationNotice& notice)
        {
            std::lock_guard lock(m_Mutex);
            m_Notices.push_back(notice);
        });
    EXPECT_NE(m_Id, 0u);
}

RelocationRecorder::~RelocationRecorder()
{
    EXPECT_TRUE(MemoryAllocator::RemoveRelocationCallback(m_Id));
}

std::vector<RelocationNotice> RelocationRecorder::Notices() const
{
    std::lock_guard lock(m_Mutex);
    return m_Notices;
}

size_t RelocationRecorder::Count() const
{
    std::lock_guard lock(m_Mutex);
    return m_Notices.size();
}

std::map<VmaAllocation, std::vector<RelocationNotice>> RelocationRecorder::ByAllocation() const
{
    std::map<VmaAllocation, std::vector<RelocationNotice>> out;
    for (const RelocationNotice& n : Notices())
        out[n.allocation].push_back(n);
    return out;
}

void RelocationRecorder::Clear()
{
    std::lock_guard lock(m_Mutex);
    m_Notices.clear();
}

// ---------------------------------------------------------------- pools
std::vector<PoolReport> PoolReports()
{
    std::vector<PoolReport> out;
    VmaAllocator vma = MemoryAllocator::GetAllocator();
    if (!vma)
        return out;
    std::string error;
    const std::optional<detail::DumpModel> model =
        detail::ParseVmaDump(Test::DetailedStatsString(vma), error);
    if (!model)
    {
        ADD_FAILURE() << "VMA's dump could not be parsed: " << error;
        return out;
    }
    for (const detail::DumpPool& pool : model->pools)
    {
        if (pool.blocks.empty())
            continue;
        PoolReport report;
        report.name = pool.name;
        report.memoryType = pool.memoryType;
        report.custom = pool.custom;
        report.blockCount = pool.blocks.size();
        for (const detail::DumpBlock& block : pool.blocks)
        {
            report.blockSize = std::max(report.blockSize, block.totalBytes);
            for (const detail::DumpRange& range : block.ranges)
                if (!range.free)
                    report.liveBytes += range.size;
        }
        if (pool.custom && pool.preferredBlockSize != 0)
            report.blockSize = pool.preferredBlockSize;
        const detail::PoolFreeSpace free = detail::FreeSpaceOf(pool);
        report.emptyBlocks = free.emptyBlocks;
        report.freeBytes = free.freeBytes;
        report.largestFreeRange = free.largestFreeRange;
        report.fragmentation = detail::PoolFragmentation(pool);
        out.push_back(report);
    }
    return out;
}

void PrintPools(const std::string& title, const std::vector<PoolReport>& pools)
{
    std::printf("%s\n", title.c_str());
    for (const PoolReport& p : pools)
        std::printf(
            "  pool %-12s type %u: %zu blocks of %llu bytes (%zu empty), %llu live bytes, %llu free bytes "
            "in non-empty blocks (largest range %llu), fragmentation %.4f\n",
            p.name.c_str(), p.memoryType, p.blockCount, static_cast<unsigned long long>(p.blockSize),
            p.emptyBlocks, static_cast<unsigned long long>(p.liveBytes),
            static_cast<unsigned long long>(p.freeBytes), static_cast<unsigned long long>(p.largestFreeRange),
            static_cast<double>(p.fragmentation));
    std::fflush(stdout);
}

const PoolReport* FindPool(const std::vector<PoolReport>& pools, const std::string& name)
{
    // VMA's dump prefixes a custom pool's name with its id ("0 - sedx:small").
    for (const PoolReport& p : pools)
        if (p.name.size() >= name.size() &&
            p.name.compare(p.name.size() - name.size(), name.size(), name) == 0)
            return &p;
    return nullptr;
}

std::vector<TrackedBuffer> MakeFragmentedBuffers(MemoryAllocator& allocator, size_t count, VkDeviceSize size,
                                                 uint32_t firstSeed, bool fill)
{
    std::vector<TrackedBuffer> all;
    for (size_t i = 0; i < count; ++i)
    {
        TrackedBuffer b;
        if (fill)
        {
            if (!CreateFilledBuffer(allocator, size, firstSeed + static_cast<uint32_t>(i), b))
                break;
        }
        else
        {
            VkBuffer buffer = VK_NULL_HANDLE;
            VmaAllocation allocation =
                allocator.AllocateBuffer(BufferInfo(size, kStorageUsage), VMA_MEMORY_USAGE_GPU_ONLY, buffer);
            if (!allocation)
            {
                ADD_FAILURE() << "AllocateBuffer(" << size << ") failed";
                break;
            }
            b = {allocation, buffer, size, firstSeed + static_cast<uint32_t>(i)};
        }
        all.push_back(b);
    }
    std::vector<TrackedBuffer> survivors;
    for (size_t i = 0; i < all.size(); ++i)
    {
        if (i % 2 == 1)
            Destroy(allocator, all[i]);
        else
            survivors.push_back(all[i]);
    }
    return survivors;
}

size_t AllocatorErrors(const LogCapture& capture)
{
    return capture.Count(LogLevel::Error, {}, "VulkanAllocator");
}

} // namespace SceneryEditorX::DefragTest
