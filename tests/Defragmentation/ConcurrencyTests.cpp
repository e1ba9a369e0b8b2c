// Defragmentation while other threads allocate, upload, read back and free (the concurrency rule in
// docs/ARCHITECTURE.md). Runs under ThreadSanitizer too (`ctest --preset tsan`).
#include "DefragTestSupport.h"

#include <SceneryEditorX/Memory/DefragmentationManager.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <random>
#include <thread>

namespace SceneryEditorX
{
namespace
{
using namespace DefragTest;

class DefragmentationConcurrency : public AllocatorTest
{
protected:
    void ConfigureSettings(AllocatorSettings& settings) override
    {
        AllocatorTest::ConfigureSettings(settings);
        // Room for about one staging buffer: the others are created and destroyed while passes run.
        settings.stagingCacheBytes = 256 * 1024;
    }
};

#if defined(__SANITIZE_THREAD__)
constexpr int kIterations = 25;
#else
constexpr int kIterations = 60;
#endif
constexpr int kBufferWorkers = 4;

/// A worker's own buffers: allocate, upload, read back every one each iteration, free some.
/// Checks one resource's pattern and counts the check; a mismatch also tells the other workers to stop.
template <typename Tracked>
::testing::AssertionResult CheckIntact(MemoryAllocator& allocator, const Tracked& resource,
                                       std::atomic<uint64_t>& checks, std::atomic<bool>& failed)
{
    ::testing::AssertionResult intact = HoldsPattern(allocator, resource);
    failed = failed || !intact;
    checks.fetch_add(1, std::memory_order_relaxed);
    return intact;
}

/// Keeps a resource the worker has just created; when creating it failed, frees what there is and
/// tells the other workers to stop. Returns whether the resource was kept.
template <typename Tracked>
bool KeepOrStop(MemoryAllocator& allocator, bool created, const Tracked& resource, std::vector<Tracked>& own,
                std::atomic<bool>& failed)
{
    if (created)
    {
        own.push_back(resource);
        return true;
    }
    failed = true;
    if (resource.allocation)
        Destroy(allocator, resource);
    return false;
}

// Workers run their iterations, and go on (up to 30 s) until the defragmenter has moved something,
// so that a slow or loaded machine, where the defragmenter gets few turns, still tests moves under
// concurrency.
bool KeepWorking(int iteration, int iterations, const std::atomic<uint64_t>& moved,
                 std::chrono::steady_clock::time_point start)
{
    if (iteration < iterations)
        return true;
    return moved.load() == 0 && std::chrono::steady_clock::now() - start < std::chrono::seconds(30);
}

void BufferWorker(MemoryAllocator& allocator, uint32_t index, std::atomic<uint64_t>& checks,
                  std::atomic<bool>& failed, const std::atomic<uint64_t>& moved)
{
    const auto start = std::chrono::steady_clock::now();
    std::mt19937 rng(1000 + index);
    std::vector<TrackedBuffer> own;
    uint32_t nextSeed = index * 100000;
    for (int iteration = 0; KeepWorking(iteration, kIterations, moved, start) && !failed.load(); ++iteration)
    {
        const int count = std::uniform_int_distribution<int>(1, 2)(rng);
        for (int i = 0; i < count; ++i)
        {
            TrackedBuffer b;
            const VkDeviceSize size = std::uniform_int_distribution<VkDeviceSize>(256, 64 * 1024)(rng);
            if (!KeepOrStop(allocator, CreateFilledBuffer(allocator, size, ++nextSeed, b), b, own, failed))
                break;
        }
        for (const TrackedBuffer& b : own)
            EXPECT_TRUE(CheckIntact(allocator, b, checks, failed))
                << "worker " << index << ", iteration " << iteration;
        while (own.size() > 4)
        {
            const size_t victim = std::uniform_int_distribution<size_t>(0, own.size() - 1)(rng);
            Destroy(allocator, own[victim]);
            own.erase(own.begin() + static_cast<std::ptrdiff_t>(victim));
        }
    }
    for (const TrackedBuffer& b : own)
    {
        EXPECT_TRUE(HoldsPattern(allocator, b)) << "worker " << index << " at the end";
        Destroy(allocator, b);
    }
}

/// A worker with images (the image pools; the staging buffers live in the default pools).
void ImageWorker(MemoryAllocator& allocator, std::atomic<uint64_t>& checks, std::atomic<bool>& failed,
                 const std::atomic<uint64_t>& moved)
{
    const auto start = std::chrono::steady_clock::now();
    std::mt19937 rng(77);
    std::vector<TrackedImage> own;
    uint32_t nextSeed = 900000;
    for (int iteration = 0; KeepWorking(iteration, kIterations / 2, moved, start) && !failed.load();
         ++iteration)
    {
        TrackedImage im;
        const uint32_t side = 16u << std::uniform_int_distribution<uint32_t>(0, 2)(rng);
        if (!KeepOrStop(allocator, CreateFilledImage(allocator, side, side, ++nextSeed, im), im, own, failed))
            break;
        for (const TrackedImage& i : own)
            EXPECT_TRUE(CheckIntact(allocator, i, checks, failed)) << "image worker, iteration " << iteration;
        if (own.size() > 3)
        {
            Destroy(allocator, own.front());
            own.erase(own.begin());
        }
    }
    for (const TrackedImage& i : own)
    {
        EXPECT_TRUE(HoldsPattern(allocator, i)) << "image worker at the end";
        Destroy(allocator, i);
    }
}

// Regressions this test guards against: an upload or readback on a worker that races a pass used to
// reach the moved allocation's old buffer (see TransferRacingAPass below); and a staging buffer
// released by a worker used to be freed while a pass on the default pools had it among its proposed
// moves, the use-after-free of VMA issue #313 (ThreadSanitizer saw it now and then). Transfers now
// hold the transfer lock until their copy is done, and passes take it exclusively.
TEST_P(DefragmentationConcurrency, DefragmentsWhileOtherThreadsAllocateUploadReadBackAndFree)
{
    auto defragAllocator = CreateRef<MemoryAllocator>("DefragThread");
    std::atomic<bool> workersDone{false};
    std::atomic<uint64_t> checks{0};
    std::atomic<uint64_t> notices{0};
    std::atomic<bool> failed{false}; // a worker saw a failure: all stop early
    const uint64_t callback = MemoryAllocator::AddRelocationCallback(
        [&](const RelocationNotice&) { notices.fetch_add(1, std::memory_order_relaxed); });

    // Three small-pool blocks with a quarter of their buffers left: the first sessions have moves to
    // make whatever the workers' timing (under ASan's slow allocation the workers alone fragmented
    // too little for a session to move anything).
    std::vector<TrackedBuffer> survivors;
    for (uint32_t i = 0; i < 160; ++i)
    {
        TrackedBuffer b;
        ASSERT_TRUE(CreateFilledBuffer(Allocator(), 64 * 1024, 5000000 + i, b));
        if (i % 4 == 0)
            survivors.push_back(b);
        else
            Destroy(Allocator(), b);
    }

    uint64_t sessions = 0;
    std::atomic<uint64_t> moved{0};
    uint64_t steps = 0;
    std::thread defragmenter(
        [&]
        {
            while (!workersDone.load())
            {
                // Alternate all-at-once sessions and incremental ones.
                DefragmentationOptions options;
                const bool incremental = sessions % 2 == 1;
                if (incremental)
                    options.maxAllocationsPerPass = 3;
                if (!defragAllocator->BeginDefragmentation(options))
                {
                    ADD_FAILURE() << "BeginDefragmentation failed";
                    return;
                }
                defragAllocator->MarkAllForDefragmentation();
                if (incremental)
                    while (defragAllocator->DefragmentStep())
                        ++steps;
                const DefragmentationStats stats = defragAllocator->EndDefragmentation();
                EXPECT_EQ(stats.movesFailed, 0u);
                moved += stats.allocationsMoved;
                ++sessions;
                std::this_thread::yield();
            }
        });

    std::vector<std::thread> workers;
    for (uint32_t i = 0; i < kBufferWorkers; ++i)
        workers.emplace_back([&, i] { BufferWorker(Allocator(), i, checks, failed, moved); });
    workers.emplace_back([&] { ImageWorker(Allocator(), checks, failed, moved); });
    for (std::thread& t : workers)
        t.join();
    workersDone.store(true);
    defragmenter.join();
    EXPECT_TRUE(MemoryAllocator::RemoveRelocationCallback(callback));
    for (const TrackedBuffer& b : survivors)
    {
        EXPECT_TRUE(HoldsPattern(Allocator(), b)) << "a pre-fragmented buffer";
        Destroy(Allocator(), b);
    }

    std::printf(
        "%llu sessions (%llu incremental steps) moved %llu allocations while %llu contents were checked\n",
        static_cast<unsigned long long>(sessions), static_cast<unsigned long long>(steps),
        static_cast<unsigned long long>(moved.load()), static_cast<unsigned long long>(checks.load()));
    EXPECT_GT(sessions, 1u);
    EXPECT_GT(moved.load(), 0u) << "nothing moved: the test did not exercise moves under concurrency";
    EXPECT_EQ(notices.load(), moved.load());
    const AllocationStats stats = Allocator().GetStats();
    EXPECT_EQ(stats.tag.allocationCount, 0u);
    EXPECT_EQ(stats.tag.usedBytes, 0u);
    EXPECT_EQ(stats.tag.bufferCount, 0u);
    EXPECT_EQ(stats.tag.imageCount, 0u);
    EXPECT_EQ(stats.tag.totalAllocations, stats.tag.totalFrees);
    EXPECT_FALSE(MemoryAllocator::IsDefragmenting());
}

// The manager measures the exact fragmentation (a walk over VMA's detailed dump) on its thread while
// other threads allocate and free; nothing is uploaded here, so only allocation, free, the walk and
// the passes meet.
//
// Regressions this test guards against (ThreadSanitizer): the exact figure (a vmaBuildStatsString
// walk) used to race with allocation on the other threads: our vmaSetAllocationName and vmaSetPoolName
// calls, and VMA's own write of a new allocation's buffer usage after it is visible in its block.
// Creation now holds its thread's stripe of the walk guard, and the walk takes every stripe.
TEST_P(DefragmentationConcurrency, TheManagerMeasuresAndDefragmentsWhileOtherThreadsAllocateAndFree)
{
    DefragmentationPolicy policy;
    policy.fragmentationThreshold = 0.0f;
    policy.minInterval = std::chrono::steady_clock::duration::zero();
    policy.useExactFragmentation = true;
    policy.options.maxAllocationsPerPass = 4;
    auto manager = CreateRef<DefragmentationManager>(CreateRef<MemoryAllocator>("Manager"), policy);
    std::atomic<bool> workersDone{false};
    std::atomic<uint32_t> runs{0};
    uint64_t updates = 0;
    std::thread updater(
        [&]
        {
            auto now = std::chrono::steady_clock::now();
            while (!workersDone.load() || MemoryAllocator::IsDefragmenting())
            {
                if (manager->Update(now += std::chrono::milliseconds(16)))
                    runs.fetch_add(1);
                ++updates;
            }
        });
    // The workers go on until the manager has finished a few runs among them (or time is up).
    constexpr uint32_t kRuns = 3;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::vector<std::thread> workers;
    for (uint32_t w = 0; w < kBufferWorkers; ++w)
        workers.emplace_back(
            [&, w]
            {
                std::mt19937 rng(w);
                std::vector<TrackedBuffer> own;
                for (int i = 0; (i < kIterations * 2 || runs.load() < kRuns) &&
                                std::chrono::steady_clock::now() < deadline;
                     ++i)
                {
                    VkBuffer buffer = VK_NULL_HANDLE;
                    const VkDeviceSize size =
                        std::uniform_int_distribution<VkDeviceSize>(256, 64 * 1024)(rng);
                    VmaAllocation allocation = Allocator().AllocateBuffer(BufferInfo(size, kStorageUsage),
                                                                          VMA_MEMORY_USAGE_GPU_ONLY, buffer);
                    if (!allocation)
                    {
                        ADD_FAILURE() << "AllocateBuffer failed";
                        break;
                    }
                    own.push_back({allocation, buffer, size, 0});
                    if (own.size() > 6)
                    {
                        const size_t victim = std::uniform_int_distribution<size_t>(0, own.size() - 1)(rng);
                        Destroy(Allocator(), own[victim]);
                        own.erase(own.begin() + static_cast<std::ptrdiff_t>(victim));
                    }
                }
                DestroyAll(Allocator(), own);
            });
    for (std::thread& t : workers)
        t.join();
    workersDone.store(true);
    updater.join();
    std::printf("%llu updates, %u runs\n", static_cast<unsigned long long>(updates), manager->GetRunCount());
    EXPECT_GE(manager->GetRunCount(), kRuns);
    EXPECT_EQ(manager->GetRunCount(), runs.load());
    EXPECT_FALSE(MemoryAllocator::IsDefragmenting());
    EXPECT_EQ(Allocator().GetStats().tag.allocationCount, 0u);
}

// The two tests below pin down a race that the test above could show: an upload or readback that
// has looked up the allocation's buffer and has not yet submitted its copy when a pass on another
// thread moves the allocation. The test holds the queue lock so that the transfer waits at its
// submission with its buffer already recorded, and starts the pass meanwhile. The transfer holds the
// system's transfer lock from its lookup to the end of its copy, and a pass takes that lock
// exclusively, so the pass waits: the transfer reaches the buffer's current place and the move then
// carries its result along. (Before that lock existed, the upload wrote into the retired buffer and
// the readback read whatever had taken the old place.)
class TransferRacingAPass : public DefragmentationConcurrency
{
protected:
    /// [filler][target]: the filler goes, so the target moves down when it is defragmented.
    TrackedBuffer MakeMovableTarget(uint32_t seed)
    {
        TrackedBuffer filler, target;
        EXPECT_TRUE(CreateFilledBuffer(Allocator(), kSize, 1, filler));
        EXPECT_TRUE(CreateFilledBuffer(Allocator(), kSize, seed, target));
        Destroy(Allocator(), filler);
        return target;
    }

    /// Runs `transfer` on another thread and holds it at its submission (the queue is locked), then
    /// starts a defragmentation that moves `target` while the transfer waits. The rule under test: a
    /// pass waits for a transfer that has already looked its buffer up, so the transfer reaches the
    /// buffer's current place and the move carries its result along.
    bool RaceWithAMove(const TrackedBuffer& target, const std::function<bool()>& transfer,
                       const std::function<void()>& afterMove = {})
    {
        std::unique_lock queueLock(::SceneryEditorX::Test::Device()->GetQueueMutex());
        bool transferred = false;
        std::thread transferThread([&] { transferred = transfer(); });
        // Let the transfer look the buffer up and reach its submission, which waits for the queue.
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        DefragmentationStats stats;
        std::thread defragThread(
            [&]
            {
                EXPECT_TRUE(Allocator().BeginDefragmentation());
                EXPECT_TRUE(Allocator().MarkForDefragmentation(target.allocation));
                stats = Allocator().EndDefragmentation();
                if (afterMove)
                    afterMove();
            });
        // Let the pass start and wait for the transfer, then let the transfer submit.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        queueLock.unlock();
        transferThread.join();
        defragThread.join();
        EXPECT_EQ(stats.buffersMoved, 1u) << "the target should have moved";
        return transferred;
    }

    static constexpr VkDeviceSize kSize = 32 * 1024;
};

TEST_P(TransferRacingAPass, AnUploadThatRacesAMoveLandsInTheMovedBuffer)
{
    const TrackedBuffer target = MakeMovableTarget(10);
    const std::vector<uint8_t> newContents = MakePattern(11, kSize);
    EXPECT_TRUE(RaceWithAMove(
        target, [&] { return Allocator().UploadToBuffer(target.allocation, newContents.data(), kSize); }));
    EXPECT_NE(MemoryAllocator::GetBuffer(target.allocation), target.originalBuffer);
    TrackedBuffer expected = target;
    expected.seed = 11;
    EXPECT_TRUE(HoldsPattern(Allocator(), expected)) << "the upload that returned true is not in the buffer";
    Destroy(Allocator(), target);
}

TEST_P(TransferRacingAPass, AReadbackThatRacesAMoveReadsTheMovedBuffer)
{
    const TrackedBuffer target = MakeMovableTarget(20);
    std::vector<uint8_t> read(kSize);
    TrackedBuffer newcomer;
    // After the move, a new buffer takes the target's old place and is written.
    const auto allocateInTheOldPlace = [&]
    {
        VmaAllocation allocation = Allocator().AllocateBuffer(
            BufferInfo(kSize, kStorageUsage), VMA_MEMORY_USAGE_GPU_ONLY, newcomer.originalBuffer);
        ASSERT_TRUE(allocation);
        newcomer.allocation = allocation;
        newcomer.size = kSize;
        // Written through staging: GPU_ONLY memory is not host-visible on a discrete GPU.
        const std::vector<uint8_t> fill(kSize, uint8_t{0xC3});
        EXPECT_TRUE(Allocator().UploadToBuffer(allocation, fill.data(), kSize));
    };
    EXPECT_TRUE(RaceWithAMove(
        target, [&] { return Allocator().ReadbackBuffer(target.allocation, read.data(), kSize); },
        allocateInTheOldPlace));
    const std::vector<uint8_t> expected = MakePattern(20, kSize);
    const size_t newcomerBytes = static_cast<size_t>(std::count(read.begin(), read.end(), uint8_t{0xC3}));
    EXPECT_TRUE(read == expected) << "the readback returned other bytes than the buffer's: " << newcomerBytes
                                  << " of " << kSize << " are 0xC3, the newcomer's in the old place";
    Destroy(Allocator(), target);
    if (newcomer.allocation)
        Destroy(Allocator(), newcomer);
}

INSTANTIATE_TEST_SUITE_P(CopyPaths, TransferRacingAPass, ::testing::ValuesIn(kCopyPaths), CopyPathName);

INSTANTIATE_TEST_SUITE_P(CopyPaths, DefragmentationConcurrency, ::testing::ValuesIn(kCopyPaths),
                         CopyPathName);

} // namespace
} // namespace SceneryEditorX
