// MemoryAllocator, the tagged front: mapping, flushing and invalidating host-visible memory.
#include "AllocationPipeline.h"
#include "AllocatorInstance.h"
#include "FlushRange.h"
#include "MemorySystem.h"
#include "Validation.h"

#include <SceneryEditorX/Core/Log.h>

namespace SceneryEditorX
{
using namespace detail;

void* MemoryAllocator::MapMemoryRaw(VmaAllocation allocation)
{
    MemorySystem* system = MemorySystem::Require("MapMemory", m_Instance->tag);
    if (!system)
        return nullptr;
    void* mapped = nullptr;
    std::string error;
    const bool live =
        allocation &&
        system->registry.With(
            allocation,
            [&](AllocationRecord& r)
            {
                // An AUTO usage without a host-access flag first: that reason holds on every device
                // (where AUTO lands is VMA's choice), and it names the fix. With a host-access flag
                // VMA only picks host-visible memory, so an AUTO record that is not mappable had none.
                if (IsAutoUsage(r.usage) && !r.mappable)
                    error = "the allocation has an AUTO usage and no host-access flag "
                            "(HostAccessSequentialWrite or "
                            "HostAccessRandom)";
                else if (!r.hostVisible)
                    error =
                        fmt::format("memory type {} is not host-visible (use UploadToBuffer/ReadbackBuffer)",
                                    r.memoryTypeIndex);
                else if (VkResult res = vmaMapMemory(system->allocator, allocation, &mapped);
                         res != VK_SUCCESS)
                {
                    mapped = nullptr;
                    error = fmt::format("vmaMapMemory failed: {}", VkResultName(res));
                }
                else
                    ++r.mapCount;
            });
    if (!live)
        error = NotLiveReason(*system, allocation);
    if (!error.empty())
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] MapMemory: {}", m_Instance->tag, error);
    return mapped;
}

bool MemoryAllocator::UnmapMemory(VmaAllocation allocation)
{
    MemorySystem* system = MemorySystem::Require("UnmapMemory");
    if (!system)
        return false;
    bool wasMapped = false;
    const bool live = allocation && system->registry.With(allocation,
                                                          [&](AllocationRecord& r)
                                                          {
                                                              if (r.mapCount == 0)
                                                                  return;
                                                              wasMapped = true;
                                                              --r.mapCount;
                                                              vmaUnmapMemory(system->allocator, allocation);
                                                          });
    if (!live || !wasMapped)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "UnmapMemory: {}",
                            live ? "the allocation is not mapped" : NotLiveReason(*system, allocation));
        return false;
    }
    return true;
}

namespace
{
bool FlushOrInvalidate(VmaAllocation allocation, VkDeviceSize offset, VkDeviceSize size, bool flush)
{
    const char* call = flush ? "FlushAllocation" : "InvalidateAllocation";
    MemorySystem* system = MemorySystem::Require(call);
    if (!system)
        return false;
    std::string error;
    const bool live =
        allocation &&
        system->registry.With(
            allocation,
            [&](const AllocationRecord& r)
            {
                if (!r.hostVisible)
                {
                    error = "the memory is not host-visible";
                    return;
                }
                if (r.mapCount == 0 && !r.persistentlyMapped)
                {
                    error = "the allocation is not mapped";
                    return;
                }
                if (offset >= r.size && r.size != 0)
                {
                    error = fmt::format("offset {} is past the allocation's {} bytes", offset, r.size);
                    return;
                }
                const VkMemoryPropertyFlags props =
                    system->memoryProperties.memoryTypes[r.memoryTypeIndex].propertyFlags;
                if (props & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)
                    return; // nothing to do on coherent memory
                VmaAllocationInfo2 info{};
                vmaGetAllocationInfo2(system->allocator, allocation, &info);
                const MemoryRange range =
                    RoundToAtoms(info.allocationInfo.offset, info.allocationInfo.size, offset, size,
                                 system->nonCoherentAtomSize, info.blockSize);
                if (range.size == 0)
                    return;
                VkMappedMemoryRange vkRange{VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE};
                vkRange.memory = info.allocationInfo.deviceMemory;
                vkRange.offset = range.offset;
                vkRange.size = range.size;
                const VkResult res = flush ? vkFlushMappedMemoryRanges(system->vkDevice, 1, &vkRange)
                                           : vkInvalidateMappedMemoryRanges(system->vkDevice, 1, &vkRange);
                if (res != VK_SUCCESS)
                    error = VkResultName(res);
            });
    if (!live)
        error = NotLiveReason(*system, allocation);
    if (!error.empty())
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "{}: {}", call, error);
        return false;
    }
    return true;
}
} // namespace

bool MemoryAllocator::FlushAllocation(VmaAllocation allocation, VkDeviceSize offset, VkDeviceSize size)
{
    return FlushOrInvalidate(allocation, offset, size, true);
}

bool MemoryAllocator::InvalidateAllocation(VmaAllocation allocation, VkDeviceSize offset, VkDeviceSize size)
{
    return FlushOrInvalidate(allocation, offset, size, false);
}

void* MemoryAllocator::GetMappedData(VmaAllocation allocation)
{
    MemorySystem* system = MemorySystem::Get();
    void* mapped = nullptr;
    if (system && allocation)
        system->registry.With(allocation,
                              [&](const AllocationRecord& r)
                              {
                                  if (r.mapCount > 0 || r.persistentlyMapped)
                                  {
                                      VmaAllocationInfo info{};
                                      vmaGetAllocationInfo(system->allocator, allocation, &info);
                                      mapped = info.pMappedData;
                                  }
                              });
    return mapped;
}

} // namespace SceneryEditorX
