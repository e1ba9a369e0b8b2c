// Budgets: VK_EXT_memory_budget through VMA where present, VMA's estimate otherwise; the warning
// threshold of each instance and its crossing signal.
#include "AllocatorData.h"

#include <SceneryEditorX/Core/Log.h>

namespace SceneryEditorX
{
using namespace detail;

namespace detail
{
namespace
{
// Process-wide (not per Init), so that an instance's last-seen value never matches a new session's.
std::atomic<uint64_t> s_BudgetGeneration{1};
} // namespace

uint64_t BudgetGeneration()
{
    return s_BudgetGeneration.load(std::memory_order_acquire);
}

void BumpBudgetGeneration()
{
    s_BudgetGeneration.fetch_add(1, std::memory_order_acq_rel);
}

namespace
{
thread_local bool t_BlockFreed = false;
std::atomic<int> s_InstancesAboveThreshold{0};
} // namespace

void CountAboveThreshold(int before, int now)
{
    if (before != 1 && now == 1)
        s_InstancesAboveThreshold.fetch_add(1, std::memory_order_relaxed);
    else if (before == 1 && now != 1)
        s_InstancesAboveThreshold.fetch_sub(1, std::memory_order_relaxed);
}

bool AnyInstanceAboveThreshold()
{
    return s_InstancesAboveThreshold.load(std::memory_order_relaxed) > 0;
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

namespace
{
uint32_t ReadBudgets(VulkanAllocatorData& d, std::array<VmaBudget, VK_MAX_MEMORY_HEAPS>& budgets)
{
    vmaGetHeapBudgets(d.allocator, budgets.data());
    return d.memoryProperties.memoryHeapCount;
}

// One read of VMA's per-heap figures: the device-local budget.
MemoryBudget DeviceLocalBudget(VulkanAllocatorData& d, float threshold)
{
    std::array<VmaBudget, VK_MAX_MEMORY_HEAPS> budgets{};
    const uint32_t heapCount = ReadBudgets(d, budgets);
    bool anyDeviceLocal = false;
    for (uint32_t h = 0; h < heapCount; ++h)
        anyDeviceLocal |= (d.memoryProperties.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0;
    MemoryBudget out;
    for (uint32_t h = 0; h < heapCount; ++h)
    {
        if (anyDeviceLocal && !(d.memoryProperties.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT))
            continue;
        out.totalBytes += budgets[h].budget;
        out.usedBytes += budgets[h].usage;
        out.heapSizeBytes += d.memoryProperties.memoryHeaps[h].size;
    }
    out.usagePercentage =
        out.totalBytes
            ? static_cast<float>(static_cast<double>(out.usedBytes) / static_cast<double>(out.totalBytes))
            : 0.0f;
    out.isOverBudget = out.usedBytes > out.totalBytes;
    out.isAboveWarningThreshold = static_cast<double>(out.usedBytes) >
                                  static_cast<double>(threshold) * static_cast<double>(out.totalBytes);
    out.fromBudgetExtension = d.device->GetCapabilities().memoryBudget;
    return out;
}
} // namespace

std::string BudgetSummary(VulkanAllocatorData& d, int heapIndex)
{
    std::array<VmaBudget, VK_MAX_MEMORY_HEAPS> budgets{};
    const uint32_t heapCount = ReadBudgets(d, budgets);
    if (heapIndex >= 0 && static_cast<uint32_t>(heapIndex) < heapCount)
        return fmt::format("heap {} budget {} bytes, usage {} bytes", heapIndex, budgets[heapIndex].budget,
                           budgets[heapIndex].usage);
    const MemoryBudget b = DeviceLocalBudget(d, 1.0f);
    return fmt::format("device-local budget {} bytes, usage {} bytes", b.totalBytes, b.usedBytes);
}

void UpdatePeaks(VulkanAllocatorData& d)
{
    RaisePeak(d.peakBytes, NonNegative(d.liveBytes.Sum()));
    RaisePeak(d.peakCount, NonNegative(d.liveCount.Sum()));
}
} // namespace detail

MemoryBudget MemoryAllocator::GetMemoryBudget()
{
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] GetMemoryBudget called before Init or after Shutdown", m_Tag);
        return {};
    }
    return CheckBudgetThreshold();
}

std::vector<HeapBudget> MemoryAllocator::GetHeapBudgets()
{
    std::vector<HeapBudget> out;
    VulkanAllocatorData* d = Data();
    if (!d)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "GetHeapBudgets called before Init or after Shutdown");
        return out;
    }
    std::array<VmaBudget, VK_MAX_MEMORY_HEAPS> budgets{};
    const uint32_t heapCount = ReadBudgets(*d, budgets);
    for (uint32_t h = 0; h < heapCount; ++h)
    {
        HeapBudget b;
        b.heapIndex = h;
        b.flags = d->memoryProperties.memoryHeaps[h].flags;
        b.heapSizeBytes = d->memoryProperties.memoryHeaps[h].size;
        b.budgetBytes = budgets[h].budget;
        b.usageBytes = budgets[h].usage;
        b.blockBytes = budgets[h].statistics.blockBytes;
        b.allocationBytes = budgets[h].statistics.allocationBytes;
        out.push_back(b);
    }
    return out;
}

void MemoryAllocator::CheckBudgetAfterChange()
{
    // VMA's usage figure moves only when a VkDeviceMemory block is allocated or freed, and its budget
    // only when it is fetched again (each frame); both move the generation. Between those, an
    // allocate or free cannot cross a threshold, and reading the budget again would be wasted.
    const uint64_t generation = BudgetGeneration();
    if (m_AboveThreshold.load(std::memory_order_relaxed) != -1 &&
        m_BudgetGenerationSeen.load(std::memory_order_relaxed) == generation)
        return;
    m_BudgetGenerationSeen.store(generation, std::memory_order_relaxed);
    CheckBudgetThreshold();
}

MemoryBudget MemoryAllocator::CheckBudgetThreshold()
{
    VulkanAllocatorData* d = Data();
    if (!d)
        return {};
    const MemoryBudget budget = DeviceLocalBudget(*d, m_WarningThreshold.load(std::memory_order_relaxed));
    const int now = budget.isAboveWarningThreshold ? 1 : 0;
    const int before = m_AboveThreshold.exchange(now, std::memory_order_acq_rel);
    CountAboveThreshold(before, now);
    // The first evaluation (-1) only reports a state that is already above the threshold.
    if (before == now || (before == -1 && now == 0))
        return budget;
    if (now)
    {
        SEDX_CORE_WARN_TAG(
            kAllocTag,
            "[{}] memory usage warning: {:.1f}% of budget used ({} of {} bytes, threshold {:.0f}%){}", m_Tag,
            budget.usagePercentage * 100.0f, budget.usedBytes, budget.totalBytes,
            m_WarningThreshold.load() * 100.0f, budget.isOverBudget ? ", over budget" : "");
        // Memory is short: give back what the SpeedOptimized reuse cache holds.
        if (const size_t released = detail::ReleaseReuseCache(*d))
            SEDX_CORE_INFO_TAG(kAllocTag, "[{}] released {} cached SpeedOptimized buffers", m_Tag, released);
    }
    else
        SEDX_CORE_INFO_TAG(kAllocTag, "[{}] memory usage back below the warning threshold: {:.1f}% of budget",
                           m_Tag, budget.usagePercentage * 100.0f);
    BudgetCallback callback;
    {
        std::lock_guard lock(m_CallbackMutex);
        callback = m_BudgetCallback;
    }
    if (callback)
        callback(budget, now == 1);
    return budget;
}

} // namespace SceneryEditorX
