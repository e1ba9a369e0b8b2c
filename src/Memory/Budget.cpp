// Budget: VMA's per-heap budgets, the budget generation, and each instance's warning threshold
// (Budget.h).
#include "Budget.h"

#include "MemorySystem.h"

#include <SceneryEditorX/Core/Log.h>

namespace SceneryEditorX::detail
{
namespace
{
// Process-wide (not per Init), so that a watch's last-seen value never matches a new session's.
std::atomic<uint64_t> s_BudgetGeneration{1};
thread_local bool t_BlockFreed = false;
std::atomic<int> s_InstancesAboveThreshold{0};

void CountAboveThreshold(std::optional<bool> before, std::optional<bool> now)
{
    const bool wasAbove = before.value_or(false);
    const bool isAbove = now.value_or(false);
    if (!wasAbove && isAbove)
        s_InstancesAboveThreshold.fetch_add(1, std::memory_order_relaxed);
    else if (wasAbove && !isAbove)
        s_InstancesAboveThreshold.fetch_sub(1, std::memory_order_relaxed);
}

uint32_t ReadBudgets(const MemorySystem& system, std::array<VmaBudget, VK_MAX_MEMORY_HEAPS>& budgets)
{
    vmaGetHeapBudgets(system.allocator, budgets.data());
    return system.memoryProperties.memoryHeapCount;
}
} // namespace

uint64_t BudgetGeneration()
{
    return s_BudgetGeneration.load(std::memory_order_acquire);
}

void BumpBudgetGeneration()
{
    s_BudgetGeneration.fetch_add(1, std::memory_order_acq_rel);
}

void OnVmaBlockFreed()
{
    t_BlockFreed = true;
    BumpBudgetGeneration();
}

void AfterVmaFree()
{
    if (t_BlockFreed)
    {
        t_BlockFreed = false;
        BumpBudgetGeneration();
    }
}

bool AnyInstanceAboveThreshold()
{
    return s_InstancesAboveThreshold.load(std::memory_order_relaxed) > 0;
}

namespace
{
MemoryBudget DeviceLocalBudget(const MemorySystem& system, float threshold)
{
    std::array<VmaBudget, VK_MAX_MEMORY_HEAPS> budgets; // VMA fills the first memoryHeapCount
    const uint32_t heapCount = ReadBudgets(system, budgets);
    const VkPhysicalDeviceMemoryProperties& props = system.memoryProperties;
    bool anyDeviceLocal = false;
    for (uint32_t h = 0; h < heapCount; ++h)
        anyDeviceLocal |= (props.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0;
    MemoryBudget out;
    for (uint32_t h = 0; h < heapCount; ++h)
    {
        if (anyDeviceLocal && !(props.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT))
            continue;
        out.totalBytes += budgets[h].budget;
        out.usedBytes += budgets[h].usage;
        out.heapSizeBytes += props.memoryHeaps[h].size;
    }
    out.usagePercentage =
        out.totalBytes
            ? static_cast<float>(static_cast<double>(out.usedBytes) / static_cast<double>(out.totalBytes))
            : 0.0f;
    out.isOverBudget = out.usedBytes > out.totalBytes;
    out.isAboveWarningThreshold = static_cast<double>(out.usedBytes) >
                                  static_cast<double>(threshold) * static_cast<double>(out.totalBytes);
    out.fromBudgetExtension =
        system.device->GetCapabilities().memoryBudget && !system.settings.simulateMemoryBudget;
    return out;
}

} // namespace

std::vector<HeapBudget> HeapBudgets(const MemorySystem& system)
{
    std::vector<HeapBudget> out;
    std::array<VmaBudget, VK_MAX_MEMORY_HEAPS> budgets; // VMA fills the first memoryHeapCount
    const uint32_t heapCount = ReadBudgets(system, budgets);
    for (uint32_t h = 0; h < heapCount; ++h)
    {
        HeapBudget b;
        b.heapIndex = h;
        b.flags = system.memoryProperties.memoryHeaps[h].flags;
        b.heapSizeBytes = system.memoryProperties.memoryHeaps[h].size;
        b.budgetBytes = budgets[h].budget;
        b.usageBytes = budgets[h].usage;
        b.blockBytes = budgets[h].statistics.blockBytes;
        b.allocationBytes = budgets[h].statistics.allocationBytes;
        out.push_back(b);
    }
    return out;
}

std::string BudgetSummary(const MemorySystem& system, int heapIndex)
{
    std::array<VmaBudget, VK_MAX_MEMORY_HEAPS> budgets; // VMA fills the first memoryHeapCount
    const uint32_t heapCount = ReadBudgets(system, budgets);
    if (heapIndex >= 0 && static_cast<uint32_t>(heapIndex) < heapCount)
        return fmt::format("heap {} budget {} bytes, usage {} bytes", heapIndex, budgets[heapIndex].budget,
                           budgets[heapIndex].usage);
    const MemoryBudget b = DeviceLocalBudget(system, 1.0f);
    return fmt::format("device-local budget {} bytes, usage {} bytes", b.totalBytes, b.usedBytes);
}

// ------------------------------------------------------------------------------------------------
BudgetWatch::~BudgetWatch()
{
    CountAboveThreshold(Decode(m_Above.load(std::memory_order_relaxed)), std::nullopt);
}

bool BudgetWatch::SetThreshold(float fraction)
{
    if (!(fraction > 0.0f && fraction <= 1.0f)) // also rejects NaN
        return false;
    m_Threshold.store(fraction, std::memory_order_relaxed);
    // Re-evaluate against the new threshold.
    CountAboveThreshold(Decode(m_Above.exchange(AboveThreshold::Unknown, std::memory_order_acq_rel)),
                        std::nullopt);
    return true;
}

void BudgetWatch::SetCallback(BudgetCallback callback)
{
    std::lock_guard lock(m_CallbackMutex);
    m_Callback = std::move(callback);
}

MemoryBudget BudgetWatch::Check(MemorySystem& system, const std::string& tag)
{
    const float threshold = m_Threshold.load(std::memory_order_relaxed);
    const MemoryBudget budget = DeviceLocalBudget(system, threshold);
    const std::optional<bool> now = budget.isAboveWarningThreshold;
    const std::optional<bool> before = Decode(m_Above.exchange(Encode(now), std::memory_order_acq_rel));
    CountAboveThreshold(before, now);
    // The first evaluation only reports a state that is already above the threshold.
    if (before == now || (!before && !*now))
        return budget;
    if (*now)
    {
        SEDX_CORE_WARN_TAG(
            kAllocTag,
            "[{}] memory usage warning: {:.1f}% of budget used ({} of {} bytes, threshold {:.0f}%){}", tag,
            budget.usagePercentage * 100.0f, budget.usedBytes, budget.totalBytes, threshold * 100.0f,
            budget.isOverBudget ? ", over budget" : "");
        system.OnMemoryPressure(tag);
        system.residency.ThresholdCrossed(system, threshold); // holders give back the excess
    }
    else
        SEDX_CORE_INFO_TAG(kAllocTag, "[{}] memory usage back below the warning threshold: {:.1f}% of budget",
                           tag, budget.usagePercentage * 100.0f);
    BudgetCallback callback;
    {
        std::lock_guard lock(m_CallbackMutex);
        callback = m_Callback;
    }
    if (callback)
        callback(budget, *now);
    return budget;
}

} // namespace SceneryEditorX::detail
