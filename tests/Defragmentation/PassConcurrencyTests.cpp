// A defragmentation step is one pass over every pool, its copies in one submission, waited for
// without the registry's locks (docs/ARCHITECTURE.md, "Defragmentation passes"). These tests order
// other threads' calls against a pass through DefragmentationOptions::onCopiesInFlight, which a step
// calls once its copies are submitted and before it waits for them: what another thread finishes
// inside that call, it finished while the pass was in flight. No test measures time. Runs under
// ThreadSanitizer too (`ctest --preset tsan -L tsan`).
#include "DefragTestSupport.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <random>
#include <thread>

namespace SceneryEditorX
{
namespace
{
using namespace DefragTest;

// A hang guard only (a thread that should finish at once and does not fails the test): no figure
// of the test depends on it.
constexpr auto kHangGuard = std::chrono::seconds(120);

struct Algorithm
{
    VmaDefragmentationFlags flags;
    const char* name;
};
constexpr Algorithm kAlgorithms[] = {
    {VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FAST_BIT, "FAST"},
    {VMA_DEFRAGMENTATION_FLAG_ALGORITHM_BALANCED_BIT, "BALANCED"},
    {VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FULL_BIT, "FULL"},
    {VMA_DEFRAGMENTATION_FLAG_ALGORITHM_EXTENSIVE_BIT, "EXTENSIVE"},
};

/// Frees happen at once (DestroyBuffer), with no frame in flight to wait for.
class PassConcurrency : public AllocatorTest
{
protected:
    void ConfigureSettings(AllocatorSettings& settings) override
    {
        AllocatorTest::ConfigureSettings(settings);
        settings.framesInFlight = 0;
    }

    /// Allocates and frees one buffer and one image on this thread, with no upload (an upload waits
    /// for the pass, by design). False on a failure.
    bool AllocateAndFree(MemoryAllocator& allocator, uint32_t salt)
    {
        VkBuffer buffer = VK_NULL_HANDLE;
        const VmaAllocation b = allocator.AllocateBuffer(BufferInfo(4096 + 256 * (salt % 64), kStorageUsage),
                                                         VMA_MEMORY_USAGE_GPU_ONLY, buffer);
        VkImage image = VK_NULL_HANDLE;
        const VmaAllocation i =
            allocator.AllocateImage(MippedImageInfo(16, 16), VMA_MEMORY_USAGE_GPU_ONLY, image);
        const bool freed = (!b || allocator.DestroyBuffer(buffer, b)) && (!i || allocator.DestroyImage(image, i));
        return b && i && freed;
    }
};

/// Pre-fragmented buffers in two size-class pools and images in the default pools: every step has
/// moves in several pools.
struct World
{
    std::vector<TrackedBuffer> buffers;
    std::vector<TrackedImage> images;
};
World MakeFragmentedWorld(MemoryAllocator& allocator, uint32_t seed)
{
    World w;
    for (const TrackedBuffer& b : MakeFragmentedBuffers(allocator, 48, 16 * 1024, seed, true))
        w.buffers.push_back(b);
    for (const TrackedBuffer& b : MakeFragmentedBuffers(allocator, 24, 96 * 1024, seed + 1000, true))
        w.buffers.push_back(b);
    std::vector<TrackedImage> all;
    for (uint32_t k = 0; k < 12; ++k)
    {
        TrackedImage im;
        if (!CreateFilledImage(allocator, 64, 64, seed + 2000 + k, im))
            break;
        all.push_back(im);
    }
    for (size_t k = 0; k < all.size(); ++k)
        if (k % 2 == 0)
            Destroy(allocator, all[k]);
        else
            w.images.push_back(all[k]);
    return w;
}

/// Serves the pass's requests: inside onCopiesInFlight the pass asks for one allocate-and-free
/// cycle begun after its request and waits until a worker has done one.
class CycleWhilePassInFlight
{
public:
    /// The pass side (in onCopiesInFlight): false when no cycle came (hang guard).
    bool RequestAndWait()
    {
        std::unique_lock lock(m_Mutex);
        const uint64_t ticket = ++m_Requested;
        m_Changed.notify_all();
        return m_Changed.wait_for(lock, kHangGuard, [&] { return m_Served >= ticket || m_Stop; }) &&
               m_Served >= ticket;
    }
    /// The worker side: the request outstanding now (0: none).
    uint64_t Outstanding()
    {
        std::lock_guard lock(m_Mutex);
        return m_Requested > m_Served ? m_Requested : 0;
    }
    void Serve(uint64_t ticket)
    {
        std::lock_guard lock(m_Mutex);
        m_Served = std::max(m_Served, ticket);
        ++m_Cycles;
        m_Changed.notify_all();
    }
    void Stop()
    {
        std::lock_guard lock(m_Mutex);
        m_Stop = true;
        m_Changed.notify_all();
    }
    bool Stopped()
    {
        std::lock_guard lock(m_Mutex);
        return m_Stop;
    }
    uint64_t Cycles()
    {
        std::lock_guard lock(m_Mutex);
        return m_Cycles;
    }

private:
    std::mutex m_Mutex;
    std::condition_variable m_Changed;
    uint64_t m_Requested = 0;
    uint64_t m_Served = 0;
    uint64_t m_Cycles = 0;
    bool m_Stop = false;
};

// Every kind of run, with both copy paths (the parameter): while each step's copies are in flight,
// a worker allocates and frees (the step waits until it has), another keeps allocating, uploading,
// reading back and freeing its own buffers; every byte is checked afterwards.
TEST_P(PassConcurrency, EveryKindOfRunMovesEveryByteWhileOtherThreadsAllocateAndFree)
{
    for (const Algorithm& algorithm : kAlgorithms)
    {
        SCOPED_TRACE(algorithm.name);
        World world = MakeFragmentedWorld(Allocator(), 100);
        ASSERT_FALSE(world.buffers.empty());
        CycleWhilePassInFlight cycles;
        std::atomic<bool> failed{false};
        auto workerAllocator = CreateRef<MemoryAllocator>("PassWorker");
        // The allocate-and-free worker: serves every request, and cycles in between too.
        std::thread cycler(
            [&]
            {
                uint32_t salt = 0;
                while (!cycles.Stopped() && !failed.load())
                {
                    const uint64_t ticket = cycles.Outstanding();
                    if (!AllocateAndFree(*workerAllocator, ++salt))
                    {
                        failed = true;
                        break;
                    }
                    if (ticket)
                        cycles.Serve(ticket);
                    else
                        std::this_thread::yield();
                }
            });
        // The uploading worker: its transfers wait for each pass; its data must survive them.
        std::thread uploader(
            [&]
            {
                std::mt19937 rng(7);
                std::vector<TrackedBuffer> own;
                uint32_t seed = 700000;
                while (!cycles.Stopped() && !failed.load())
                {
                    TrackedBuffer b;
                    const VkDeviceSize size = std::uniform_int_distribution<VkDeviceSize>(512, 48 * 1024)(rng);
                    if (!CreateFilledBuffer(*workerAllocator, size, ++seed, b))
                    {
                        failed = true;
                        break;
                    }
                    own.push_back(b);
                    for (const TrackedBuffer& o : own)
                        if (!HoldsPattern(*workerAllocator, o))
                        {
                            ADD_FAILURE() << "an uploading worker's buffer changed";
                            failed = true;
                        }
                    if (own.size() > 5)
                    {
                        Destroy(*workerAllocator, own.front());
                        own.erase(own.begin());
                    }
                }
                DestroyAll(*workerAllocator, own);
            });

        DefragmentationOptions options;
        options.flags = algorithm.flags;
        options.maxAllocationsPerPass = 6;
        uint32_t inFlight = 0;
        uint32_t served = 0;
        options.onCopiesInFlight = [&]
        {
            ++inFlight;
            served += cycles.RequestAndWait() ? 1u : 0u;
        };
        ASSERT_TRUE(Allocator().BeginDefragmentation(options));
        ExpectMarked(Allocator(), world.buffers, world.images);
        uint32_t steps = 0;
        while (Allocator().DefragmentStep() && steps < 1000)
            ++steps;
        const DefragmentationStats stats = Allocator().EndDefragmentation();
        cycles.Stop();
        cycler.join();
        uploader.join();
        EXPECT_FALSE(failed.load());
        EXPECT_GT(stats.allocationsMoved, 0u);
        EXPECT_EQ(stats.movesFailed, 0u);
        EXPECT_GT(inFlight, 0u) << "no step had GPU copies in flight";
        EXPECT_EQ(served, inFlight) << "a step's copies were in flight and no other thread allocated";
        ExpectHoldPatterns(Allocator(), world.buffers, world.images);
        DestroyAll(Allocator(), world.buffers, world.images);
        EXPECT_EQ(workerAllocator->GetStats().tag.allocationCount, 0u);
    }
}

// A pass waits for its copies with no registry lock held: a thread that allocates and frees while
// the pass is stopped between its submission and its fence wait finishes (with the old pass, which
// held every shard lock through the wait, this thread could not finish until the pass did).
TEST_P(PassConcurrency, AnAllocatingThreadIsNotBlockedByAPassWaitingForItsCopies)
{
    World world = MakeFragmentedWorld(Allocator(), 300);
    auto other = CreateRef<MemoryAllocator>("Other");
    uint32_t finishedInside = 0;
    uint32_t inFlight = 0;
    DefragmentationOptions options;
    options.flags = VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FULL_BIT;
    options.onCopiesInFlight = [&]
    {
        ++inFlight;
        auto done = std::async(std::launch::async, [&] { return AllocateAndFree(*other, inFlight); });
        if (done.wait_for(kHangGuard) == std::future_status::ready && done.get())
            ++finishedInside;
    };
    ASSERT_TRUE(Allocator().BeginDefragmentation(options));
    ExpectMarked(Allocator(), world.buffers, world.images);
    const DefragmentationStats stats = Allocator().EndDefragmentation();
    EXPECT_GT(stats.allocationsMoved, 0u);
    EXPECT_GT(inFlight, 0u);
    EXPECT_EQ(finishedInside, inFlight);
    ExpectHoldPatterns(Allocator(), world.buffers, world.images);
    DestroyAll(Allocator(), world.buffers, world.images);
}

// A free of an allocation that the pass in flight is moving returns at once; the allocation leaves
// the registry, its memory stays until the pass ends (its move is dropped), and then it is freed.
TEST_P(PassConcurrency, AFreeOfAMoveSourceDuringAPassIsHeldAndCompletes)
{
    // [filler][target]: the filler goes, so the target moves down when it is defragmented.
    constexpr VkDeviceSize kSize = 32 * 1024;
    TrackedBuffer filler, target;
    ASSERT_TRUE(CreateFilledBuffer(Allocator(), kSize, 1, filler));
    ASSERT_TRUE(CreateFilledBuffer(Allocator(), kSize, 2, target));
    Destroy(Allocator(), filler);
    const auto heapAllocationBytes = []
    {
        uint64_t bytes = 0;
        for (const HeapBudget& h : MemoryAllocator::GetHeapBudgets())
            bytes += h.allocationBytes;
        return bytes;
    };
    bool destroyed = false;
    bool liveAfterFree = true;
    uint64_t bytesBeforeFree = 0;
    uint64_t bytesAfterFree = 0;
    DefragmentationOptions options;
    options.flags = VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FULL_BIT;
    options.onCopiesInFlight = [&]
    {
        bytesBeforeFree = heapAllocationBytes();
        auto done = std::async(std::launch::async,
                               [&] { return Allocator().DestroyBuffer(MemoryAllocator::GetBuffer(target.allocation),
                                                                      target.allocation); });
        destroyed = done.wait_for(kHangGuard) == std::future_status::ready && done.get();
        liveAfterFree = MemoryAllocator::ContainsAllocation(target.allocation);
        bytesAfterFree = heapAllocationBytes();
    };
    ASSERT_TRUE(Allocator().BeginDefragmentation(options));
    ASSERT_TRUE(Allocator().MarkForDefragmentation(target.allocation));
    const DefragmentationStats stats = Allocator().EndDefragmentation();
    EXPECT_TRUE(destroyed) << "the free during the pass failed or did not return";
    EXPECT_FALSE(liveAfterFree) << "the freed allocation is still in the registry";
    EXPECT_EQ(bytesAfterFree, bytesBeforeFree) << "the move source's memory was freed inside the pass";
    EXPECT_GT(bytesBeforeFree, 0u);
    EXPECT_LE(heapAllocationBytes() + 2 * kSize, bytesBeforeFree)
        << "after the pass: the source and its dropped destination are freed";
    EXPECT_EQ(stats.movesFailed, 0u);
    EXPECT_EQ(stats.allocationsMoved, 0u) << "the freed source's move was dropped";
    EXPECT_EQ(Allocator().GetStats().tag.allocationCount, 0u);
}

// A step bounded in time: VMA's break callback reads the injected clock, which moves one tick per
// reading, so a step of a 5-tick bound can take at most 5 candidates (the first always), and so
// plan at most 5 moves over all its pools. The session still moves everything, step by step.
TEST_P(PassConcurrency, ATimeBoundedStepNeverPlansMoreThanItsBoundAllows)
{
    World world = MakeFragmentedWorld(Allocator(), 500);
    constexpr auto kTick = std::chrono::microseconds(10);
    constexpr int64_t kTicks = 5;
    std::chrono::steady_clock::time_point now{};
    uint64_t readings = 0;
    DefragmentationOptions options;
    options.flags = VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FULL_BIT;
    options.maxPassDuration = kTick * kTicks;
    options.clock = [&]
    {
        ++readings;
        return now += kTick;
    };
    RelocationRecorder recorder;
    ASSERT_TRUE(Allocator().BeginDefragmentation(options));
    ExpectMarked(Allocator(), world.buffers, world.images);
    size_t steps = 0;
    size_t largestStep = 0;
    size_t before = 0;
    bool more = true;
    while (more && steps < 10000)
    {
        more = Allocator().DefragmentStep();
        ++steps;
        const size_t moved = recorder.Count() - before;
        before = recorder.Count();
        largestStep = std::max(largestStep, moved);
        EXPECT_LE(moved, static_cast<size_t>(kTicks)) << "step " << steps;
    }
    const DefragmentationStats stats = Allocator().EndDefragmentation();
    EXPECT_GT(readings, 0u) << "the injected clock was never read";
    EXPECT_GT(largestStep, 1u) << "the bound allowed several moves per step";
    EXPECT_GT(steps, 2u);
    EXPECT_EQ(stats.allocationsMoved, recorder.Count());
    EXPECT_GT(stats.allocationsMoved, static_cast<uint32_t>(kTicks)) << "the run needed several steps";
    ExpectHoldPatterns(Allocator(), world.buffers, world.images);
    DestroyAll(Allocator(), world.buffers, world.images);
}

// The bound is an argument: a negative one is refused with one tagged line, and no session opens.
TEST_P(PassConcurrency, ANegativeStepBoundIsRefused)
{
    DefragmentationOptions options;
    options.maxPassDuration = std::chrono::microseconds(-1);
    LogCapture capture;
    EXPECT_FALSE(Allocator().BeginDefragmentation(options));
    EXPECT_EQ(AllocatorErrors(capture), 1u);
    EXPECT_EQ(capture.Count(LogLevel::Error, "[DefragTest] BeginDefragmentation: maxPassDuration -1 us is negative"),
              1u);
    EXPECT_FALSE(MemoryAllocator::IsDefragmenting());
}

INSTANTIATE_TEST_SUITE_P(CopyPaths, PassConcurrency, ::testing::ValuesIn(kCopyPaths), CopyPathName);

} // namespace
} // namespace SceneryEditorX
