// MemoryAllocator, the tagged front: the defragmentation session's calls.
#include "AllocatorInstance.h"
#include "MemorySystem.h"

#include <SceneryEditorX/Core/Log.h>

namespace SceneryEditorX
{
using namespace detail;

namespace
{
constexpr VmaDefragmentationFlags kAlgorithmBits =
    VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FAST_BIT | VMA_DEFRAGMENTATION_FLAG_ALGORITHM_BALANCED_BIT |
    VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FULL_BIT | VMA_DEFRAGMENTATION_FLAG_ALGORITHM_EXTENSIVE_BIT;
} // namespace

bool MemoryAllocator::BeginDefragmentation(VmaDefragmentationFlags flags)
{
    DefragmentationOptions options;
    options.flags = flags;
    return BeginDefragmentation(options);
}

bool MemoryAllocator::BeginDefragmentation(const DefragmentationOptions& options)
{
    MemorySystem* system = MemorySystem::Require("BeginDefragmentation", m_Instance->tag);
    if (!system)
        return false;
    const VmaDefragmentationFlags algorithm = options.flags & kAlgorithmBits;
    if ((options.flags & ~kAlgorithmBits) || (algorithm & (algorithm - 1)))
    {
        SEDX_CORE_ERROR_TAG(
            kAllocTag, "[{}] BeginDefragmentation: flags {:#x} are not one VMA defragmentation algorithm bit",
            m_Instance->tag, options.flags);
        return false;
    }
    if (options.maxPassDuration.count() < 0)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag,
                            "[{}] BeginDefragmentation: maxPassDuration {} us is negative (0 means unbounded)",
                            m_Instance->tag, options.maxPassDuration.count());
        return false;
    }
    return system->defragmentation.Begin(options, m_Instance->tag);
}

bool MemoryAllocator::MarkForDefragmentation(VmaAllocation allocation)
{
    return MarkForDefragmentation(allocation, VK_IMAGE_LAYOUT_MAX_ENUM);
}

bool MemoryAllocator::MarkForDefragmentation(VmaAllocation allocation, VkImageLayout currentLayout)
{
    MemorySystem* system = MemorySystem::Require("MarkForDefragmentation", m_Instance->tag);
    if (!system)
        return false;
    std::string error;
    if (system->defragmentation.Mark(allocation, currentLayout, error))
        return true;
    SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] {}", m_Instance->tag, error);
    return false;
}

size_t MemoryAllocator::MarkAllForDefragmentation()
{
    MemorySystem* system = MemorySystem::Require("MarkAllForDefragmentation", m_Instance->tag);
    if (!system)
        return 0;
    std::string error;
    if (const std::optional<size_t> marked = system->defragmentation.MarkAll(error))
        return *marked;
    SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] {}", m_Instance->tag, error);
    return 0;
}

bool MemoryAllocator::DefragmentStep()
{
    MemorySystem* system = MemorySystem::Require("DefragmentStep", m_Instance->tag);
    if (!system)
        return false;
    std::string error;
    const bool more = system->defragmentation.Step(error);
    if (!error.empty())
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] {}", m_Instance->tag, error);
    return more;
}

DefragmentationStats MemoryAllocator::EndDefragmentation()
{
    MemorySystem* system = MemorySystem::Require("EndDefragmentation", m_Instance->tag);
    if (!system)
        return {};
    if (std::optional<DefragmentationStats> stats = system->defragmentation.End(m_Instance->tag))
        return *stats;
    SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] EndDefragmentation without BeginDefragmentation", m_Instance->tag);
    return {};
}

ReleasedMemory MemoryAllocator::ReleaseEmptyBlocks()
{
    MemorySystem* system = MemorySystem::Require("ReleaseEmptyBlocks");
    return system ? system->ReleaseEmptyBlocks() : ReleasedMemory{};
}

bool MemoryAllocator::IsDefragmenting()
{
    MemorySystem* system = MemorySystem::Get();
    return system && system->defragmentation.IsOpen();
}

uint64_t MemoryAllocator::AddRelocationCallback(RelocationCallback callback)
{
    if (!callback)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "AddRelocationCallback: empty callback");
        return 0;
    }
    return DefragmentationSession::AddRelocationCallback(std::move(callback));
}

bool MemoryAllocator::RemoveRelocationCallback(uint64_t id)
{
    if (DefragmentationSession::RemoveRelocationCallback(id))
        return true;
    SEDX_CORE_ERROR_TAG(kAllocTag, "RemoveRelocationCallback({}): no such callback", id);
    return false;
}

} // namespace SceneryEditorX
