// The device of `info` and `demo`: the one --device names, or a clear error on stderr.
#include "Commands.h"

#include <cstdio>

namespace SceneryEditorX::Tool
{
Ref<VulkanDevice> CreateToolDevice(const char* command, const VulkanDeviceOptions& options)
{
    const std::vector<PhysicalDeviceInfo> devices = VulkanDevice::EnumeratePhysicalDevices();
    if (VulkanDevice::ChoosePhysicalDevice(devices, options.deviceSelector) < 0)
    {
        if (devices.empty())
            std::fprintf(stderr, "sedx-mem %s: no Vulkan device found\n", command);
        else if (options.deviceSelector.empty())
            std::fprintf(stderr, "sedx-mem %s: no usable Vulkan device (SEDX_DEVICE may name none)\n",
                         command);
        else
            std::fprintf(stderr, "sedx-mem %s: no Vulkan device matches --device '%s'; the devices are:\n",
                         command, options.deviceSelector.c_str());
        for (const PhysicalDeviceInfo& d : devices)
            std::fprintf(stderr, "  %u: %s (%s)\n", d.index, d.name.c_str(), PhysicalDeviceTypeName(d.type));
        return nullptr;
    }
    Ref<VulkanDevice> device = VulkanDevice::Create(options);
    if (!device)
        std::fprintf(stderr, "sedx-mem %s: cannot create the Vulkan device (see the error above)\n", command);
    return device;
}
} // namespace SceneryEditorX::Tool
