#pragma once
// The state behind one tagged MemoryAllocator: its tag and counters, per-instance settings and its
// budget watch. The front holds it; the allocation pipeline reads it.

#include "Budget.h"
#include "UsageCounters.h"

#include <atomic>
#include <string>

namespace SceneryEditorX::detail
{

struct AllocatorInstance
{
    explicit AllocatorInstance(std::string instanceTag)
        : tag(std::move(instanceTag)), counters(AcquireTagCounters(tag))
    {
    }
    const std::string tag;
    TagCounters* const counters; // owned by the process-wide tag table
    std::atomic<MemoryAllocator::AllocationStrategy> strategy{MemoryAllocator::AllocationStrategy::Default};
    std::atomic<VkDeviceSize> bufferAlignment{1};
    BudgetWatch budget;
};

} // namespace SceneryEditorX::detail
