#pragma once
/// @file GpuResource.h
/// RAII, Ref-counted GPU resources: `GpuBuffer` and `GpuImage`. Each owns one allocation made
/// through a tagged MemoryAllocator and releases it when the last Ref goes away (deferred: the
/// resource is released once the frames in flight have retired, see SetCurrentFrameIndex).
///
/// These are the safe handles: a raw VmaAllocation that was freed may be reused by VMA for a new
/// allocation, while a GpuBuffer is never stale. `GetBuffer()`/`GetImage()` always return the
/// current Vulkan handle, so they stay right when defragmentation moves the resource.
///
/// Thread safety: the getters may be called from any thread. Release every GpuBuffer/GpuImage
/// before MemoryAllocator::Shutdown (Shutdown reports the ones still alive as leaks).

#include <SceneryEditorX/Memory/MemoryAllocator.h>

#include <source_location>

namespace SceneryEditorX
{

class GpuBuffer : public RefCounted
{
public:
    /// Null (with one logged error) when the allocation fails.
    static Ref<GpuBuffer> Create(const Ref<MemoryAllocator>& allocator, const VkBufferCreateInfo& info,
                                 VmaMemoryUsage usage,
                                 std::source_location where = std::source_location::current());
    static Ref<GpuBuffer> Create(const Ref<MemoryAllocator>& allocator, const VkBufferCreateInfo& info,
                                 const AllocationCreateInfo& createInfo,
                                 std::source_location where = std::source_location::current());
    ~GpuBuffer() override;
    GpuBuffer(const GpuBuffer&) = delete;
    GpuBuffer& operator=(const GpuBuffer&) = delete;

    /// The current buffer (follows defragmentation moves).
    VkBuffer GetBuffer() const { return MemoryAllocator::GetBuffer(m_Allocation); }
    VmaAllocation GetAllocation() const { return m_Allocation; }
    /// The size asked for.
    VkDeviceSize GetSize() const { return m_Size; }
    const Ref<MemoryAllocator>& GetAllocator() const { return m_Allocator; }

    bool Upload(const void* data, VkDeviceSize size, VkDeviceSize offset = 0);
    bool Readback(void* out, VkDeviceSize size, VkDeviceSize offset = 0) const;
    /// Map/unmap (host-visible memory only; see MemoryAllocator::MapMemory).
    void* Map();
    bool Unmap();

private:
    GpuBuffer(Ref<MemoryAllocator> allocator, VmaAllocation allocation, VkDeviceSize size);
    Ref<MemoryAllocator> m_Allocator;
    VmaAllocation m_Allocation = nullptr;
    VkDeviceSize m_Size = 0;
};

class GpuImage : public RefCounted
{
public:
    static Ref<GpuImage> Create(const Ref<MemoryAllocator>& allocator, const VkImageCreateInfo& info,
                                VmaMemoryUsage usage,
                                std::source_location where = std::source_location::current());
    static Ref<GpuImage> Create(const Ref<MemoryAllocator>& allocator, const VkImageCreateInfo& info,
                                const AllocationCreateInfo& createInfo,
                                std::source_location where = std::source_location::current());
    ~GpuImage() override;
    GpuImage(const GpuImage&) = delete;
    GpuImage& operator=(const GpuImage&) = delete;

    /// The current image (follows defragmentation moves).
    VkImage GetImage() const { return MemoryAllocator::GetImage(m_Allocation); }
    VmaAllocation GetAllocation() const { return m_Allocation; }
    const VkImageCreateInfo& GetCreateInfo() const { return m_Info; }
    /// Bytes of memory bound to the image.
    VkDeviceSize GetAllocatedSize() const { return m_AllocatedSize; }
    VkImageLayout GetLayout() const { return MemoryAllocator::GetImageLayout(m_Allocation); }
    const Ref<MemoryAllocator>& GetAllocator() const { return m_Allocator; }

    /// Uploads all mips and layers (see MemoryAllocator::UploadToImage).
    bool Upload(const void* data, VkDeviceSize size,
                VkImageLayout finalLayout = VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
    bool Readback(std::vector<uint8_t>& out) const;

private:
    GpuImage(Ref<MemoryAllocator> allocator, VmaAllocation allocation, const VkImageCreateInfo& info,
             VkDeviceSize allocatedSize);
    Ref<MemoryAllocator> m_Allocator;
    VmaAllocation m_Allocation = nullptr;
    VkImageCreateInfo m_Info{};
    VkDeviceSize m_AllocatedSize = 0;
};

} // namespace SceneryEditorX
