// Spec section "Thread Safety": one allocator used from as many threads as the machine has cores.
// The example is the spec's text; lines marked "Check:" verify what the spec says happens.
#include "ExampleSupport.h"
#include "SpecExamples.h"

#include <atomic>
#include <thread>
#include <vector>

namespace SceneryEditorX::Examples
{

bool Example_ThreadSafety(const Ref<VulkanDevice>& /*vulkanDevice*/)
{
    // Not in the spec's snippet: the allocator, and a count of the threads that got their buffer.
    auto allocator = CreateRef<MemoryAllocator>("Worker Threads");
    std::atomic<unsigned int> buffersMade{0};
    const uint64_t allocationsBefore = allocator->GetStats().tag.totalAllocations;

    // Safe to call from multiple threads
    std::vector<std::thread> allocationThreads;

    // Compiler: the spec's `int i` compared with hardware_concurrency()'s unsigned int (-Wsign-compare).
    for (unsigned int i = 0; i < std::thread::hardware_concurrency(); ++i)
    {
        // Not in the spec: buffersMade is captured too, for the check.
        allocationThreads.emplace_back(
            [&allocator, &buffersMade]()
            {
                // Each thread can safely allocate memory
                VkBufferCreateInfo bufferInfo{};
                // ... setup buffer info ...
                bufferInfo.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
                bufferInfo.size = 128 * 1024;
                bufferInfo.usage = VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT;
                bufferInfo.sharingMode = VK_SHARING_MODE_EXCLUSIVE;

                VkBuffer buffer;
                VmaAllocation allocation =
                    allocator->AllocateBuffer(bufferInfo, VMA_MEMORY_USAGE_GPU_ONLY, buffer);

                // ... use buffer ...
                if (allocation != nullptr && MemoryAllocator::GetBuffer(allocation) == buffer)
                    buffersMade.fetch_add(1, std::memory_order_relaxed);

                allocator->DestroyBuffer(buffer, allocation);
            });
    }

    for (auto& thread : allocationThreads)
    {
        thread.join();
    }

    // Check: every thread got its buffer, and every buffer was freed again.
    SEDX_EXAMPLE_CHECK(buffersMade.load() == allocationThreads.size());
    SEDX_EXAMPLE_CHECK(allocator->GetStats().tag.totalAllocations - allocationsBefore ==
                       allocationThreads.size());
    return LiveAllocationsOfTag("Worker Threads") == 0;
}

} // namespace SceneryEditorX::Examples
