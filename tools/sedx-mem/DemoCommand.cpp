// `sedx-mem demo`: the allocator on the default device. For now a round trip through every path:
// a device-local buffer and a mip-mapped texture written through staging and read back.
#include "Commands.h"

#include <SceneryEditorX/Memory.h>

#include <cstdio>
#include <numeric>

namespace SceneryEditorX::Tool
{
int RunDemo(const DemoOptions& options)
{
    if (options.quiet)
        Log::SetLevel(LogLevel::Warn);
    VulkanDeviceOptions deviceOptions;
    deviceOptions.deviceSelector = options.device;
    deviceOptions.enableValidation = options.validation;
    Ref<VulkanDevice> device = VulkanDevice::Create(deviceOptions);
    if (!device)
        return 1;
    const PhysicalDeviceInfo& info = device->GetInfo();
    std::printf("device: %s (%s, Vulkan %u.%u, driver %s)\n", info.name.c_str(), PhysicalDeviceTypeName(info.type),
                VK_API_VERSION_MAJOR(device->GetApiVersion()), VK_API_VERSION_MINOR(device->GetApiVersion()),
                info.driverInfo.c_str());
    if (!MemoryAllocator::Init(device, VK_API_VERSION_1_3))
        return 1;

    int failures = 0;
    {
        auto meshes = CreateRef<MemoryAllocator>("Mesh Renderer");
        auto textures = CreateRef<MemoryAllocator>("TextureManager");

        VkBufferCreateInfo bufferInfo{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
        bufferInfo.size = 1024 * 1024;
        bufferInfo.usage = VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
        bufferInfo.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
        Ref<GpuBuffer> vertices = GpuBuffer::Create(meshes, bufferInfo, VMA_MEMORY_USAGE_GPU_ONLY);
        std::vector<uint32_t> pattern(bufferInfo.size / sizeof(uint32_t));
        std::iota(pattern.begin(), pattern.end(), 0x5EDC0000u);
        std::vector<uint32_t> back(pattern.size());
        const bool bufferOk = vertices && vertices->Upload(pattern.data(), bufferInfo.size) &&
                              vertices->Readback(back.data(), bufferInfo.size) && back == pattern;
        std::printf("buffer round trip (1 MiB, GPU_ONLY): %s\n", bufferOk ? "ok" : "MISMATCH");
        failures += bufferOk ? 0 : 1;

        VkImageCreateInfo imageInfo{VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
        imageInfo.imageType = VK_IMAGE_TYPE_2D;
        imageInfo.extent = {512, 512, 1};
        imageInfo.mipLevels = 10;
        imageInfo.arrayLayers = 1;
        imageInfo.format = VK_FORMAT_R8G8B8A8_SRGB;
        imageInfo.tiling = VK_IMAGE_TILING_OPTIMAL;
        imageInfo.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
        imageInfo.usage = VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT;
        imageInfo.samples = VK_SAMPLE_COUNT_1_BIT;
        imageInfo.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
        Ref<GpuImage> texture = GpuImage::Create(textures, imageInfo, VMA_MEMORY_USAGE_GPU_ONLY);
        std::vector<uint8_t> texels(MemoryAllocator::ImageDataSize(imageInfo));
        for (size_t i = 0; i < texels.size(); ++i)
            texels[i] = static_cast<uint8_t>(i * 31 + 7);
        std::vector<uint8_t> texelsBack;
        const bool imageOk = texture && texture->Upload(texels.data(), texels.size()) &&
                             texture->Readback(texelsBack) && texelsBack == texels;
        std::printf("texture round trip (512x512 RGBA8, 10 mips, %llu bytes allocated): %s\n",
                    static_cast<unsigned long long>(texture ? texture->GetAllocatedSize() : 0),
                    imageOk ? "ok" : "MISMATCH");
        failures += imageOk ? 0 : 1;

        const AllocationStats stats = meshes->GetStats();
        std::printf("stats: %.2f MiB committed, %.2f MiB used, %llu allocations\n", stats.totalBytes / 1048576.0,
                    stats.usedBytes / 1048576.0, static_cast<unsigned long long>(stats.allocationCount));
        if (!options.quiet)
            meshes->PrintDetailedStats();
    }
    MemoryAllocator::Shutdown();
    if (options.validation && (device->GetValidationErrorCount() + device->GetValidationWarningCount()) > 0)
    {
        std::printf("validation reported %u errors and %u warnings\n", device->GetValidationErrorCount(),
                    device->GetValidationWarningCount());
        ++failures;
    }
    std::printf("%s\n", failures ? "demo FAILED" : "demo ok");
    return failures ? 1 : 0;
}
} // namespace SceneryEditorX::Tool
