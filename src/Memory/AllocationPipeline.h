#pragma once
// The allocation pipeline: validate -> plan -> place -> commit -> notify, and release as its mirror.
// Each stage works in the part that owns it: Validation checks, PoolSet plans the pool and memory
// type, ReuseCache / PoolSet / VMA place, Registry and UsageCounters commit, the instance's
// BudgetWatch is notified. The front (MemoryAllocator) only guards, calls and logs.

#include "AllocatorInstance.h"
#include "MemorySystem.h"

#include <source_location>
#include <string>

namespace SceneryEditorX::detail
{

/// What the buffers of one request share, worked out once: the checked and completed create info,
/// VMA's create info, the alignment, whether the size-class pools may serve it, and the reuse key's
/// fields (SpeedOptimized), and the memory type whose size-class pools serve it.
struct BufferPlan
{
    VkBufferCreateInfo info{};
    VmaAllocationCreateInfo aci{};
    VkDeviceSize alignment = 1;
    bool poolEligible = false;        // no dedicated memory and no pNext chain
    uint32_t memoryType = UINT32_MAX; // VMA's memory type for it (pool-eligible requests), else UINT32_MAX
    bool cacheable = false;           // the request may use the reuse cache (sizes permitting)
    ReuseKey key;                     // its fields and baseHash, when cacheable
};

/// Validate and plan: checks a request (with the largest size it will be used for) and fills `plan`.
/// False with `error` set when it is invalid.
bool PlanBuffer(MemorySystem& system, const AllocatorInstance& instance, const VkBufferCreateInfo& bufferInfo,
                const AllocationCreateInfo& createInfo, BufferPlan& plan, std::string& error);

/// Place, commit and notify one buffer of a checked plan; `size` within the size the plan was
/// checked with. Returns null and fills `error` on failure (nothing is left behind).
VmaAllocation CreatePlannedBuffer(MemorySystem& system, AllocatorInstance& instance, const BufferPlan& plan,
                                  VkDeviceSize size, const AllocationCreateInfo& createInfo,
                                  VkBuffer& outBuffer, std::source_location where, std::string& error);

/// The whole pipeline for one buffer / one image.
VmaAllocation CreateBuffer(MemorySystem& system, AllocatorInstance& instance,
                           const VkBufferCreateInfo& bufferInfo, const AllocationCreateInfo& createInfo,
                           VkBuffer& outBuffer, std::source_location where, std::string& error);
VmaAllocation CreateImage(MemorySystem& system, AllocatorInstance& instance,
                          const VkImageCreateInfo& imageInfo, const AllocationCreateInfo& createInfo,
                          VkImage& outImage, VkDeviceSize* allocatedSize, std::source_location where,
                          std::string& error);

enum class ReleaseResult : uint8_t
{
    Released,
    NotLive,  // not in the registry (NotLiveReason says why)
    Mismatch, // live, but `handle` is not its resource: nothing was released
};
/// Release: takes the allocation out of the registry if `handle` is its resource (or any resource,
/// for 0), then unmaps, uncounts, and retires, caches or destroys it.
ReleaseResult Release(MemorySystem& system, AllocatorInstance& instance, ResourceKind kind, uint64_t handle,
                      VmaAllocation allocation, bool deferred);

/// Why an allocation is not live, as a sentence for an error line (never null).
const char* NotLiveReason(MemorySystem& system, VmaAllocation allocation);

} // namespace SceneryEditorX::detail
