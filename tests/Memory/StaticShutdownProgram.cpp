// A program that keeps its allocator state in a static object, as an application may, and shuts the
// allocator down from that object's destructor at process exit, with allocations still live. The
// CTest entry sedx_static_destructor_shutdown (StaticShutdown.cmake) passes when it exits with 0 and
// its output holds the leak report written during that shutdown and the line logged after it.
//
// The state object is a namespace-scope global, constructed before main and so destroyed after
// every function-local static that the library creates later (the logger's among them): the
// hardest order for the library.
#include <SceneryEditorX/Memory.h>

#include <cstdio>

namespace
{
using namespace SceneryEditorX;

struct EditorState
{
    Ref<VulkanDevice> device;
    Ref<MemoryAllocator> allocator;

    ~EditorState()
    {
        // The leaks of main are still live: Shutdown reports and frees them.
        const bool shutDown = MemoryAllocator::Shutdown();
        SEDX_CORE_INFO_TAG("StaticShutdown", "Shutdown from a static destructor returned {}", shutDown);
        allocator = nullptr;
        device = nullptr;
        SEDX_CORE_INFO_TAG("StaticShutdown", "device released");
    }
};

EditorState g_State;
} // namespace

int main()
{
    Log::SetLevel(LogLevel::Info);
    VulkanDeviceOptions options;
    options.applicationName = "sedx-static-shutdown";
    // Without the validation layer, unlike the other tests: the layer is loaded after g_State was
    // constructed, so its exit handlers tear its state down before ~EditorState runs, and the
    // destroys made through it from there no longer reach the driver (ASan then reports lavapipe's
    // memory of the leaked buffer and image as leaked). The driver alone is what this program
    // tests; NVIDIA's driver has exit handlers of its own (docs/GPU.md).
    options.enableValidation = false;
    g_State.device = VulkanDevice::Create(options);
    if (!g_State.device || !MemoryAllocator::Init(g_State.device, VK_API_VERSION_1_3))
    {
        std::fprintf(stderr, "static-shutdown: no device or Init failed\n");
        return 1;
    }
    g_State.allocator = CreateRef<MemoryAllocator>("Static Editor");

    // Two leaks: a buffer and an image, named so that the report can be recognised.
    VkBufferCreateInfo bufferInfo{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bufferInfo.size = 64 * 1024;
    bufferInfo.usage = VK_BUFFER_USAGE_VERTEX_BUFFER_BIT;
    AllocationCreateInfo createInfo;
    createInfo.usage = VMA_MEMORY_USAGE_GPU_ONLY;
    createInfo.name = "leaked-vertices";
    VkBuffer buffer = VK_NULL_HANDLE;
    if (!g_State.allocator->AllocateBuffer(bufferInfo, createInfo, buffer))
        return 1;
    VkImageCreateInfo imageInfo{VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
    imageInfo.imageType = VK_IMAGE_TYPE_2D;
    imageInfo.format = VK_FORMAT_R8G8B8A8_UNORM;
    imageInfo.extent = {64, 64, 1};
    imageInfo.mipLevels = 1;
    imageInfo.arrayLayers = 1;
    imageInfo.samples = VK_SAMPLE_COUNT_1_BIT;
    imageInfo.tiling = VK_IMAGE_TILING_OPTIMAL;
    imageInfo.usage = VK_IMAGE_USAGE_SAMPLED_BIT;
    createInfo.name = "leaked-texture";
    VkImage image = VK_NULL_HANDLE;
    if (!g_State.allocator->AllocateImage(imageInfo, createInfo, image))
        return 1;
    // A batch too, freed through a const vector, so that its buffers are not among the leaks.
    const std::vector<MemoryAllocator::BatchBufferAllocation> batch =
        g_State.allocator->AllocateBufferBatch({4096, 8192}, VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT);
    if (batch.size() != 2 || !g_State.allocator->FreeBufferBatch(batch))
        return 1;
    SEDX_CORE_INFO_TAG("StaticShutdown", "main returns with 2 live allocations");
    return 0;
}
