// The consumer: includes the umbrella header, opens a device and logs. Exits non-zero on failure.
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

    const uint32_t messages = device->GetValidationErrorCount() + device->GetValidationWarningCount();
    if (messages != 0)
    {
        std::fprintf(stderr, "consumer: %u validation message(s)\n", messages);
        return 1;
    }
    std::printf("consumer: OK\n");
    return 0;
}
