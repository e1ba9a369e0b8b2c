// The consumer: includes the umbrella header, opens a device, allocates and frees a buffer, calls VMA
// directly on the library's allocator and logs. Exits non-zero on failure. Linked with
// SceneryEditorX::Memory, or with SceneryEditorX::MemoryAppVma and the application's VMA unit
// (app_vma.cpp) when SEDX_CONSUMER_APP_VMA is defined.
#include <SceneryEditorX/Memory.h>

#include <vk_mem_alloc.h> // the installed package carries VMA's header

#include <cstdio>

int main()
{
    using namespace SceneryEditorX;
    Log::SetLevel(LogLevel::Info);

    VulkanDeviceOptions options;
    options.applicationName = "sedx-consumer";
    options.enableValidation = true;
    Ref<VulkanDevice> device = VulkanDevice::Create(options);
    if (!device)
    {
        std::fprintf(stderr, "consumer: VulkanDevice::Create failed\n");
        return 1;
    }
    SEDX_CORE_INFO_TAG("Consumer", "device '{}' ({}), {} memory heap(s), VMA {}", device->GetInfo().name,
                       PhysicalDeviceTypeName(device->GetInfo().type),
                       device->GetMemoryProperties().memoryHeapCount, VMA_VULKAN_VERSION);

    // The application's own VMA calls run on the program's one VMA: the library's (the package
    // carries it) or, with SceneryEditorX::MemoryAppVma, the application's unit (app_vma.cpp).
    if (!MemoryAllocator::Init(device, VK_API_VERSION_1_3))
    {
        std::fprintf(stderr, "consumer: MemoryAllocator::Init failed\n");
        return 1;
    }
    {
        auto allocator = CreateRef<MemoryAllocator>("Consumer");
        VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
        info.size = 4096;
        info.usage = VK_BUFFER_USAGE_VERTEX_BUFFER_BIT;
        VkBuffer buffer = VK_NULL_HANDLE;
        VmaAllocation allocation = allocator->AllocateBuffer(info, VMA_MEMORY_USAGE_GPU_ONLY, buffer);
        VmaTotalStatistics totals{};
        vmaCalculateStatistics(MemoryAllocator::GetAllocator(), &totals);
        const bool counted = allocation && totals.total.statistics.allocationCount >= 1;
        if (!counted || !allocator->DestroyBuffer(buffer, allocation))
        {
            std::fprintf(stderr, "consumer: a buffer through the allocator and VMA's statistics disagree\n");
            return 1;
        }
    }
    if (!MemoryAllocator::Shutdown())
        return 1;

    const uint32_t messages = device->GetValidationErrorCount() + device->GetValidationWarningCount();
    if (messages != 0)
    {
        std::fprintf(stderr, "consumer: %u validation message(s)\n", messages);
        return 1;
    }
#ifdef SEDX_CONSUMER_APP_VMA
    std::printf("consumer: OK (SceneryEditorX::MemoryAppVma, the application's VMA unit)\n");
#else
    std::printf("consumer: OK\n");
#endif
    return 0;
}
