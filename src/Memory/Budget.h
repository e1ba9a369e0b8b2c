#pragma once
// Budget: VK_EXT_memory_budget through VMA where present (VMA's estimate otherwise), the budget
// generation that tells when the figures can have moved, and each instance's warning threshold
// with its crossing signal (BudgetWatch).

#include "LockOrder.h"
#include "MemoryCommon.h"

#include <atomic>
#include <optional>
#include <string>
#include <vector>

namespace SceneryEditorX::detail
{
class MemorySystem;

/// Budget generation: changes whenever VMA's view of the budget or usage can have changed (a
/// VkDeviceMemory block allocated or freed, a frame's budget refresh, an Init). Allocation and free
/// re-check an instance's warning threshold only when it moved.
uint64_t BudgetGeneration();
void BumpBudgetGeneration();
/// VMA calls its free callback before vkFreeMemory and before it lowers its usage figure, so a
/// thread that reads the budget in between would store the new generation with the old usage. The
/// callback therefore marks the freeing thread, and AfterVmaFree, called after the VMA call that
/// freed, bumps the generation once more.
void OnVmaBlockFreed();
void AfterVmaFree();
/// Whether any instance's usage is above its warning threshold now. While one is, memory is
/// short, and freed SpeedOptimized buffers are destroyed instead of cached.
bool AnyInstanceAboveThreshold();

/// Every heap's budget.
std::vector<HeapBudget> HeapBudgets(const MemorySystem& system);
/// "heap H budget B bytes, usage U bytes" (or the device-local figures for heap -1), for errors.
std::string BudgetSummary(const MemorySystem& system, int heapIndex);

/// One instance's warning threshold and its crossing signal.
class BudgetWatch
{
public:
    ~BudgetWatch(); // stops counting as an instance above its threshold
    /// In (0, 1]; false (unchanged) otherwise. The next check re-evaluates.
    bool SetThreshold(float fraction);
    float Threshold() const { return m_Threshold.load(std::memory_order_relaxed); }
    void SetCallback(BudgetCallback callback);
    /// Reads the budget once and signals a crossing (log line, callback, memory pressure).
    MemoryBudget Check(MemorySystem& system, const std::string& tag);
    /// After an allocate or free: Check, but only when the budget generation moved since this
    /// watch last looked (the usage can only have changed then). After a free (`freed`), only while
    /// this watch last saw usage above its threshold, to tell that it fell back: a free cannot push
    /// usage up, and a crossing upward that other instances' allocations caused is left to the next
    /// allocation. So a free never starts an eviction round, whose owners' callbacks would run
    /// inside a destroy call (a destructor that erases from the owner's own containers, say).
    void AfterChange(MemorySystem& system, const std::string& tag, bool freed = false)
    {
        const uint64_t generation = BudgetGeneration();
        const AboveThreshold above = m_Above.load(std::memory_order_relaxed);
        if (freed && above != AboveThreshold::Yes)
            return;
        if (above != AboveThreshold::Unknown &&
            m_GenerationSeen.load(std::memory_order_relaxed) == generation) [[likely]]
            return;
        m_GenerationSeen.store(generation, std::memory_order_relaxed);
        Check(system, tag);
    }

private:
    std::atomic<float> m_Threshold{0.9f};
    // Whether usage was above the threshold at the last check: a std::optional<bool> in meaning,
    // stored as a one-byte enum because an atomic optional needs libatomic under clang (make fuzz).
    enum class AboveThreshold : uint8_t
    {
        Unknown, // until the first check
        No,
        Yes
    };
    static AboveThreshold Encode(std::optional<bool> above)
    {
        return !above ? AboveThreshold::Unknown : *above ? AboveThreshold::Yes : AboveThreshold::No;
    }
    static std::optional<bool> Decode(AboveThreshold above)
    {
        return above == AboveThreshold::Unknown ? std::nullopt
                                                : std::optional<bool>(above == AboveThreshold::Yes);
    }
    std::atomic<AboveThreshold> m_Above{AboveThreshold::Unknown};
    std::atomic<uint64_t> m_GenerationSeen{0};
    OrderedMutex<LockLevel::Callbacks> m_CallbackMutex;
    BudgetCallback m_Callback;
};

} // namespace SceneryEditorX::detail
