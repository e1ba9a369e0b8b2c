#include <SceneryEditorX/Core/Log.h>
#include <SceneryEditorX/Memory/GpuResource.h>

namespace SceneryEditorX
{

GpuBuffer::GpuBuffer(Ref<MemoryAllocator> allocator, VmaAllocation allocation, VkDeviceSize size)
    : m_Allocator(std::move(allocator)), m_Allocation(allocation), m_Size(size)
{
}

Ref<GpuBuffer> GpuBuffer::Create(const Ref<MemoryAllocator>& allocator, const VkBufferCreateInfo& info,
                                 VmaMemoryUsage usage, std::source_location where)
{
    AllocationCreateInfo createInfo;
    createInfo.usage = usage;
    return Create(allocator, info, createInfo, where);
}

Ref<GpuBuffer> GpuBuffer::Create(const Ref<MemoryAllocator>& allocator, const VkBufferCreateInfo& info,
                                 const AllocationCreateInfo& createInfo, std::source_location where)
{
    if (!allocator)
    {
        SEDX_CORE_ERROR_TAG("VulkanAllocator", "GpuBuffer::Create: null allocator");
        return nullptr;
    }
    VkBuffer buffer = VK_NULL_HANDLE;
    VmaAllocation allocation = allocator->AllocateBuffer(info, createInfo, buffer, where);
    if (!allocation)
        return nullptr;
    return Ref<GpuBuffer>(new GpuBuffer(allocator, allocation, info.size));
}

GpuBuffer::~GpuBuffer()
{
    if (m_Allocation && MemoryAllocator::IsInitialized())
        m_Allocator->DestroyBufferDeferred(GetBuffer(), m_Allocation);
}

bool GpuBuffer::Upload(const void* data, VkDeviceSize size, VkDeviceSize offset)
{
    return m_Allocator->UploadToBuffer(m_Allocation, data, size, offset);
}

bool GpuBuffer::Readback(void* out, VkDeviceSize size, VkDeviceSize offset) const
{
    return m_Allocator->ReadbackBuffer(m_Allocation, out, size, offset);
}

void* GpuBuffer::Map()
{
    return m_Allocator->MapMemory(m_Allocation);
}

bool GpuBuffer::Unmap()
{
    return MemoryAllocator::UnmapMemory(m_Allocation);
}

GpuImage::GpuImage(Ref<MemoryAllocator> allocator, VmaAllocation allocation, const VkImageCreateInfo& info,
                   VkDeviceSize allocatedSize)
    : m_Allocator(std::move(allocator)), m_Allocation(allocation), m_Info(info),
      m_AllocatedSize(allocatedSize)
{
    m_Info.pNext = nullptr;
    m_Info.pQueueFamilyIndices = nullptr;
}

Ref<GpuImage> GpuImage::Create(const Ref<MemoryAllocator>& allocator, const VkImageCreateInfo& info,
                               VmaMemoryUsage usage, std::source_location where)
{
    AllocationCreateInfo createInfo;
    createInfo.usage = usage;
    return Create(allocator, info, createInfo, where);
}

Ref<GpuImage> GpuImage::Create(const Ref<MemoryAllocator>& allocator, const VkImageCreateInfo& info,
                               const AllocationCreateInfo& createInfo, std::source_location where)
{
    if (!allocator)
    {
        SEDX_CORE_ERROR_TAG("VulkanAllocator", "GpuImage::Create: null allocator");
        return nullptr;
    }
    VkImage image = VK_NULL_HANDLE;
    VkDeviceSize allocatedSize = 0;
    VmaAllocation allocation = allocator->AllocateImage(info, createInfo, image, &allocatedSize, where);
    if (!allocation)
        return nullptr;
    return Ref<GpuImage>(new GpuImage(allocator, allocation, info, allocatedSize));
}

GpuImage::~GpuImage()
{
    if (m_Allocation && MemoryAllocator::IsInitialized())
        m_Allocator->DestroyImageDeferred(GetImage(), m_Allocation);
}

bool GpuImage::Upload(const void* data, VkDeviceSize size, VkImageLayout finalLayout)
{
    return m_Allocator->UploadToImage(m_Allocation, data, size, finalLayout);
}

bool GpuImage::Readback(std::vector<uint8_t>& out) const
{
    return m_Allocator->ReadbackImage(m_Allocation, out);
}

} // namespace SceneryEditorX
