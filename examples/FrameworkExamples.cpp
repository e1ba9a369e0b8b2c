// Spec section "Integration with Scenery Editor X Framework": a render module and a texture manager.
// Each example is the spec's text; lines marked "Check:" verify what the spec says happens.
#include "ExampleSupport.h"
#include "SpecExamples.h"

#include <string>

namespace SceneryEditorX::Examples
{

namespace
{
class RenderModule : public Module
{
public:
    // Not in the spec, which does not show where the module's name comes from: Module's
    // constructor takes it (the default would be "Module").
    RenderModule() : Module("RenderModule") {}

    void OnAttach() override
    {
        SEDX_CORE_INFO("=== Initializing {} ===", GetName());

        // Initialize memory allocator for this module
        m_Allocator = CreateRef<MemoryAllocator>(GetName());
        m_Allocator->SetAllocationStrategy(MemoryAllocator::AllocationStrategy::SpeedOptimized);

        // Load resources using the allocator
        InitializeRenderResources();
    }

    void OnDetach() override
    {
        SEDX_CORE_INFO("=== Cleaning up {} ===", GetName());

        // Resources are automatically cleaned up by smart pointers
        // But we can print final statistics
        m_Allocator->PrintDetailedStats();
        m_Allocator.Reset();
    }

    void OnUpdate() override
    {
        SEDX_PROFILE_SCOPE("RenderModule::OnUpdate");

        // Check memory budget periodically
        static int frameCount = 0;
        if (++frameCount % 60 == 0) // Check every 60 frames
        {
            auto budget = m_Allocator->GetMemoryBudget();
            if (budget.isOverBudget)
            {
                SEDX_CORE_WARN_TAG("RENDER", "Memory budget exceeded: {:.1f}%",
                                   budget.usagePercentage * 100.0f);
            }
            ++m_BudgetChecks; // not in the spec: lets the example check that the budget was read
        }
    }

    // Not in the spec: what the example checks.
    const Ref<GpuBuffer>& GetVertexBuffer() const { return m_VertexBuffer; }
    int GetBudgetChecks() const { return m_BudgetChecks; }

private:
    // Compiler: the spec calls InitializeRenderResources without declaring it. A minimal real one:
    // one vertex buffer, owned by a smart pointer (GpuBuffer releases it with its last Ref, which is
    // what "cleaned up by smart pointers" in OnDetach relies on).
    void InitializeRenderResources()
    {
        VkBufferCreateInfo bufferInfo{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
        bufferInfo.size = 256 * 1024;
        bufferInfo.usage = VK_BUFFER_USAGE_VERTEX_BUFFER_BIT;
        bufferInfo.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
        m_VertexBuffer = GpuBuffer::Create(m_Allocator, bufferInfo, VMA_MEMORY_USAGE_GPU_ONLY);
    }

    Ref<MemoryAllocator> m_Allocator;
    Ref<GpuBuffer> m_VertexBuffer; // not in the spec: the resource InitializeRenderResources loads
    int m_BudgetChecks = 0;        // not in the spec: see OnUpdate
};

// Compiler: the spec uses Texture2D without declaring it. A minimal real one that owns its image
// and the image's memory, and destroys both with its last Ref.
class Texture2D : public RefCounted
{
public:
    Texture2D() = default;
    ~Texture2D() override
    {
        if (m_Image != VK_NULL_HANDLE)
            m_Allocator->DestroyImage(m_Image, m_Allocation);
    }
    Texture2D(const Texture2D&) = delete;
    Texture2D& operator=(const Texture2D&) = delete;

    /// A 1024x1024 sRGB texture, sampled by shaders and filled by transfers.
    VkImageCreateInfo GetImageCreateInfo() const
    {
        VkImageCreateInfo imageInfo{VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
        imageInfo.imageType = VK_IMAGE_TYPE_2D;
        imageInfo.format = VK_FORMAT_R8G8B8A8_SRGB;
        imageInfo.extent = {1024, 1024, 1};
        imageInfo.mipLevels = 1;
        imageInfo.arrayLayers = 1;
        imageInfo.samples = VK_SAMPLE_COUNT_1_BIT;
        imageInfo.tiling = VK_IMAGE_TILING_OPTIMAL;
        imageInfo.usage = VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT;
        imageInfo.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
        imageInfo.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
        return imageInfo;
    }

    /// Takes ownership of the image and its allocation.
    void SetImage(VkImage image, VmaAllocation allocation)
    {
        m_Image = image;
        m_Allocation = allocation;
    }
    VkImage GetImage() const { return m_Image; }
    VmaAllocation GetAllocation() const { return m_Allocation; }

private:
    // Destroying a resource does not depend on the tag that allocated it; this instance only
    // gives the texture a way to destroy what it owns.
    Ref<MemoryAllocator> m_Allocator = CreateRef<MemoryAllocator>("TextureManager");
    VkImage m_Image = VK_NULL_HANDLE;
    VmaAllocation m_Allocation = nullptr;
};

// Use with custom smart pointer system
class TextureManager : public RefCounted
{
public:
    Ref<Texture2D> LoadTexture(const std::string& path)
    {
        auto texture = CreateRef<Texture2D>();

        // Allocate GPU memory using the allocator
        VkImageCreateInfo imageInfo = texture->GetImageCreateInfo();
        VkImage image;
        VkDeviceSize allocatedSize;

        VmaAllocation allocation =
            m_Allocator->AllocateImage(imageInfo, VMA_MEMORY_USAGE_GPU_ONLY, image, &allocatedSize);

        texture->SetImage(image, allocation);

        SEDX_CORE_INFO_TAG("TEXTURE", "Loaded texture '{}': {} MB", path, allocatedSize / (1024 * 1024));

        return texture;
    }

private:
    Ref<MemoryAllocator> m_Allocator = CreateRef<MemoryAllocator>("TextureManager");
};
} // namespace

bool Example_ModuleIntegration(const Ref<VulkanDevice>& /*vulkanDevice*/)
{
    auto module = CreateRef<RenderModule>();
    module->OnAttach();
    // Check: the module's allocator is tagged with its name and loaded its resource.
    SEDX_EXAMPLE_CHECK(module->GetVertexBuffer() != nullptr);
    SEDX_EXAMPLE_CHECK(module->GetVertexBuffer()->GetAllocator()->GetTag() == "RenderModule");
    SEDX_EXAMPLE_CHECK(LiveAllocationsOfTag("RenderModule") == 1);

    for (int frame = 0; frame < 120; ++frame)
        module->OnUpdate();
    SEDX_EXAMPLE_CHECK(module->GetBudgetChecks() == 2); // Check: frames 60 and 120

    module->OnDetach();
    SEDX_EXAMPLE_CHECK(LiveAllocationsOfTag("RenderModule") == 1); // the buffer still holds its Ref
    module.Reset();
    // Check: the smart pointers released the module's resource.
    return LiveAllocationsOfTag("RenderModule") == 0;
}

bool Example_SmartPointerIntegration(const Ref<VulkanDevice>& /*vulkanDevice*/)
{
    auto textureManager = CreateRef<TextureManager>();
    Ref<Texture2D> texture = textureManager->LoadTexture("textures/runway_asphalt.png");

    // Check: the texture owns a live image.
    SEDX_EXAMPLE_CHECK(texture->GetImage() != VK_NULL_HANDLE);
    SEDX_EXAMPLE_CHECK(MemoryAllocator::GetImage(texture->GetAllocation()) == texture->GetImage());
    SEDX_EXAMPLE_CHECK(LiveAllocationsOfTag("TextureManager") == 1);

    // Check: the last Ref destroys the image and frees its memory, whoever holds it last.
    const VmaAllocation allocation = texture->GetAllocation();
    Ref<Texture2D> sharedTexture = texture;
    texture.Reset();
    SEDX_EXAMPLE_CHECK(MemoryAllocator::ContainsAllocation(allocation));
    sharedTexture.Reset();
    SEDX_EXAMPLE_CHECK(!MemoryAllocator::ContainsAllocation(allocation));
    return LiveAllocationsOfTag("TextureManager") == 0;
}

} // namespace SceneryEditorX::Examples
