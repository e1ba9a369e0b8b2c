#pragma once
// The shadow model of the reliability tests: what the memory system should hold, kept by the test
// independently of the system, and the checks that compare the two.
//
// What is modelled: every live allocation (instance/tag, kind, handle, requested size, VMA's size,
// usage and flags, mappability, map count and pointer, the expected contents as a checksum), the
// deferred destroys that VMA still holds until their frame retires, the system's staging buffers
// (simulated from the documented cache policy, cross-checked against VMA's dump) and a window of
// recently freed handles.
//
// What is compared: the per-tag counters (bytes, allocations, buffers, images) and their sums, VMA's
// own counters (GetStats: allocations and bytes = live + retired-but-unreleased + staging),
// ContainsAllocation for every live and a few freed handles, the handles (GetBuffer/GetImage), and
// the contents (host-visible memory through MapMemory, everything else through the readbacks).

#include "MemoryTestSupport.h"
#include "Pattern.h"
#include "Support/TestEnvironment.h"

#include <SceneryEditorX/Core/Log.h>
#include <SceneryEditorX/Memory/MemoryAllocator.h>

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace SceneryEditorX::Reliability
{

// The create-info builders (testing/), sizes, tag and log description of the memory tests (tests/Memory).
using Test::BufferInfo;
using Test::CreateForeignBuffer;
using Test::CreateInfo;
using Test::Describe;
using Test::ImageInfo;
using Test::kAllocatorTag;
using Test::KiB;
using Test::MiB;

/// Error lines in the capture (any tag) and the number of them tagged "VulkanAllocator".
size_t ErrorLines(const LogCapture& capture);
/// Exactly `count` error lines, every one tagged "VulkanAllocator".
::testing::AssertionResult ErrorLinesAre(const LogCapture& capture, size_t count, std::string_view what);

/// Staging buffers in VMA's detailed dump: the allocations named "sedx:staging".
struct StagingCount
{
    uint64_t count = 0;
    uint64_t bytes = 0;
};
StagingCount StagingInDump();

/// VMA's exact totals (vmaCalculateStatistics, a walk).
VmaStatistics VmaTotals();
/// VMA's size and memory properties of an allocation (through the GetAllocator escape hatch).
VkDeviceSize VmaSizeOf(VmaAllocation allocation);
VkMemoryPropertyFlags VmaMemoryFlagsOf(VmaAllocation allocation);

enum class Kind : uint8_t
{
    Buffer,
    Image
};

struct LiveAllocation
{
    VmaAllocation allocation = nullptr;
    size_t instance = 0; // index into ShadowModel::instances
    Kind kind = Kind::Buffer;
    VkBuffer buffer = VK_NULL_HANDLE;
    VkImage image = VK_NULL_HANDLE;
    VkImageCreateInfo imageInfo{};
    VkDeviceSize requested = 0; // buffer size, or the image's tightly packed data size
    VkDeviceSize size = 0;      // VMA's allocation size (what the tag counters add up)
    VmaMemoryUsage usage = VMA_MEMORY_USAGE_UNKNOWN;
    AllocationFlags flags = AllocationFlags::None;
    bool hostVisible = false;
    bool mappable = false;   // MapMemory must succeed exactly for these
    bool persistent = false; // created with AllocationFlags::Mapped
    uint32_t mapCount = 0;
    void* mapped = nullptr;   // while mapCount > 0 or persistent
    bool layoutKnown = false; // images: uploaded (readable, movable)
    Contents contents;
};

/// A handle that was freed (and is not live again: VMA may hand the same pointer out later).
struct FreedHandle
{
    VmaAllocation allocation = nullptr;
    Kind kind = Kind::Buffer;
    uint64_t handle = 0; // the VkBuffer/VkImage it had
};

class ShadowModel
{
public:
    struct Instance
    {
        Ref<MemoryAllocator> allocator;
        std::string tag;
    };

    /// `stagingCacheBytes`: AllocatorSettings::stagingCacheBytes of the run; `framesInFlight` likewise.
    ShadowModel(VkDeviceSize stagingCacheBytes, uint32_t framesInFlight);

    size_t AddInstance(const std::string& tag);
    MemoryAllocator& Alloc(size_t instance) { return *instances[instance].allocator; }

    // ------------------------------------------------------------------ bookkeeping after a call succeeded
    /// Records a new allocation (reads VMA's size and memory flags).
    LiveAllocation& AddBuffer(size_t instance, VmaAllocation allocation, VkBuffer buffer, VkDeviceSize size,
                              const AllocationCreateInfo& createInfo);
    LiveAllocation& AddImage(size_t instance, VmaAllocation allocation, VkImage image,
                             const VkImageCreateInfo& info, VkDeviceSize allocatedSize,
                             const AllocationCreateInfo& createInfo);
    /// Removes a live allocation; `deferred` keeps its memory counted until its frame retires.
    void Remove(size_t index, bool deferred);
    /// The frame advanced: releases the retired entries whose frame has come.
    void AdvanceFrame(uint64_t frame);
    uint64_t Frame() const { return m_Frame; }
    /// A transfer of `bytes` took a staging buffer and gave it back (the cache policy of Transfer.cpp:
    /// best fit from the cache, else a new one of max(bit_ceil(bytes), 256 KiB); kept while the cache
    /// stays within stagingCacheBytes).
    void StagingUsed(VkDeviceSize bytes);
    /// BeginDefragmentation drops the cached staging buffers (their blocks would otherwise stay
    /// pinned by a pass), and uploads make new ones on demand.
    void StagingDropped();
    /// Takes the staging figures from VMA's dump instead (when the simulation cannot know, e.g. a fault).
    void ResyncStaging();
    StagingCount Staging() const;
    /// Every allocation was destroyed and the allocator shut down.
    void Clear();

    // ------------------------------------------------------------------ look-ups
    std::vector<LiveAllocation> live;
    std::vector<FreedHandle> freed; // most recent last, at most kFreedWindow
    std::vector<Instance> instances;
    static constexpr size_t kFreedWindow = 64;
    int Find(VmaAllocation allocation) const;
    uint64_t LiveBytes() const { return m_LiveBytes; }
    size_t RetiredCount() const { return m_Retired.size(); }

    // ------------------------------------------------------------------ contents
    /// Writes [offset, offset+size) of the pattern `seed` through a mapping (MapMemory when not
    /// mapped, then UnmapMemory) and records it. Only for mappable buffers.
    ::testing::AssertionResult WriteMapped(LiveAllocation& a, uint64_t offset, uint64_t size, uint64_t seed);
    /// Uploads the pattern through UploadToBuffer/UploadToImage and records it.
    ::testing::AssertionResult Upload(LiveAllocation& a, uint64_t offset, uint64_t size, uint64_t seed);
    /// Checks the contents: through the mapping for mappable buffers (unless `forceReadback`), else
    /// through ReadbackBuffer/ReadbackImage. Undefined contents pass.
    ::testing::AssertionResult Verify(LiveAllocation& a, bool forceReadback = false);
    /// Verify for every live allocation (all of them read back when `readbackAll`, else host-visible
    /// ones through the mapping and `readbackBudget` of the others, rotating).
    ::testing::AssertionResult VerifyAll(bool readbackAll, size_t readbackBudget = SIZE_MAX);

    // ------------------------------------------------------------------ checks
    /// Tag counters, their sums, VMA's counters (GetStats) and ContainsAllocation for every live
    /// and the freed window. Cheap enough for every operation.
    ::testing::AssertionResult CheckCounters() const;
    /// GetBuffer/GetImage and GetMappedData agree with the model for every live allocation.
    ::testing::AssertionResult CheckHandles() const;
    /// The exact walk (vmaCalculateStatistics) and the staging buffers in VMA's dump agree too.
    ::testing::AssertionResult CheckExact() const;

    /// Applies a relocation notice (after a defragmentation pass); fails on a notice for an
    /// allocation that the model does not hold live or whose old handle is not the model's.
    ::testing::AssertionResult Relocated(const RelocationNotice& notice);

private:
    struct Retired
    {
        uint64_t releaseFrame = 0;
        VkDeviceSize size = 0;
        VmaAllocation allocation = nullptr;
    };
    // A handle handed out while it was still live or still waiting for its frame to retire (the
    // SpeedOptimized reuse cache must do neither); reported by CheckCounters.
    std::string m_HandOutViolation;
    std::unordered_map<VmaAllocation, size_t> m_Index;
    std::deque<Retired> m_Retired;
    uint64_t m_RetiredBytes = 0;
    uint64_t m_LiveBytes = 0;
    // The peaks GetStats returned at the last check, and the highest used figures the model saw:
    // a peak never goes down (there is no ResetStats in the run) and never falls below either.
    mutable uint64_t m_LastPeakBytes = 0;
    mutable uint64_t m_LastPeakCount = 0;
    mutable uint64_t m_MaxUsedBytes = 0;
    mutable uint64_t m_MaxUsedCount = 0;
    uint64_t m_Frame = 0;
    uint32_t m_FramesInFlight;
    VkDeviceSize m_StagingLimit;
    std::vector<VkDeviceSize> m_StagingFree; // cached staging buffers
    uint64_t m_StagingFreeBytes = 0;
    size_t m_ReadbackCursor = 0;
    std::vector<uint8_t> m_Scratch;

    /// A new live entry with the fields every kind shares (drops the handle from the freed list).
    LiveAllocation& Fresh(size_t instance, VmaAllocation allocation, const AllocationCreateInfo& createInfo);
    /// Indexes a filled entry and counts its bytes.
    LiveAllocation& Index(LiveAllocation& a);
};

} // namespace SceneryEditorX::Reliability
