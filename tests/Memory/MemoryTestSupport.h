#pragma once
// Shared helpers of the memory tests: the allocator fixture, create-info builders, look-ups in VMA,
// counting of log lines and the checks of the device's memory layout.
//
// Layouts: lavapipe has one heap (DEVICE_LOCAL) and one memory type (DEVICE_LOCAL | HOST_VISIBLE |
// HOST_COHERENT | HOST_CACHED) and no VK_EXT_memory_budget. Tests whose expectations depend on that
// say so and check it first (`IsSingleUnifiedHeap`); the others hold on a discrete layout as well.

#include "Support/TestEnvironment.h"
#include "Testing/Builders.h"

#include <SceneryEditorX/Core/Log.h>
#include <SceneryEditorX/Memory/MemoryAllocator.h>

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace SceneryEditorX::Test
{

constexpr VkDeviceSize KiB = 1024;
constexpr VkDeviceSize MiB = 1024 * 1024;
/// The tag of every log line of the memory system.
constexpr const char* kAllocatorTag = "VulkanAllocator";

// ------------------------------------------------------------------ create infos
// (buffer and image create infos: Testing/Builders.h)
AllocationCreateInfo CreateInfo(VmaMemoryUsage usage, AllocationFlags flags = AllocationFlags::None,
                                std::string name = {});

// ------------------------------------------------------------------ VMA look-ups (allocator initialized)
VmaAllocationInfo InfoOf(VmaAllocation allocation);
VmaAllocationInfo2 Info2Of(VmaAllocation allocation);
VkMemoryPropertyFlags MemoryFlagsOf(VmaAllocation allocation);
/// VMA's name of the allocation ("" when it has none).
std::string VmaNameOf(VmaAllocation allocation);
/// VMA's own totals (vmaCalculateStatistics: a full walk).
VmaStatistics VmaTotals();
/// The memory type VMA chooses for a buffer (after the transfer bits that the system adds), or
/// UINT32_MAX when there is none.
uint32_t VmaMemoryTypeFor(const VkBufferCreateInfo& info, VmaMemoryUsage usage);

/// Where VMA's detailed JSON dump puts the allocation named `vmaName`.
struct PoolPlacement
{
    std::string poolName; ///< the custom pool's name as VMA prints it, or "default"
    bool custom = false;  ///< in a custom pool
    bool dedicated = false;
    uint64_t preferredBlockSize = 0;
};
std::optional<PoolPlacement> PlacementOf(const std::string& vmaName);

// ------------------------------------------------------------------ layouts
/// One heap, and every memory type both device-local and host-visible (lavapipe, integrated GPUs).
bool IsSingleUnifiedHeap();
bool HasLazilyAllocatedMemoryType();
/// Heap size limits (AllocatorSettings::heapSizeLimits) that limit every device-local heap to `bytes`.
std::vector<VkDeviceSize> DeviceLocalHeapLimits(VkDeviceSize bytes);
/// Heap size limits that limit every heap to `bytes`.
std::vector<VkDeviceSize> AllHeapLimits(VkDeviceSize bytes);

// ------------------------------------------------------------------ log lines
size_t AllocatorErrors(const LogCapture& capture);
/// Exactly one error line in the whole log, tagged "VulkanAllocator", containing `needle`.
::testing::AssertionResult OneAllocatorError(const LogCapture& capture, std::string_view needle = {});
/// Exactly `count` error lines, all tagged "VulkanAllocator".
::testing::AssertionResult AllocatorErrorCount(const LogCapture& capture, size_t count);
/// No error line at all.
::testing::AssertionResult NoErrors(const LogCapture& capture);
std::string Describe(const LogCapture& capture);

// ------------------------------------------------------------------ tables of refused calls
/// A call that must fail cleanly, as a row of a table: `name` for the failure's trace, and
/// `failedCleanly`, which makes the call and returns true when it returned its documented failure value.
struct RefusedCall
{
    const char* name;
    std::function<bool()> failedCleanly;
};

// ------------------------------------------------------------------ counters
/// Every counter that a failed call must leave as it was: VMA's totals, our cheap statistics and
/// the calling instance's tag.
struct CounterSnapshot
{
    VmaStatistics vma{};
    uint64_t statsUsedBytes = 0;
    uint64_t statsAllocationCount = 0;
    TagStats tag;
};
CounterSnapshot Snapshot(const MemoryAllocator& allocator);
::testing::AssertionResult SameCounters(const CounterSnapshot& before, const CounterSnapshot& after);

// ------------------------------------------------------------------ fixture
/// A buffer and its allocation, as the fixtures make them.
struct Buffer
{
    VkBuffer buffer = VK_NULL_HANDLE;
    VmaAllocation allocation = nullptr;
};

/// Initializes the global allocator on the test device in SetUp (with `Settings()`), gives each test
/// an instance tagged with the test's name, and shuts down in TearDown, failing the test if the
/// shutdown reports a leak (ours or VMA's).
class AllocatorTest : public DeviceTest
{
protected:
    void SetUp() override;
    void TearDown() override;
    virtual AllocatorSettings Settings() const { return {}; }

    MemoryAllocator& Alloc() { return *m_Allocator; }
    const std::string& Tag() const { return m_Allocator->GetTag(); }
    /// "tag:name", the VMA name of an allocation named `name` by this test's instance.
    std::string VmaName(const std::string& name) const { return m_Allocator->GetTag() + ":" + name; }

    /// Allocates a buffer of `size` bytes through `allocator` (this test's instance when null) and
    /// expects it to succeed.
    Buffer MakeBuffer(VkDeviceSize size,
                      const AllocationCreateInfo& createInfo = CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY),
                      VkBufferUsageFlags bufferUsage = VK_BUFFER_USAGE_VERTEX_BUFFER_BIT,
                      MemoryAllocator* allocator = nullptr);
    /// Destroys a buffer through this test's instance and expects it to succeed.
    void Destroy(const Buffer& b);

    Ref<MemoryAllocator> m_Allocator;

private:
    std::optional<ScopedLogLevel> m_Level;
};

bool EndsWith(const std::string& text, const std::string& suffix);

/// The name of the running test ("Suite.Test"), unique per test: a tag no other test shares.
std::string CurrentTestName();

} // namespace SceneryEditorX::Test

namespace SceneryEditorX
{
inline std::ostream& operator<<(std::ostream& out, const TagStats& s)
{
    return out << "{tag '" << s.tag << "', used " << s.usedBytes << ", count " << s.allocationCount
               << ", buffers " << s.bufferCount << ", images " << s.imageCount << "}";
}
} // namespace SceneryEditorX
