// Spec section "Best Practices": initialization and shutdown, resource lifecycle, error recovery.
// Each example is the spec's text; lines marked "Check:" verify what the spec says happens.
#include "ExampleSupport.h"
#include "SpecExamples.h"
#include "Testing/Builders.h"

#include <memory>
#include <utility>
#include <vector>

namespace SceneryEditorX::Examples
{

namespace
{
// Compiler: the spec defines Application's members without declaring the class. A minimal real
// one: it holds the device and the module allocators that OnShutdown clears.
class Application
{
public:
    explicit Application(Ref<VulkanDevice> vulkanDevice) : m_VulkanDevice(std::move(vulkanDevice)) {}

    void OnStartup();
    void OnShutdown();

    // Not in the spec: what the example checks.
    const std::vector<Ref<MemoryAllocator>>& GetModuleAllocators() const { return m_ModuleAllocators; }

private:
    Ref<VulkanDevice> m_VulkanDevice;
    std::vector<Ref<MemoryAllocator>> m_ModuleAllocators;
};

// Application startup
void Application::OnStartup()
{
    // Initialize VMA after Vulkan device creation
    MemoryAllocator::Init(m_VulkanDevice, VK_API_VERSION_1_3);

    // Configure global settings
    auto globalAllocator = CreateRef<MemoryAllocator>("Global");
    globalAllocator->SetMemoryUsageWarningThreshold(0.85f);
    globalAllocator->SetAllocationStrategy(MemoryAllocator::AllocationStrategy::Default);
    // Not in the spec: these settings belong to the instance (MemoryAllocator.h), not to the
    // global allocator, so the spec's local instance would take them with it when OnStartup
    // returns. Keeping it among the module allocators keeps them until OnShutdown.
    m_ModuleAllocators.push_back(globalAllocator);
}

// Application shutdown
void Application::OnShutdown()
{
    // Clean up all allocators before VMA shutdown
    m_ModuleAllocators.clear();

    // Shutdown VMA system
    MemoryAllocator::Shutdown();
}

class SceneRenderer : public Module
{
public:
    // Not in the spec, which shows only the private part: how meshes get in and out, so that the
    // example can run it.
    explicit SceneRenderer(Ref<MemoryAllocator> allocator)
        : Module("SceneRenderer"), m_Allocator(std::move(allocator))
    {
    }
    bool LoadMesh(VkDeviceSize vertexBytes, VkDeviceSize indexBytes)
    {
        auto mesh = std::make_unique<MeshData>();
        mesh->allocator = m_Allocator;
        VkBufferCreateInfo bufferInfo{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
        bufferInfo.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
        bufferInfo.size = vertexBytes;
        bufferInfo.usage = VK_BUFFER_USAGE_VERTEX_BUFFER_BIT;
        mesh->vertexAllocation =
            m_Allocator->AllocateBuffer(bufferInfo, VMA_MEMORY_USAGE_GPU_ONLY, mesh->vertexBuffer);
        bufferInfo.size = indexBytes;
        bufferInfo.usage = VK_BUFFER_USAGE_INDEX_BUFFER_BIT;
        mesh->indexAllocation =
            m_Allocator->AllocateBuffer(bufferInfo, VMA_MEMORY_USAGE_GPU_ONLY, mesh->indexBuffer);
        const bool loaded = mesh->vertexAllocation != nullptr && mesh->indexAllocation != nullptr;
        if (loaded)
            m_SceneMeshes.push_back(std::move(mesh)); // else ~MeshData frees what was made
        return loaded;
    }
    void OnDetach() override { m_SceneMeshes.clear(); }
    size_t GetMeshCount() const { return m_SceneMeshes.size(); }

private:
    struct MeshData
    {
        VkBuffer vertexBuffer = VK_NULL_HANDLE;
        VmaAllocation vertexAllocation = nullptr;
        VkBuffer indexBuffer = VK_NULL_HANDLE;
        VmaAllocation indexAllocation = nullptr;
        // Compiler: the spec's destructor uses `allocator` without declaring it. The owner sets it.
        Ref<MemoryAllocator> allocator;

        ~MeshData()
        {
            // RAII cleanup
            if (vertexBuffer != VK_NULL_HANDLE)
            {
                allocator->DestroyBuffer(vertexBuffer, vertexAllocation);
            }
            if (indexBuffer != VK_NULL_HANDLE)
            {
                allocator->DestroyBuffer(indexBuffer, indexAllocation);
            }
        }
    };

    std::vector<std::unique_ptr<MeshData>> m_SceneMeshes;
    Ref<MemoryAllocator> m_Allocator; // not in the spec: the allocator the meshes are made with
};

// Compiler: the spec's SafeAllocateBuffer uses a member m_Allocator without a class. A minimal one.
class ResourceLoader
{
public:
    explicit ResourceLoader(Ref<MemoryAllocator> allocator) : m_Allocator(std::move(allocator)) {}

    // Implement robust error handling
    bool SafeAllocateBuffer(VkBufferCreateInfo& bufferInfo, VkBuffer& outBuffer, VmaAllocation& outAllocation)
    {
        // Try with requested memory usage first
        outAllocation = m_Allocator->AllocateBuffer(bufferInfo, VMA_MEMORY_USAGE_GPU_ONLY, outBuffer);

        if (outAllocation == nullptr)
        {
            SEDX_CORE_WARN("GPU memory allocation failed, trying CPU memory");

            // Fallback to CPU memory if GPU memory is exhausted
            // Not the spec's CPU_TO_GPU: that usage prefers DEVICE_LOCAL | HOST_VISIBLE memory, which
            // on a discrete GPU is the very heap that just ran out. AUTO_PREFER_HOST keeps the buffer
            // out of device-local memory (the library's documented fallback).
            outAllocation =
                m_Allocator->AllocateBuffer(bufferInfo, VMA_MEMORY_USAGE_AUTO_PREFER_HOST, outBuffer);

            if (outAllocation == nullptr)
            {
                SEDX_CORE_ERROR("All memory allocation attempts failed");
                return false;
            }
        }

        return true;
    }

private:
    Ref<MemoryAllocator> m_Allocator;
};
} // namespace

bool Example_InitializationAndShutdown(const Ref<VulkanDevice>& vulkanDevice)
{
    Application application(vulkanDevice);
    application.OnStartup();

    // Check: the system is up, and the configured instance kept its settings and works.
    SEDX_EXAMPLE_CHECK(MemoryAllocator::IsInitialized());
    SEDX_EXAMPLE_CHECK(application.GetModuleAllocators().size() == 1);
    const Ref<MemoryAllocator>& globalAllocator = application.GetModuleAllocators().front();
    SEDX_EXAMPLE_CHECK(globalAllocator->GetMemoryUsageWarningThreshold() == 0.85f);
    SEDX_EXAMPLE_CHECK(globalAllocator->GetAllocationStrategy() ==
                       MemoryAllocator::AllocationStrategy::Default);
    const VkBufferCreateInfo bufferInfo = Test::BufferInfo(64 * 1024, VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT);
    VkBuffer buffer = VK_NULL_HANDLE;
    VmaAllocation allocation = globalAllocator->AllocateBuffer(bufferInfo, VMA_MEMORY_USAGE_GPU_ONLY, buffer);
    SEDX_EXAMPLE_CHECK(allocation != nullptr);
    SEDX_EXAMPLE_CHECK(globalAllocator->DestroyBuffer(buffer, allocation));

    application.OnShutdown();
    // Check: everything is released and the system is down.
    SEDX_EXAMPLE_CHECK(application.GetModuleAllocators().empty());
    return !MemoryAllocator::IsInitialized();
}

bool Example_ResourceLifecycleManagement(const Ref<VulkanDevice>& /*vulkanDevice*/)
{
    auto renderer = CreateRef<SceneRenderer>(CreateRef<MemoryAllocator>("SceneRenderer"));
    renderer->OnAttach();
    SEDX_EXAMPLE_CHECK(renderer->LoadMesh(192 * 1024, 48 * 1024));
    SEDX_EXAMPLE_CHECK(renderer->LoadMesh(2 * 1024 * 1024, 512 * 1024));
    SEDX_EXAMPLE_CHECK(renderer->LoadMesh(24 * 1024 * 1024, 6 * 1024 * 1024)); // above the pools
    // Check: two buffers per mesh are live.
    SEDX_EXAMPLE_CHECK(renderer->GetMeshCount() == 3);
    SEDX_EXAMPLE_CHECK(LiveAllocationsOfTag("SceneRenderer") == 6);

    // Check: MeshData's destructor frees both buffers of every mesh.
    renderer->OnDetach();
    SEDX_EXAMPLE_CHECK(renderer->GetMeshCount() == 0);
    return LiveAllocationsOfTag("SceneRenderer") == 0;
}

bool Example_ErrorRecovery(const Ref<VulkanDevice>& vulkanDevice)
{
    // Not in the spec: exhausting a real heap is not practical, so this example initializes the
    // system itself with a 64 MiB limit on every heap (AllocatorSettings::heapSizeLimits).
    constexpr VkDeviceSize kHeapLimit = 64ull * 1024 * 1024;
    AllocatorSettings settings;
    settings.heapSizeLimits.assign(vulkanDevice->GetMemoryProperties().memoryHeapCount, kHeapLimit);
    SEDX_EXAMPLE_CHECK(MemoryAllocator::Init(vulkanDevice, VK_API_VERSION_1_3, settings));
    bool passed = [&]()
    {
        auto allocator = CreateRef<MemoryAllocator>("Streaming");
        ResourceLoader loader(allocator);

        // Check: an ordinary request succeeds at the first attempt.
        VkBufferCreateInfo bufferInfo = Test::BufferInfo(8 * 1024 * 1024, VK_BUFFER_USAGE_VERTEX_BUFFER_BIT);
        VkBuffer buffer = VK_NULL_HANDLE;
        VmaAllocation allocation = nullptr;
        SEDX_EXAMPLE_CHECK(loader.SafeAllocateBuffer(bufferInfo, buffer, allocation));
        SEDX_EXAMPLE_CHECK(buffer != VK_NULL_HANDLE && MemoryAllocator::ContainsAllocation(allocation));
        SEDX_EXAMPLE_CHECK(allocator->DestroyBuffer(buffer, allocation));

        // Fill most of the heap, so that the next request cannot fit.
        bufferInfo.size = 40 * 1024 * 1024;
        VkBuffer filler = VK_NULL_HANDLE;
        VmaAllocation fillerAllocation =
            allocator->AllocateBuffer(bufferInfo, VMA_MEMORY_USAGE_GPU_ONLY, filler);
        SEDX_EXAMPLE_CHECK(fillerAllocation != nullptr);
        const AllocationStats full = allocator->GetStats();

        // Check: with one heap (lavapipe) both attempts share it, so the request fails at both and
        // fails cleanly: false, null handles, nothing left behind. With a separate host heap (a
        // discrete GPU) the fallback lands there and succeeds.
        const bool oneHeap = vulkanDevice->GetMemoryProperties().memoryHeapCount == 1;
        const bool recovered = loader.SafeAllocateBuffer(bufferInfo, buffer, allocation);
        if (oneHeap)
        {
            SEDX_EXAMPLE_CHECK(!recovered);
            SEDX_EXAMPLE_CHECK(buffer == VK_NULL_HANDLE && allocation == nullptr);
            const AllocationStats after = allocator->GetStats();
            SEDX_EXAMPLE_CHECK(after.allocationCount == full.allocationCount &&
                               after.usedBytes == full.usedBytes);
        }
        else
        {
            SEDX_EXAMPLE_CHECK(recovered); // Check: with a separate host heap, the fallback succeeds
            SEDX_EXAMPLE_CHECK(allocator->DestroyBuffer(buffer, allocation));
        }
        SEDX_EXAMPLE_CHECK(allocator->DestroyBuffer(filler, fillerAllocation));
        return true;
    }();
    passed = MemoryAllocator::Shutdown() && passed;
    return passed;
}

} // namespace SceneryEditorX::Examples
