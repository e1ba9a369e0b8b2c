// Spec section "Memory Statistics and Monitoring": statistics, the detailed report and the budget.
// Each example is the spec's text; lines marked "Check:" verify what the spec says happens.
#include "ExampleSupport.h"
#include "SpecExamples.h"
#include "Testing/Builders.h"

#include <cmath>

namespace SceneryEditorX::Examples
{

namespace
{
/// Logs the spec's statistics lines for `allocator` and returns the figures.
AllocationStats LogAllocationStatistics(const Ref<MemoryAllocator>& allocator)
{
    // Get current allocation statistics
    auto stats = allocator->GetStats();

    SEDX_CORE_INFO("Memory Statistics:");
    SEDX_CORE_INFO("  Total Bytes: {} MB", stats.totalBytes / (1024 * 1024));
    SEDX_CORE_INFO("  Used Bytes: {} MB", stats.usedBytes / (1024 * 1024));
    SEDX_CORE_INFO("  Allocation Count: {}", stats.allocationCount);
    SEDX_CORE_INFO("  Fragmentation: {:.2f}%", stats.fragmentationRatio * 100.0f);
    return stats;
}

/// Not in the spec, which leaves it to the reader: what "cleanup" means here. It releases the
/// resources whose deferred destruction is waiting for the frames in flight to retire.
void TriggerMemoryCleanup()
{
    const uint64_t retireFrame =
        MemoryAllocator::GetCurrentFrameIndex() + MemoryAllocator::GetSettings().framesInFlight;
    MemoryAllocator::SetCurrentFrameIndex(retireFrame);
    SEDX_CORE_INFO("Memory cleanup: advanced to frame {}, released retired resources", retireFrame);
}
} // namespace

bool Example_AllocationStatistics(const Ref<VulkanDevice>& /*vulkanDevice*/)
{
    // Not in the spec's snippet: the allocator, and one buffer to watch the figures move.
    auto allocator = CreateRef<MemoryAllocator>("Statistics");
    const AllocationStats before = LogAllocationStatistics(allocator);

    const VkBufferCreateInfo bufferInfo = Test::BufferInfo(512 * 1024, VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT);
    VkBuffer buffer = VK_NULL_HANDLE;
    VmaAllocation allocation = allocator->AllocateBuffer(bufferInfo, VMA_MEMORY_USAGE_GPU_ONLY, buffer);
    SEDX_EXAMPLE_CHECK(allocation != nullptr);
    VmaAllocationInfo info{};
    vmaGetAllocationInfo(MemoryAllocator::GetAllocator(), allocation, &info);

    const AllocationStats during = LogAllocationStatistics(allocator);
    SEDX_EXAMPLE_CHECK(allocator->DestroyBuffer(buffer, allocation));
    const AllocationStats after = LogAllocationStatistics(allocator);

    // Check: one allocation of exactly its size came and went; the tag counted it too.
    SEDX_EXAMPLE_CHECK(during.allocationCount == before.allocationCount + 1);
    SEDX_EXAMPLE_CHECK(during.usedBytes == before.usedBytes + info.size);
    SEDX_EXAMPLE_CHECK(during.totalBytes >= during.usedBytes);
    SEDX_EXAMPLE_CHECK(during.tag.allocationCount == 1 && during.tag.usedBytes == info.size);
    SEDX_EXAMPLE_CHECK(after.allocationCount == before.allocationCount);
    SEDX_EXAMPLE_CHECK(after.usedBytes == before.usedBytes);
    SEDX_EXAMPLE_CHECK(after.tag.allocationCount == 0 && after.tag.usedBytes == 0);
    SEDX_EXAMPLE_CHECK(during.fragmentationRatio >= 0.0f && during.fragmentationRatio <= 1.0f);
    // Check: the cheap figures agree with the exact walk over VMA's statistics.
    const AllocationStats exact = allocator->CalculateStats();
    SEDX_EXAMPLE_CHECK(exact.allocationCount == after.allocationCount && exact.usedBytes == after.usedBytes);
    return true;
}

bool Example_DetailedStatisticsReporting(const Ref<VulkanDevice>& /*vulkanDevice*/)
{
    // Not in the spec's snippet: the allocator, one buffer and one image so that the report has
    // something to show, and a capture of the log to check the report.
    auto allocator = CreateRef<MemoryAllocator>("Report");
    const VkBufferCreateInfo bufferInfo = Test::BufferInfo(200 * 1024, VK_BUFFER_USAGE_VERTEX_BUFFER_BIT);
    VkBuffer buffer = VK_NULL_HANDLE;
    VmaAllocation bufferAllocation = allocator->AllocateBuffer(bufferInfo, VMA_MEMORY_USAGE_GPU_ONLY, buffer);
    const VkImageCreateInfo imageInfo = Test::ImageInfo(256, 256); // RGBA8, sampled, one mip
    VkImage image = VK_NULL_HANDLE;
    VmaAllocation imageAllocation = allocator->AllocateImage(imageInfo, VMA_MEMORY_USAGE_GPU_ONLY, image);
    SEDX_EXAMPLE_CHECK(bufferAllocation != nullptr && imageAllocation != nullptr);
    LogCapture capture;

    // Print comprehensive memory statistics
    allocator->PrintDetailedStats();

    // Output includes:
    // - Total memory allocated/used
    // - Per-heap memory usage
    // - Per-memory-type allocation details
    // - Fragmentation ratios
    // - Peak memory usage

    // Check: each of those parts is in the report, and so is this tag's line.
    SEDX_EXAMPLE_CHECK(capture.Count(LogLevel::Info, "total: ", "VulkanAllocator") == 1);
    SEDX_EXAMPLE_CHECK(capture.Count(LogLevel::Info, "peak", "VulkanAllocator") >= 1);
    SEDX_EXAMPLE_CHECK(capture.Count(LogLevel::Info, "heap ", "VulkanAllocator") >= 1);
    SEDX_EXAMPLE_CHECK(capture.Count(LogLevel::Info, "memory type ", "VulkanAllocator") >= 1);
    SEDX_EXAMPLE_CHECK(capture.Count(LogLevel::Info, "fragmentation", "VulkanAllocator") >= 2);
    SEDX_EXAMPLE_CHECK(capture.Count(LogLevel::Info, "tag 'Report': 2 allocations (1 buffers, 1 images)",
                                     "VulkanAllocator") == 1);

    SEDX_EXAMPLE_CHECK(allocator->DestroyBuffer(buffer, bufferAllocation));
    SEDX_EXAMPLE_CHECK(allocator->DestroyImage(image, imageAllocation));
    return true;
}

bool Example_MemoryBudgetMonitoring(const Ref<VulkanDevice>& /*vulkanDevice*/)
{
    // Not in the spec's snippet: the allocator.
    auto allocator = CreateRef<MemoryAllocator>("Budget Monitor");

    // Monitor memory budget in real-time
    auto budget = allocator->GetMemoryBudget();

    if (budget.isOverBudget)
    {
        SEDX_CORE_WARN("Memory usage: {:.1f}% ({} MB / {} MB)", budget.usagePercentage * 100.0f,
                       budget.usedBytes / (1024 * 1024), budget.totalBytes / (1024 * 1024));

        // Trigger cleanup or LOD reduction
        TriggerMemoryCleanup();
    }

    // Check: the figures are consistent. isOverBudget means exactly usage > budget (the earlier
    // signal is isAboveWarningThreshold); usagePercentage is a fraction of the budget.
    SEDX_EXAMPLE_CHECK(budget.totalBytes > 0 && budget.totalBytes <= budget.heapSizeBytes);
    SEDX_EXAMPLE_CHECK(budget.isOverBudget == (budget.usedBytes > budget.totalBytes));
    const double expectedFraction =
        static_cast<double>(budget.usedBytes) / static_cast<double>(budget.totalBytes);
    SEDX_EXAMPLE_CHECK(std::abs(budget.usagePercentage - expectedFraction) < 1e-6);
    SEDX_EXAMPLE_CHECK(budget.isAboveWarningThreshold ==
                       (budget.usagePercentage > allocator->GetMemoryUsageWarningThreshold()));
    SEDX_EXAMPLE_CHECK(budget.fromBudgetExtension ==
                       MemoryAllocator::GetDevice()->GetCapabilities().memoryBudget);

    // Check: the cleanup releases what was waiting for its frame to retire.
    const VkBufferCreateInfo bufferInfo =
        Test::BufferInfo(4 * 1024 * 1024, VK_BUFFER_USAGE_VERTEX_BUFFER_BIT);
    VkBuffer buffer = VK_NULL_HANDLE;
    VmaAllocation allocation = allocator->AllocateBuffer(bufferInfo, VMA_MEMORY_USAGE_GPU_ONLY, buffer);
    SEDX_EXAMPLE_CHECK(allocation != nullptr);
    const uint64_t countWhileLive = allocator->GetStats().allocationCount;
    SEDX_EXAMPLE_CHECK(allocator->DestroyBufferDeferred(buffer, allocation));
    SEDX_EXAMPLE_CHECK(allocator->GetStats().allocationCount == countWhileLive); // still held by VMA
    TriggerMemoryCleanup();
    SEDX_EXAMPLE_CHECK(allocator->GetStats().allocationCount == countWhileLive - 1);
    return true;
}

} // namespace SceneryEditorX::Examples
