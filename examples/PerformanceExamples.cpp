// Spec section "Performance Optimization": pre-warming the size-class pools. (The section's
// defragmentation example lives with the defragmentation examples.)
// The example is the spec's text; lines marked "Check:" verify what the spec says happens.
#include "ExampleSupport.h"
#include "SpecExamples.h"

#include <vector>

namespace SceneryEditorX::Examples
{

bool Example_MemoryPoolOptimization(const Ref<VulkanDevice>& /*vulkanDevice*/)
{
    // Not in the spec's snippet: the allocator, and the figures before the warm-up.
    auto allocator = CreateRef<MemoryAllocator>("Pool Warmup");
    const AllocationStats cold = allocator->GetStats();

    // Pre-warm memory pools for expected allocation patterns
    std::vector<VkDeviceSize> commonSizes = {
        SMALL_BUFFER_SIZE,  // For uniform buffers
        MEDIUM_BUFFER_SIZE, // For vertex/index buffers
        LARGE_BUFFER_SIZE   // For large assets
    };

    // Allocate and immediately free to create pools
    for (auto size : commonSizes)
    {
        VkBufferCreateInfo warmupInfo{};
        warmupInfo.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
        warmupInfo.size = size;
        warmupInfo.usage = VK_BUFFER_USAGE_VERTEX_BUFFER_BIT;
        warmupInfo.sharingMode = VK_SHARING_MODE_EXCLUSIVE;

        VkBuffer warmupBuffer;
        VmaAllocation warmupAllocation =
            allocator->AllocateBuffer(warmupInfo, VMA_MEMORY_USAGE_GPU_ONLY, warmupBuffer);

        allocator->DestroyBuffer(warmupBuffer, warmupAllocation);
    }

    // Check: nothing is allocated any more, but each size class kept one block ready for reuse
    // (the documented retention: at most one empty block per pool).
    const AllocationStats warm = allocator->GetStats();
    SEDX_EXAMPLE_CHECK(warm.allocationCount == cold.allocationCount);
    SEDX_EXAMPLE_CHECK(warm.usedBytes == cold.usedBytes);
    SEDX_EXAMPLE_CHECK(warm.blockCount == cold.blockCount + commonSizes.size());
    SEDX_EXAMPLE_CHECK(warm.totalBytes > cold.totalBytes);

    // Check: buffers of those sizes now reuse the warm blocks; no new device memory is committed.
    std::vector<std::pair<VkBuffer, VmaAllocation>> buffers;
    for (auto size : commonSizes)
    {
        VkBufferCreateInfo bufferInfo{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
        bufferInfo.size = size;
        bufferInfo.usage = VK_BUFFER_USAGE_VERTEX_BUFFER_BIT;
        bufferInfo.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
        VkBuffer buffer = VK_NULL_HANDLE;
        VmaAllocation allocation = allocator->AllocateBuffer(bufferInfo, VMA_MEMORY_USAGE_GPU_ONLY, buffer);
        SEDX_EXAMPLE_CHECK(allocation != nullptr);
        buffers.emplace_back(buffer, allocation);
    }
    const AllocationStats reused = allocator->GetStats();
    for (auto& [buffer, allocation] : buffers)
        SEDX_EXAMPLE_CHECK(allocator->DestroyBuffer(buffer, allocation));
    SEDX_EXAMPLE_CHECK(reused.totalBytes == warm.totalBytes);
    SEDX_EXAMPLE_CHECK(reused.blockCount == warm.blockCount);
    SEDX_EXAMPLE_CHECK(reused.allocationCount == cold.allocationCount + commonSizes.size());
    return true;
}

} // namespace SceneryEditorX::Examples
