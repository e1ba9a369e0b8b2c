// Budgets under a heap size limit (AllocatorSettings::heapSizeLimits): the figures, allocation past the
// limit, isOverBudget, the warning threshold and its callback, WITHIN_BUDGET, and the spec's
// SafeAllocateBuffer fallback. Lavapipe has no VK_EXT_memory_budget, so VMA estimates the budget as
// 80 % of the (limited) heap and the usage as the committed blocks.
#include "MemoryTestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

namespace SceneryEditorX
{
namespace
{
using namespace ::SceneryEditorX::Test;

constexpr VkDeviceSize kHeapLimit = 64 * MiB;
/// VMA's estimate without the budget extension: 80 % of the limited heap (rounded down).
constexpr VkDeviceSize kEstimatedBudget = kHeapLimit * 8 / 10; // 53687091

struct Sums
{
    uint64_t budget = 0;
    uint64_t usage = 0;
    uint64_t heapSize = 0;
};

/// Device-local heaps added up, from GetHeapBudgets (which checks no threshold).
Sums DeviceLocalSums()
{
    Sums s;
    for (const HeapBudget& h : MemoryAllocator::GetHeapBudgets())
        if (h.flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
        {
            s.budget += h.budgetBytes;
            s.usage += h.usageBytes;
            s.heapSize += h.heapSizeBytes;
        }
    return s;
}

class BudgetTest : public AllocatorTest
{
protected:
    AllocatorSettings Settings() const override { return {.heapSizeLimits = AllHeapLimits(kHeapLimit)}; }

    /// A buffer in its own VkDeviceMemory, so that the usage grows by exactly its size.
    Buffer MakeDedicated(VkDeviceSize size, MemoryAllocator* allocator = nullptr,
                         AllocationFlags extra = AllocationFlags::None)
    {
        Buffer b;
        MemoryAllocator& a = allocator ? *allocator : Alloc();
        b.allocation = a.AllocateBuffer(
            BufferInfo(size), CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY, AllocationFlags::Dedicated | extra),
            b.buffer);
        return b;
    }
    static bool HasBudgetExtension() { return Device()->GetCapabilities().memoryBudget; }
};

TEST_F(BudgetTest, WithoutTheBudgetExtensionTheBudgetIsEightyPercentOfTheLimitedHeap)
{
    if (HasBudgetExtension())
        GTEST_SKIP() << "the device has VK_EXT_memory_budget: the driver supplies the budget";
    const MemoryBudget b = Alloc().GetMemoryBudget();
    const Sums sums = DeviceLocalSums();
    const uint64_t deviceLocalHeaps = sums.heapSize / kHeapLimit;
    ASSERT_GE(deviceLocalHeaps, 1u);
    EXPECT_EQ(b.totalBytes, kEstimatedBudget * deviceLocalHeaps);
    EXPECT_EQ(b.heapSizeBytes, kHeapLimit * deviceLocalHeaps);
    EXPECT_EQ(b.usedBytes, 0u);
    EXPECT_EQ(b.usagePercentage, 0.0f);
    EXPECT_FALSE(b.isOverBudget);
    EXPECT_FALSE(b.isAboveWarningThreshold);
    EXPECT_FALSE(b.fromBudgetExtension);
    if (IsSingleUnifiedHeap())
    {
        EXPECT_EQ(b.totalBytes, 53687091u);
    }

    const Buffer one = MakeDedicated(4 * MiB);
    ASSERT_NE(one.allocation, nullptr);
    const MemoryBudget after = Alloc().GetMemoryBudget();
    EXPECT_EQ(after.usedBytes, 4 * MiB) << "the usage is the committed memory";
    EXPECT_FLOAT_EQ(after.usagePercentage,
                    static_cast<float>(static_cast<double>(4 * MiB) / static_cast<double>(after.totalBytes)));
    Destroy(one);
}

TEST_F(BudgetTest, GetHeapBudgetsMatchesGetMemoryBudgetAndVmaForTheDeviceLocalHeaps)
{
    std::vector<Buffer> buffers;
    VkDeviceSize previousUsage = 0;
    for (int step = 0; step < 4; ++step)
    {
        SCOPED_TRACE(step);
        const std::vector<HeapBudget> heaps = MemoryAllocator::GetHeapBudgets();
        ASSERT_EQ(heaps.size(), Device()->GetMemoryProperties().memoryHeapCount);
        VmaBudget vma[VK_MAX_MEMORY_HEAPS]{};
        vmaGetHeapBudgets(MemoryAllocator::GetAllocator(), vma);
        for (const HeapBudget& h : heaps)
        {
            EXPECT_EQ(h.heapSizeBytes,
                      std::min(kHeapLimit, Device()->GetMemoryProperties().memoryHeaps[h.heapIndex].size))
                << "the limit is the heap size the allocator sees";
            EXPECT_EQ(h.budgetBytes, vma[h.heapIndex].budget);
            EXPECT_EQ(h.usageBytes, vma[h.heapIndex].usage);
            EXPECT_EQ(h.blockBytes, vma[h.heapIndex].statistics.blockBytes);
            EXPECT_EQ(h.allocationBytes, vma[h.heapIndex].statistics.allocationBytes);
            EXPECT_EQ(h.flags, Device()->GetMemoryProperties().memoryHeaps[h.heapIndex].flags);
        }
        const Sums sums = DeviceLocalSums();
        const MemoryBudget b = Alloc().GetMemoryBudget();
        EXPECT_EQ(b.totalBytes, sums.budget);
        EXPECT_EQ(b.usedBytes, sums.usage);
        EXPECT_EQ(b.heapSizeBytes, sums.heapSize);
        EXPECT_EQ(b.fromBudgetExtension, HasBudgetExtension());
        // The reported usage moves by at least the dedicated 4 MiB buffer made in the step before
        // (exactly, from VMA's estimate; from the extension, the driver may count more).
        if (step > 0)
        {
            EXPECT_GE(b.usedBytes, previousUsage + 4 * MiB);
        }
        previousUsage = b.usedBytes;
        buffers.push_back(MakeDedicated(4 * MiB));
        ASSERT_NE(buffers.back().allocation, nullptr);
    }
    for (const Buffer& b : buffers)
        Destroy(b);
}

TEST_F(BudgetTest, AllocatingPastTheHeapLimitReturnsNullWithOneErrorNamingTheResultAndTheBudget)
{
    const VkBufferCreateInfo info = BufferInfo(20 * MiB);
    const uint32_t type = VmaMemoryTypeFor(info, VMA_MEMORY_USAGE_GPU_ONLY);
    ASSERT_LT(type, Device()->GetMemoryProperties().memoryTypeCount);
    const uint32_t heap = Device()->GetMemoryProperties().memoryTypes[type].heapIndex;
    std::vector<Buffer> buffers;
    bool failed = false;
    // Every heap is limited to 64 MiB, so a few 20 MiB buffers exhaust whatever VMA may fall back to.
    for (int i = 0; i < 64 && !failed; ++i)
    {
        const uint64_t budget = MemoryAllocator::GetHeapBudgets()[heap].budgetBytes;
        const CounterSnapshot before = Snapshot(Alloc());
        LogCapture capture;
        Buffer b;
        b.allocation = Alloc().AllocateBuffer(info, VMA_MEMORY_USAGE_GPU_ONLY, b.buffer);
        if (b.allocation)
        {
            EXPECT_TRUE(NoErrors(capture));
            buffers.push_back(b);
            continue;
        }
        failed = true;
        EXPECT_EQ(b.buffer, VK_NULL_HANDLE);
        EXPECT_TRUE(OneAllocatorError(capture, "VK_ERROR_OUT_OF_DEVICE_MEMORY"));
        EXPECT_EQ(capture.Count(LogLevel::Error, fmt::format("heap {} budget {} bytes", heap, budget),
                                kAllocatorTag),
                  1u)
            << Describe(capture);
        EXPECT_EQ(capture.Count(LogLevel::Error, "size 20971520", kAllocatorTag), 1u);
        EXPECT_EQ(capture.Count(LogLevel::Error, "GPU_ONLY", kAllocatorTag), 1u);
        EXPECT_TRUE(SameCounters(before, Snapshot(Alloc())));
    }
    EXPECT_TRUE(failed) << "the heap limit was never reached";
    if (IsSingleUnifiedHeap())
    {
        EXPECT_EQ(buffers.size(), 3u) << "3 x 20 MiB fit in 64 MiB, the fourth does not";
    }
    EXPECT_LE(VmaTotals().blockBytes, kHeapLimit * Device()->GetMemoryProperties().memoryHeapCount);
    for (const Buffer& b : buffers)
        Destroy(b);
    // After the frees the memory is usable again.
    const Buffer again = MakeDedicated(20 * MiB);
    EXPECT_NE(again.allocation, nullptr);
    Destroy(again);
}

TEST_F(BudgetTest, IsOverBudgetIsTrueExactlyWhenUsageExceedsTheBudget)
{
    std::vector<Buffer> buffers;
    bool sawOver = false;
    size_t firstOver = 0;
    auto check = [&](const char* when)
    {
        const MemoryBudget b = Alloc().GetMemoryBudget();
        SCOPED_TRACE(::testing::Message() << when << ": used " << b.usedBytes << " of " << b.totalBytes);
        EXPECT_EQ(b.isOverBudget, b.usedBytes > b.totalBytes);
        EXPECT_EQ(b.isAboveWarningThreshold,
                  static_cast<double>(b.usedBytes) > 0.9 * static_cast<double>(b.totalBytes));
        if (b.isOverBudget && !sawOver)
        {
            sawOver = true;
            firstOver = buffers.size();
        }
        return b;
    };
    check("before");
    for (int i = 0; i < 16; ++i) // up to the whole 64 MiB limit in 4 MiB steps
    {
        const Buffer b = MakeDedicated(4 * MiB);
        if (!b.allocation)
            break;
        buffers.push_back(b);
        check("allocating");
    }
    if (!HasBudgetExtension())
    {
        EXPECT_TRUE(sawOver) << "the heap limit (64 MiB) is above VMA's estimated budget (51.2 MiB)";
    }
    if (IsSingleUnifiedHeap())
    {
        EXPECT_EQ(firstOver, 13u) << "13 x 4 MiB = 52 MiB is the first usage above 53687091 bytes";
        EXPECT_EQ(buffers.size(), 16u);
    }
    while (!buffers.empty())
    {
        Destroy(buffers.back());
        buffers.pop_back();
        check("freeing");
    }
    EXPECT_FALSE(Alloc().GetMemoryBudget().isOverBudget) << "false again after the frees";
}

TEST_F(BudgetTest, WarningFiresOnceWhenCrossingTheThresholdAndTheCallbackOnBothCrossings)
{
    ASSERT_TRUE(Alloc().SetMemoryUsageWarningThreshold(0.5f));
    std::mutex mutex;
    std::vector<bool> crossings;
    Alloc().SetBudgetCallback(
        [&](const MemoryBudget& budget, bool above)
        {
            std::lock_guard lock(mutex);
            crossings.push_back(above);
            EXPECT_EQ(budget.isAboveWarningThreshold, above);
        });

    LogCapture capture;
    std::vector<Buffer> buffers;
    bool above = false;
    size_t firstAbove = 0;
    for (int i = 0; i < 12; ++i) // 48 MiB: above half of the budget, below the limit
    {
        const Buffer b = MakeDedicated(4 * MiB);
        ASSERT_NE(b.allocation, nullptr);
        buffers.push_back(b);
        const Sums sums = DeviceLocalSums();
        if (!above && static_cast<double>(sums.usage) > 0.5 * static_cast<double>(sums.budget))
        {
            above = true;
            firstAbove = buffers.size();
        }
        EXPECT_EQ(capture.Count(LogLevel::Warn, "memory usage warning", kAllocatorTag), above ? 1u : 0u)
            << "after allocation " << buffers.size() << Describe(capture);
    }
    ASSERT_TRUE(above) << "the usage never crossed the threshold";
    if (IsSingleUnifiedHeap())
    {
        EXPECT_EQ(firstAbove, 7u) << "7 x 4 MiB = 28 MiB is the first usage above 0.5 x 53687091 bytes";
    }
    EXPECT_EQ(capture.Count(LogLevel::Warn), 1u) << "one warning, not one per allocation above the threshold";
    {
        std::lock_guard lock(mutex);
        EXPECT_EQ(crossings, std::vector<bool>{true});
    }
    const MemoryBudget high = Alloc().GetMemoryBudget();
    EXPECT_TRUE(high.isAboveWarningThreshold);
    if (!HasBudgetExtension())
    {
        EXPECT_FALSE(high.isOverBudget) << "above the threshold is not over budget";
    }

    for (const Buffer& b : buffers)
        Destroy(b);
    EXPECT_EQ(capture.Count(LogLevel::Warn), 1u);
    EXPECT_EQ(capture.Count(LogLevel::Info, "back below the warning threshold", kAllocatorTag), 1u);
    {
        std::lock_guard lock(mutex);
        EXPECT_EQ(crossings, (std::vector<bool>{true, false}));
    }
    EXPECT_TRUE(NoErrors(capture));
    Alloc().SetBudgetCallback(nullptr);
}

TEST_F(BudgetTest, EachInstanceWarnsAtItsOwnThreshold)
{
    MemoryAllocator watcher(Tag() + ".watcher");
    ASSERT_TRUE(watcher.SetMemoryUsageWarningThreshold(0.25f));
    ASSERT_TRUE(Alloc().SetMemoryUsageWarningThreshold(1.0f));
    LogCapture capture;
    std::vector<Buffer> buffers;
    for (int i = 0; i < 6; ++i) // 24 MiB
    {
        buffers.push_back(MakeDedicated(4 * MiB));
        ASSERT_NE(buffers.back().allocation, nullptr);
    }
    EXPECT_EQ(capture.Count(LogLevel::Warn), 0u) << "the allocating instance's threshold is 1.0";
    const MemoryBudget seen = watcher.GetMemoryBudget(); // the watcher looks, and crosses its own threshold
    const bool expectWarning =
        static_cast<double>(seen.usedBytes) > 0.25 * static_cast<double>(seen.totalBytes);
    EXPECT_EQ(seen.isAboveWarningThreshold, expectWarning);
    EXPECT_EQ(capture.Count(LogLevel::Warn, fmt::format("[{}] memory usage warning", watcher.GetTag()),
                            kAllocatorTag),
              expectWarning ? 1u : 0u);
    if (IsSingleUnifiedHeap())
    {
        EXPECT_TRUE(expectWarning) << "24 MiB > 0.25 x 53687091 bytes";
    }
    for (const Buffer& b : buffers)
        Destroy(b);
}

TEST_F(BudgetTest, WithinBudgetFailsWhenTheAllocationWouldExceedTheBudget)
{
    if (HasBudgetExtension())
        GTEST_SKIP() << "needs VMA's estimated budget (80 % of the limit) below the heap limit";
    if (!IsSingleUnifiedHeap())
        GTEST_SKIP() << "needs one heap, so that VMA cannot place the buffer in another";
    const Buffer big = MakeDedicated(40 * MiB);
    ASSERT_NE(big.allocation, nullptr);
    {
        // 40 + 16 = 56 MiB: below the 64 MiB limit, above the 51.2 MiB budget.
        const CounterSnapshot before = Snapshot(Alloc());
        LogCapture capture;
        const Buffer refused = MakeDedicated(16 * MiB, nullptr, AllocationFlags::WithinBudget);
        EXPECT_EQ(refused.allocation, nullptr);
        EXPECT_TRUE(OneAllocatorError(capture, "VK_ERROR_OUT_OF_DEVICE_MEMORY"));
        EXPECT_TRUE(SameCounters(before, Snapshot(Alloc())));
    }
    const Buffer allowed = MakeDedicated(16 * MiB);
    EXPECT_NE(allowed.allocation, nullptr) << "without the flag the heap limit is what counts";
    EXPECT_TRUE(Alloc().GetMemoryBudget().isOverBudget);
    Destroy(allowed);
    Destroy(big);
}

// ------------------------------------------------------------------ the spec's SafeAllocateBuffer

/// The spec's fallback, as written there: GPU_ONLY first, then CPU_TO_GPU.
bool SafeAllocateBuffer(MemoryAllocator& allocator, VkBufferCreateInfo& bufferInfo, VkBuffer& outBuffer,
                        VmaAllocation& outAllocation)
{
    outAllocation = allocator.AllocateBuffer(bufferInfo, VMA_MEMORY_USAGE_GPU_ONLY, outBuffer);
    if (outAllocation == nullptr)
    {
        SEDX_CORE_WARN("GPU memory allocation failed, trying CPU memory");
        outAllocation = allocator.AllocateBuffer(bufferInfo, VMA_MEMORY_USAGE_CPU_TO_GPU, outBuffer);
        if (outAllocation == nullptr)
        {
            SEDX_CORE_ERROR("All memory allocation attempts failed");
            return false;
        }
    }
    return true;
}

class SafeAllocateTest : public BudgetTest
{
protected:
    // Host heaps, if any, stay free.
    AllocatorSettings Settings() const override
    {
        return {.heapSizeLimits = DeviceLocalHeapLimits(kHeapLimit)};
    }
};

TEST_F(SafeAllocateTest, FallbackFailsCleanlyOnOneHeapAndFindsHostMemoryOnSeveral)
{
    // Fill the device-local heaps: 20 MiB buffers that must be device-local, until one does not fit.
    std::vector<Buffer> fill;
    {
        LogCapture capture;
        for (int i = 0; i < 64; ++i)
        {
            AllocationCreateInfo createInfo = CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY);
            createInfo.requiredFlags = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
            Buffer b;
            b.allocation = Alloc().AllocateBuffer(BufferInfo(20 * MiB), createInfo, b.buffer);
            if (!b.allocation)
                break;
            fill.push_back(b);
        }
        ASSERT_TRUE(OneAllocatorError(capture, "VK_ERROR_OUT_OF_DEVICE_MEMORY"))
            << "the fill ends at the limit";
    }
    ASSERT_FALSE(fill.empty());

    VkBufferCreateInfo info = BufferInfo(8 * MiB);
    VkBuffer buffer = VK_NULL_HANDLE;
    VmaAllocation allocation = nullptr;
    const CounterSnapshot before = Snapshot(Alloc());
    LogCapture capture;
    const bool ok = SafeAllocateBuffer(Alloc(), info, buffer, allocation);
    if (IsSingleUnifiedHeap())
    {
        // Lavapipe: both attempts need the one (full) heap.
        EXPECT_FALSE(ok);
        EXPECT_EQ(allocation, nullptr);
        EXPECT_EQ(buffer, VK_NULL_HANDLE);
        EXPECT_EQ(AllocatorErrors(capture), 2u) << "one error per attempt" << Describe(capture);
        EXPECT_EQ(capture.Count(LogLevel::Error,
                                "AllocateBuffer(8388608 bytes, GPU_ONLY) failed: "
                                "VK_ERROR_OUT_OF_DEVICE_MEMORY",
                                kAllocatorTag),
                  1u);
        EXPECT_EQ(capture.Count(LogLevel::Error,
                                "AllocateBuffer(8388608 bytes, CPU_TO_GPU) failed: "
                                "VK_ERROR_OUT_OF_DEVICE_MEMORY",
                                kAllocatorTag),
                  1u);
        EXPECT_EQ(capture.Count(LogLevel::Error, "All memory allocation attempts failed"), 1u);
        EXPECT_TRUE(SameCounters(before, Snapshot(Alloc())));
    }
    else
    {
        // A separate host heap: the buffer ends up there (VMA may already move GPU_ONLY there itself).
        ASSERT_TRUE(ok) << Describe(capture);
        EXPECT_LE(AllocatorErrors(capture), 1u);
        const uint32_t heap =
            Device()->GetMemoryProperties().memoryTypes[InfoOf(allocation).memoryType].heapIndex;
        EXPECT_EQ(Device()->GetMemoryProperties().memoryHeaps[heap].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT,
                  0u)
            << "the device-local heaps are full";
        EXPECT_TRUE(Alloc().DestroyBuffer(buffer, allocation));
    }
    for (const Buffer& b : fill)
        Destroy(b);
}

} // namespace
} // namespace SceneryEditorX
