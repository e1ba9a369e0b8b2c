// Many threads at once through the whole API: allocation and destruction of buffers and images
// (immediate, deferred and from another thread than the one that made them), mapping, uploads and
// readbacks with their contents checked, batches, statistics, budgets and frame advances. Also run
// under ThreadSanitizer (`ctest --preset tsan`): a race in our code is a failure, not a suppression.
#include "MemoryTestSupport.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace SceneryEditorX
{
namespace
{
using namespace ::SceneryEditorX::Test;

constexpr int kWorkers = 8;
constexpr int kTags = 3;
#if defined(__SANITIZE_THREAD__)
constexpr int kIterations = 1000; // ThreadSanitizer slows every access down; the mix matters, not the count
#else
constexpr int kIterations = 3000;
#endif

class ConcurrencyTest : public AllocatorTest
{
protected:
    AllocatorSettings Settings() const override
    {
        AllocatorSettings settings;
        // Staging buffers are freed after use, so that VMA's totals return to exactly zero at the end.
        settings.stagingCacheBytes = 0;
        return settings;
    }

    /// The tags' counters all at zero, totals balanced, and VMA holding nothing.
    void ExpectEverythingReleased(const std::vector<Ref<MemoryAllocator>>& instances)
    {
        for (const Ref<MemoryAllocator>& instance : instances)
        {
            const TagStats s = instance->GetStats().tag;
            EXPECT_EQ(s.usedBytes, 0u) << s.tag;
            EXPECT_EQ(s.allocationCount, 0u) << s.tag;
            EXPECT_EQ(s.bufferCount, 0u) << s.tag;
            EXPECT_EQ(s.imageCount, 0u) << s.tag;
            EXPECT_EQ(s.totalAllocations, s.totalFrees) << s.tag;
        }
        // SpeedOptimized instances leave their freed buffers in the reuse cache: only it may hold any.
        EXPECT_EQ(VmaTotals().allocationCount, Alloc().GetStats().reuseCacheCount);
        MemoryAllocator::ReleaseReuseCache();
        const VmaStatistics vma = VmaTotals();
        EXPECT_EQ(vma.allocationCount, 0u);
        EXPECT_EQ(vma.allocationBytes, 0u);
        const AllocationStats stats = Alloc().GetStats();
        EXPECT_EQ(stats.allocationCount, 0u);
        EXPECT_EQ(stats.usedBytes, 0u);
    }
};

/// One live resource of a worker.
struct Resource
{
    bool isImage = false;
    VkBuffer buffer = VK_NULL_HANDLE;
    VkImage image = VK_NULL_HANDLE;
    VmaAllocation allocation = nullptr;
    VkDeviceSize size = 0; // buffer size asked for
    bool mappable = false;
    VkImageCreateInfo imageInfo{};
};

/// Resources that one worker gives up and another destroys.
class HandOff
{
public:
    void Give(Resource r)
    {
        std::lock_guard lock(m_Mutex);
        m_Queue.push_back(r);
    }
    bool Take(Resource& out)
    {
        std::lock_guard lock(m_Mutex);
        if (m_Queue.empty())
            return false;
        out = m_Queue.front();
        m_Queue.pop_front();
        return true;
    }

private:
    std::mutex m_Mutex;
    std::deque<Resource> m_Queue;
};

struct WorkerResult
{
    int operations = 0;
    int uploadsVerified = 0;
    int mapsVerified = 0;
    int batches = 0;
    int crossThreadDestroys = 0;
    std::vector<std::string> failures;
};

class Worker
{
public:
    Worker(MemoryAllocator& allocator, HandOff& handOff, uint32_t seed, WorkerResult& result)
        : m_Allocator(allocator), m_HandOff(handOff), m_Rng(seed), m_Result(result)
    {
    }

    void Run()
    {
        for (int i = 0; i < kIterations; ++i)
        {
            Step(Pick(12));
            ++m_Result.operations;
        }
        for (const Resource& r : m_Live)
            Destroy(r, Pick(2) == 0);
        m_Live.clear();
    }

private:
    uint32_t Pick(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(m_Rng); }
    void Fail(std::string what) { m_Result.failures.push_back(std::move(what)); }

    void Step(uint32_t op)
    {
        switch (op)
        {
        case 0:
        case 1:
            AllocateBuffer();
            break;
        case 2:
            AllocateImage();
            break;
        case 3:
        case 4:
            if (!m_Live.empty())
            {
                const size_t index = Pick(static_cast<uint32_t>(m_Live.size()));
                Destroy(m_Live[index], Pick(3) == 0);
                m_Live.erase(m_Live.begin() + static_cast<std::ptrdiff_t>(index));
            }
            break;
        case 5:
            MapWriteAndCheck();
            break;
        case 6:
            UploadAndReadBack();
            break;
        case 7:
            Batch();
            break;
        case 8:
            LookAround();
            break;
        case 9:
            UploadImageAndReadBack();
            break;
        case 10:
            if (!m_Live.empty())
            {
                m_HandOff.Give(m_Live.back());
                m_Live.pop_back();
            }
            break;
        default:
            if (Resource r; m_HandOff.Take(r))
            {
                Destroy(r, false);
                ++m_Result.crossThreadDestroys;
            }
            break;
        }
    }

    void AllocateBuffer()
    {
        static constexpr VkDeviceSize kSizes[] = {256, 4 * KiB, 64 * KiB, 300 * KiB, 2 * MiB, 17 * MiB};
        const VkDeviceSize size = kSizes[Pick(m_Live.size() > 4 ? 5 : 6)];
        AllocationCreateInfo createInfo;
        switch (Pick(3))
        {
        case 0:
            createInfo = CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY);
            break;
        case 1:
            createInfo = CreateInfo(VMA_MEMORY_USAGE_CPU_TO_GPU, AllocationFlags::None, "upload");
            break;
        default:
            createInfo =
                CreateInfo(VMA_MEMORY_USAGE_AUTO, AllocationFlags::HostAccessSequentialWrite, "auto");
            break;
        }
        Resource r;
        r.size = size;
        r.allocation = m_Allocator.AllocateBuffer(BufferInfo(size), createInfo, r.buffer);
        if (!r.allocation)
            return Fail("AllocateBuffer failed");
        r.mappable = createInfo.usage != VMA_MEMORY_USAGE_GPU_ONLY;
        m_Live.push_back(r);
    }

    void AllocateImage()
    {
        Resource r;
        r.isImage = true;
        const uint32_t extent = 16u << Pick(4); // 16 .. 128
        r.imageInfo = ImageInfo(extent, extent, 1 + Pick(3), 1 + Pick(2));
        r.allocation = m_Allocator.AllocateImage(r.imageInfo, VMA_MEMORY_USAGE_GPU_ONLY, r.image);
        if (!r.allocation)
            return Fail("AllocateImage failed");
        m_Live.push_back(r);
    }

    void Destroy(const Resource& r, bool deferred)
    {
        bool ok = false;
        if (r.isImage)
            ok = deferred ? m_Allocator.DestroyImageDeferred(r.image, r.allocation)
                          : m_Allocator.DestroyImage(r.image, r.allocation);
        else if (deferred)
            ok = m_Allocator.DestroyBufferDeferred(r.buffer, r.allocation);
        else
            ok = Pick(2) ? m_Allocator.DestroyBuffer(r.buffer, r.allocation) : m_Allocator.Free(r.allocation);
        if (!ok)
            Fail("destroy failed");
    }

    const Resource* AnyBuffer(bool mappable)
    {
        for (size_t tries = 0; tries < m_Live.size(); ++tries)
        {
            const Resource& r = m_Live[Pick(static_cast<uint32_t>(m_Live.size()))];
            if (!r.isImage && (!mappable || r.mappable))
                return &r;
        }
        return nullptr;
    }

    void MapWriteAndCheck()
    {
        const Resource* r = AnyBuffer(true);
        if (!r)
            return;
        const uint32_t value = static_cast<uint32_t>(m_Rng());
        const size_t words = static_cast<size_t>(std::min<VkDeviceSize>(r->size, 4 * KiB) / 4);
        auto* mapped = m_Allocator.MapMemory<uint32_t>(r->allocation);
        if (!mapped)
            return Fail("MapMemory failed");
        for (size_t i = 0; i < words; ++i)
            mapped[i] = value + static_cast<uint32_t>(i);
        auto* again = m_Allocator.MapMemory<uint32_t>(r->allocation); // nested
        if (again != mapped || !MemoryAllocator::FlushAllocation(r->allocation))
            Fail("nested map or flush failed");
        MemoryAllocator::UnmapMemory(r->allocation);
        if (!MemoryAllocator::UnmapMemory(r->allocation))
            return Fail("UnmapMemory failed");
        std::vector<uint32_t> back(words);
        if (!m_Allocator.ReadbackBuffer(r->allocation, back.data(), words * 4))
            return Fail("ReadbackBuffer after map failed");
        for (size_t i = 0; i < words; ++i)
            if (back[i] != value + static_cast<uint32_t>(i))
                return Fail("mapped write not seen by the readback");
        ++m_Result.mapsVerified;
    }

    void UploadAndReadBack()
    {
        const Resource* r = AnyBuffer(false);
        if (!r)
            return;
        const VkDeviceSize length = std::min<VkDeviceSize>(r->size, 64 * KiB);
        const VkDeviceSize offset = r->size - length;
        std::vector<uint8_t> data(static_cast<size_t>(length));
        const uint8_t seed = static_cast<uint8_t>(m_Rng());
        for (size_t i = 0; i < data.size(); ++i)
            data[i] = static_cast<uint8_t>(seed + i * 31);
        std::vector<uint8_t> back(data.size(), 0);
        if (!m_Allocator.UploadToBuffer(r->allocation, data.data(), length, offset) ||
            !m_Allocator.ReadbackBuffer(r->allocation, back.data(), length, offset))
            return Fail("upload or readback failed");
        if (back != data)
            return Fail("buffer contents differ after the round trip");
        ++m_Result.uploadsVerified;
    }

    void UploadImageAndReadBack()
    {
        for (const Resource& r : m_Live)
        {
            if (!r.isImage)
                continue;
            std::vector<uint8_t> data(static_cast<size_t>(MemoryAllocator::ImageDataSize(r.imageInfo)));
            const uint8_t seed = static_cast<uint8_t>(m_Rng());
            for (size_t i = 0; i < data.size(); ++i)
                data[i] = static_cast<uint8_t>(seed ^ (i * 7));
            std::vector<uint8_t> back;
            if (!m_Allocator.UploadToImage(r.allocation, data.data(), data.size()) ||
                !m_Allocator.ReadbackImage(r.allocation, back))
                return Fail("image upload or readback failed");
            if (back != data)
                return Fail("image contents differ after the round trip");
            ++m_Result.uploadsVerified;
            return;
        }
    }

    void Batch()
    {
        std::vector<VkDeviceSize> sizes;
        for (uint32_t i = 0, n = 2 + Pick(3); i < n; ++i)
            sizes.push_back((1 + Pick(64)) * 4 * KiB);
        std::vector<BatchBufferAllocation> batch =
            m_Allocator.AllocateBufferBatch(sizes, BufferUsage::Vertex | BufferUsage::Storage);
        if (batch.size() != sizes.size())
            return Fail("AllocateBufferBatch failed");
        for (const BatchBufferAllocation& entry : batch)
            if (!MemoryAllocator::ContainsAllocation(entry.allocation) ||
                MemoryAllocator::GetBuffer(entry.allocation) != entry.buffer)
                Fail("batch entry not live");
        if (!m_Allocator.FreeBufferBatch(batch))
            Fail("FreeBufferBatch failed");
        ++m_Result.batches;
    }

    void LookAround()
    {
        const AllocationStats stats = m_Allocator.GetStats();
        if (stats.allocationCount < m_Live.size())
            Fail("GetStats counts fewer allocations than this thread holds");
        const MemoryBudget budget = m_Allocator.GetMemoryBudget();
        if (budget.totalBytes == 0 || budget.isOverBudget != (budget.usedBytes > budget.totalBytes))
            Fail("inconsistent budget");
        for (const Resource& r : m_Live)
        {
            if (!MemoryAllocator::ContainsAllocation(r.allocation))
                Fail("a live allocation is not contained");
            if (r.isImage ? MemoryAllocator::GetImage(r.allocation) != r.image
                          : MemoryAllocator::GetBuffer(r.allocation) != r.buffer)
                Fail("the handle of a live allocation changed");
        }
        if (!m_Live.empty() && !m_Allocator.SetAllocationName(m_Live.front().allocation, "renamed"))
            Fail("SetAllocationName failed");
    }

    MemoryAllocator& m_Allocator;
    HandOff& m_HandOff;
    std::mt19937 m_Rng;
    WorkerResult& m_Result;
    std::vector<Resource> m_Live;
};

TEST_F(ConcurrencyTest, ManyThreadsMixingEveryCallLeaveEveryCounterAtZero)
{
    // Eight workers on eight instances that share three tags, a thread advancing frames (releasing
    // deferred destroys, once replacing the large pools) and a thread reading the cheap statistics.
    std::vector<Ref<MemoryAllocator>> instances;
    for (int w = 0; w < kWorkers; ++w)
        instances.push_back(CreateRef<MemoryAllocator>(Tag() + "." + std::to_string(w % kTags)));
    instances[1]->SetAllocationStrategy(MemoryAllocator::AllocationStrategy::SpeedOptimized);
    instances[2]->SetAllocationStrategy(MemoryAllocator::AllocationStrategy::MemoryOptimized);
    ASSERT_TRUE(instances[3]->SetBufferAlignment(4096));

    LogCapture capture;
    HandOff handOff;
    std::vector<WorkerResult> results(kWorkers);
    std::atomic<int> running{kWorkers};
    std::atomic<int> frameFailures{0};
    std::atomic<int> statsReads{0};
    std::vector<std::thread> threads;
    const auto start = std::chrono::steady_clock::now();
    for (int w = 0; w < kWorkers; ++w)
        threads.emplace_back(
            [&, w]
            {
                Worker(*instances[static_cast<size_t>(w)], handOff, 1234u + static_cast<uint32_t>(w),
                       results[static_cast<size_t>(w)])
                    .Run();
                running.fetch_sub(1);
            });
    std::thread frames(
        [&]
        {
            for (uint64_t frame = 1; running.load() > 0; ++frame)
            {
                if (!MemoryAllocator::SetCurrentFrameIndex(frame))
                    frameFailures.fetch_add(1);
                if (frame == 20 && !MemoryAllocator::SetCustomBufferSize(32 * MiB, *Device()))
                    frameFailures.fetch_add(1);
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            }
        });
    std::thread reader(
        [&]
        {
            MemoryAllocator observer(Tag() + ".observer");
            while (running.load() > 0)
            {
                const AllocationStats cheap = observer.GetStats();
                (void)MemoryAllocator::GetAllTagStats();
                (void)MemoryAllocator::GetHeapBudgets();
                const MemoryBudget budget = observer.GetMemoryBudget();
                const bool blocksForAllocations = cheap.allocationCount == 0 || cheap.blockCount > 0;
                if (!blocksForAllocations || cheap.totalBytes < cheap.usedBytes || budget.totalBytes == 0)
                    frameFailures.fetch_add(1);
                statsReads.fetch_add(1);
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
        });
    for (std::thread& t : threads)
        t.join();
    frames.join();
    reader.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    // What the workers handed off and nobody took, and what is still waiting for its frame.
    for (Resource r; handOff.Take(r);)
        EXPECT_TRUE(r.isImage ? Alloc().DestroyImage(r.image, r.allocation) : Alloc().Free(r.allocation));
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(MemoryAllocator::GetCurrentFrameIndex() +
                                                      MemoryAllocator::GetSettings().framesInFlight));

    WorkerResult total;
    for (const WorkerResult& r : results)
    {
        for (const std::string& failure : r.failures)
            ADD_FAILURE() << failure;
        total.operations += r.operations;
        total.uploadsVerified += r.uploadsVerified;
        total.mapsVerified += r.mapsVerified;
        total.batches += r.batches;
        total.crossThreadDestroys += r.crossThreadDestroys;
    }
    EXPECT_EQ(frameFailures.load(), 0);
    EXPECT_TRUE(NoErrors(capture));
    EXPECT_EQ(capture.Count(LogLevel::Warn), 0u) << Describe(capture);
    // The mix really happened.
    EXPECT_EQ(total.operations, kWorkers * kIterations);
    EXPECT_GT(total.uploadsVerified, kWorkers);
    EXPECT_GT(total.mapsVerified, kWorkers);
    EXPECT_GT(total.batches, kWorkers);
    EXPECT_GT(total.crossThreadDestroys, 0);
    EXPECT_GT(statsReads.load(), 0);
    ExpectEverythingReleased(instances);
    std::printf(
        "%d operations (%d round trips verified, %d maps verified, %d batches, %d destroyed by another "
        "thread, %d statistics reads) in %.2f s\n",
        total.operations, total.uploadsVerified, total.mapsVerified, total.batches, total.crossThreadDestroys,
        statsReads.load(), seconds);
}

TEST_F(ConcurrencyTest, ConcurrentAllocationsOfOneTagAreCountedExactly)
{
    // Eight threads allocate known buffers with one tag at once; the shared counters see every byte.
    constexpr int kPerThread = 40;
    MemoryAllocator shared(Tag() + ".shared");
    std::vector<std::vector<std::pair<VkBuffer, VmaAllocation>>> made(kWorkers);
    std::vector<std::thread> threads;
    for (int w = 0; w < kWorkers; ++w)
        threads.emplace_back(
            [&, w]
            {
                for (int i = 0; i < kPerThread; ++i)
                {
                    VkBuffer buffer = VK_NULL_HANDLE;
                    const VkDeviceSize size = static_cast<VkDeviceSize>(1 + (i + w) % 8) * 16 * KiB;
                    VmaAllocation a =
                        shared.AllocateBuffer(BufferInfo(size), VMA_MEMORY_USAGE_GPU_ONLY, buffer);
                    if (a)
                        made[static_cast<size_t>(w)].emplace_back(buffer, a);
                }
            });
    for (std::thread& t : threads)
        t.join();
    uint64_t expected = 0;
    size_t count = 0;
    for (const auto& list : made)
        for (const auto& [buffer, allocation] : list)
        {
            expected += InfoOf(allocation).size;
            ++count;
        }
    ASSERT_EQ(count, static_cast<size_t>(kWorkers * kPerThread));
    const AllocationStats stats = shared.GetStats();
    EXPECT_EQ(stats.tag.usedBytes, expected);
    EXPECT_EQ(stats.tag.allocationCount, count);
    EXPECT_EQ(stats.usedBytes, expected);
    EXPECT_EQ(stats.usedBytes, VmaTotals().allocationBytes);

    threads.clear();
    for (int w = 0; w < kWorkers; ++w)
        threads.emplace_back(
            [&, w]
            {
                // Every thread frees another thread's buffers, half of them deferred.
                const auto& list = made[static_cast<size_t>((w + 1) % kWorkers)];
                for (size_t i = 0; i < list.size(); ++i)
                    if (!(i % 2 ? shared.DestroyBufferDeferred(list[i].first, list[i].second)
                                : shared.DestroyBuffer(list[i].first, list[i].second)))
                        ADD_FAILURE() << "destroy failed";
            });
    for (std::thread& t : threads)
        t.join();
    const AllocationStats after = shared.GetStats();
    EXPECT_EQ(after.tag.usedBytes, 0u);
    EXPECT_EQ(after.tag.allocationCount, 0u);
    // Each thread raises the peak from its own view of the striped bytes, which lacks what the other
    // threads' stripes hold: less than 1 MiB each (docs/ARCHITECTURE.md, "Registry and counters").
    const uint64_t missBound = static_cast<uint64_t>(kWorkers - 1) * MiB;
    EXPECT_GE(after.tag.peakUsedBytes + missBound, expected);
    EXPECT_LE(after.tag.peakUsedBytes, expected);
    EXPECT_GE(after.peakUsedBytes + missBound, expected);
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(MemoryAllocator::GetSettings().framesInFlight));
    EXPECT_EQ(VmaTotals().allocationCount, 0u);
}

TEST_F(ConcurrencyTest, TheReuseCacheHandsEachBufferToOneOwnerAtATime)
{
    // Eight threads churn SpeedOptimized buffers of four classes through one instance, half of the
    // destroys deferred; a ninth advances frames (releasing retired buffers into the cache) and
    // empties the cache now and then. A buffer handed to two owners at once shows up as a handle
    // that is already live in the shared set.
    MemoryAllocator shared(Tag() + ".speed");
    shared.SetAllocationStrategy(MemoryAllocator::AllocationStrategy::SpeedOptimized);
    std::mutex liveMutex;
    std::set<VmaAllocation> live;
    std::atomic<int> doubleHandOuts{0};
    std::atomic<int> failures{0};
    std::atomic<bool> done{false};
    std::atomic<size_t> released{0}; // cached buffers the releases found: the cache was in use
    std::vector<std::thread> threads;
    for (int w = 0; w < kWorkers; ++w)
        threads.emplace_back(
            [&, w]
            {
                std::vector<std::pair<VkBuffer, VmaAllocation>> held;
                for (int i = 0; i < kIterations / 4; ++i)
                {
                    VkBuffer buffer = VK_NULL_HANDLE;
                    const VkDeviceSize size = static_cast<VkDeviceSize>(1 + (i * 7 + w) % 4) * 16 * KiB;
                    VmaAllocation a =
                        shared.AllocateBuffer(BufferInfo(size), VMA_MEMORY_USAGE_GPU_ONLY, buffer);
                    if (!a)
                    {
                        ++failures;
                        continue;
                    }
                    {
                        std::lock_guard lock(liveMutex);
                        if (!live.insert(a).second)
                            ++doubleHandOuts;
                    }
                    held.emplace_back(buffer, a);
                    if (held.size() > 4)
                    {
                        const auto [oldBuffer, oldAllocation] = held.front();
                        held.erase(held.begin());
                        {
                            std::lock_guard lock(liveMutex);
                            live.erase(oldAllocation);
                        }
                        const bool ok = i % 2 ? shared.DestroyBufferDeferred(oldBuffer, oldAllocation)
                                              : shared.DestroyBuffer(oldBuffer, oldAllocation);
                        if (!ok)
                            ++failures;
                    }
                }
                for (const auto& [buffer, allocation] : held)
                {
                    {
                        std::lock_guard lock(liveMutex);
                        live.erase(allocation);
                    }
                    if (!shared.DestroyBuffer(buffer, allocation))
                        ++failures;
                }
            });
    std::thread frames(
        [&]
        {
            for (uint64_t f = MemoryAllocator::GetCurrentFrameIndex() + 1; !done.load(); ++f)
            {
                MemoryAllocator::SetCurrentFrameIndex(f);
                if (f % 8 == 0)
                    released += MemoryAllocator::ReleaseReuseCache();
                std::this_thread::yield();
            }
        });
    for (std::thread& t : threads)
        t.join();
    done = true;
    frames.join();
    EXPECT_EQ(doubleHandOuts.load(), 0);
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(shared.GetStats().tag.allocationCount, 0u);
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(MemoryAllocator::GetCurrentFrameIndex() +
                                                      MemoryAllocator::GetSettings().framesInFlight));
    released += MemoryAllocator::ReleaseReuseCache();
    EXPECT_GT(released.load(), 0u) << "no buffer ever went through the reuse cache";
    ExpectEverythingReleased({});
}

} // namespace
} // namespace SceneryEditorX
