// Spec section "Error Handling and Debugging": assertions, tagged logging and debug information.
// Each example is the spec's text; lines marked "Check:" verify what the spec says happens.
#include "ExampleSupport.h"
#include "SpecExamples.h"
#include "Testing/Builders.h"

namespace SceneryEditorX::Examples
{

namespace
{
/// The spec's debug-information block, as it would run once per frame.
void DebugInformationFrame(const Ref<MemoryAllocator>& allocator)
{
    // Enable detailed debug information
#ifdef SEDX_DEBUG
    allocator->SetMemoryUsageWarningThreshold(0.8f); // Lower threshold in debug

    // Print statistics more frequently in debug builds
    static int debugFrameCount = 0;
    if (++debugFrameCount % 300 == 0) // Every 5 seconds at 60 FPS
    {
        allocator->PrintDetailedStats();
    }
#else
    (void)allocator; // Compiler: unused in builds without SEDX_DEBUG
#endif
}
} // namespace

bool Example_AssertionAndValidation(const Ref<VulkanDevice>& /*vulkanDevice*/)
{
    // Not in the spec's snippet: the allocator, the buffer info and the buffer it uses.
    auto allocator = CreateRef<MemoryAllocator>("Validation");
    const VkBufferCreateInfo bufferInfo = Test::BufferInfo(64 * 1024, VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT);
    VkBuffer buffer;

    // The allocator includes comprehensive validation
    VmaAllocation allocation = allocator->AllocateBuffer(bufferInfo, VMA_MEMORY_USAGE_GPU_ONLY, buffer);

    // Validate allocation success
    SEDX_CORE_ASSERT(allocation != nullptr, "Failed to allocate buffer memory");
    SEDX_CORE_VERIFY(allocator->ContainsAllocation(allocation), "Allocation not tracked");

    // Check: the same conditions as values (SEDX_CORE_ASSERT is compiled out of release builds,
    // and neither macro aborts there).
    SEDX_EXAMPLE_CHECK(allocation != nullptr && MemoryAllocator::ContainsAllocation(allocation));
    SEDX_EXAMPLE_CHECK(allocator->DestroyBuffer(buffer, allocation));
    // Check: once destroyed, the allocation is no longer tracked.
    return !MemoryAllocator::ContainsAllocation(allocation);
}

bool Example_TaggedLogging(const Ref<VulkanDevice>& /*vulkanDevice*/)
{
    // Not in the spec's snippet: the values it logs, and a capture of the log to check it.
    const VkDeviceSize bufferSize = 256 * 1024;
    const int usagePercent = 87;
    const char* errorCode = VkResultName(VK_ERROR_OUT_OF_DEVICE_MEMORY);
    LogCapture capture;

    // All allocator operations use tagged logging for easy filtering
    SEDX_CORE_INFO_TAG("VulkanAllocator", "Allocated buffer: {} bytes", bufferSize);
    SEDX_CORE_WARN_TAG("VulkanAllocator", "Memory usage warning: {}% of budget used", usagePercent);
    SEDX_CORE_ERROR_TAG("VulkanAllocator", "Failed to allocate memory: {}", errorCode);

    // Check: each line carries the tag, its level and its formatted message.
    SEDX_EXAMPLE_CHECK(capture.Count(LogLevel::Info, "Allocated buffer: 262144 bytes", "VulkanAllocator") ==
                       1);
    SEDX_EXAMPLE_CHECK(
        capture.Count(LogLevel::Warn, "Memory usage warning: 87% of budget used", "VulkanAllocator") == 1);
    SEDX_EXAMPLE_CHECK(capture.Count(LogLevel::Error,
                                     "Failed to allocate memory: VK_ERROR_OUT_OF_DEVICE_MEMORY",
                                     "VulkanAllocator") == 1);

    // Check: a disabled tag filters its lines out (the "easy filtering" of the comment above).
    Log::SetTagEnabled("VulkanAllocator", false);
    SEDX_CORE_INFO_TAG("VulkanAllocator", "Allocated buffer: {} bytes", bufferSize);
    Log::SetTagEnabled("VulkanAllocator", true);
    return capture.Count(LogLevel::Info, "Allocated buffer", "VulkanAllocator") == 1;
}

bool Example_DebugInformation(const Ref<VulkanDevice>& /*vulkanDevice*/)
{
    // Not in the spec's snippet: the allocator, and 300 frames so that the report comes once.
    auto allocator = CreateRef<MemoryAllocator>("Debug Overlay");
    const float releaseThreshold = allocator->GetMemoryUsageWarningThreshold();
    LogCapture capture;
    for (int frame = 0; frame < 300; ++frame)
        DebugInformationFrame(allocator);

    // Check: with SEDX_DEBUG the threshold is lowered and the report printed exactly once in 300
    // frames; without it nothing changes.
    const size_t reports =
        capture.Count(LogLevel::Info, "=== memory statistics (requested by 'Debug Overlay')");
#ifdef SEDX_DEBUG
    SEDX_EXAMPLE_CHECK(allocator->GetMemoryUsageWarningThreshold() == 0.8f);
    SEDX_EXAMPLE_CHECK(reports == 1);
#else
    SEDX_EXAMPLE_CHECK(allocator->GetMemoryUsageWarningThreshold() == releaseThreshold);
    SEDX_EXAMPLE_CHECK(reports == 0);
#endif
    (void)releaseThreshold;
    return true;
}

} // namespace SceneryEditorX::Examples
