// Allocation and eviction on many threads at once (issue 16), also under ThreadSanitizer: workers
// allocate with WithinBudget | MakeRoom under a simulated budget, register what they hold as
// evictable, touch it, and destroy it themselves, while their allocations' rounds ask the other
// workers' resources to go and the frame loop advances. Each owner guards its resource with its own
// mutex, as the protocol asks: the callback and the owner's own destroy never both destroy it.
#include "MemoryTestSupport.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace SceneryEditorX
{
namespace
{
using namespace ::SceneryEditorX::Test;

constexpr int kWorkers = 6;
#if defined(__SANITIZE_THREAD__)
constexpr int kIterations = 150;
#else
constexpr int kIterations = 600;
#endif
constexpr VkDeviceSize kSize = 1 * MiB;

struct Held
{
    std::mutex mutex;
    Buffer buffer;
    uint64_t id = 0;
    bool released = false; // by a round (the callback) or by its owner
};

class ResidencyConcurrencyTest : public AllocatorTest
{
protected:
    AllocatorSettings Settings() const override
    {
        AllocatorSettings settings;
        settings.simulateMemoryBudget = true;
        return settings;
    }
};

TEST_F(ResidencyConcurrencyTest, AllocationAndEvictionOnManyThreads)
{
    // Room for about half of what the workers would hold without eviction.
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(1));
    const HeapBudget start = MemoryAllocator::GetHeapBudgets().at(0);
    ASSERT_TRUE(MemoryAllocator::SetSimulatedHeapBudget(0, start.usageBytes + kWorkers * 4 * kSize));
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(2));

    std::atomic<bool> stop{false};
    std::atomic<uint64_t> evicted{0}, allocated{0}, failed{0};
    std::thread frames(
        [&]
        {
            uint64_t frame = 2;
            while (!stop.load())
            {
                MemoryAllocator::SetCurrentFrameIndex(++frame);
                std::this_thread::sleep_for(std::chrono::microseconds(200));
            }
        });
    std::vector<std::thread> workers;
    for (int w = 0; w < kWorkers; ++w)
        workers.emplace_back(
            [&, w]
            {
                std::mt19937 rng(static_cast<uint32_t>(w));
                std::vector<std::shared_ptr<Held>> mine;
                auto releaseOwn = [&](const std::shared_ptr<Held>& held)
                {
                    std::lock_guard lock(held->mutex);
                    if (held->released)
                        return;
                    MemoryAllocator::UnregisterEvictable(held->id);
                    EXPECT_TRUE(Alloc().DestroyBuffer(held->buffer.buffer, held->buffer.allocation));
                    held->released = true;
                };
                for (int i = 0; i < kIterations; ++i)
                {
                    auto held = std::make_shared<Held>();
                    {
                        std::lock_guard lock(held->mutex); // a round may ask before we returned
                        held->buffer.allocation = Alloc().AllocateBuffer(
                            BufferInfo(kSize),
                            CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY, AllocationFlags::Dedicated |
                                                                      AllocationFlags::WithinBudget |
                                                                      AllocationFlags::MakeRoom),
                            held->buffer.buffer);
                        if (!held->buffer.allocation)
                        {
                            ++failed;
                            continue;
                        }
                        ++allocated;
                        held->id = MemoryAllocator::RegisterEvictable(
                            held->buffer.allocation, static_cast<uint32_t>(rng() % 3),
                            [this, weak = std::weak_ptr<Held>(held), &evicted](const EvictionRequest&)
                            {
                                std::shared_ptr<Held> h = weak.lock();
                                if (!h)
                                    return EvictionResponse{};
                                std::unique_lock ownerLock(h->mutex, std::try_to_lock);
                                if (!ownerLock.owns_lock() || h->released)
                                    return EvictionResponse{}; // its owner is busy with it: refused
                                EXPECT_TRUE(Alloc().DestroyBuffer(h->buffer.buffer, h->buffer.allocation));
                                h->released = true;
                                ++evicted;
                                return EvictionResponse{kSize, false};
                            });
                        EXPECT_NE(held->id, 0u);
                    }
                    mine.push_back(held);
                    if (rng() % 4 == 0)
                    {
                        // Under its owner's lock: a resource that a round released is not touched.
                        const std::shared_ptr<Held>& h = mine[rng() % mine.size()];
                        std::lock_guard ownerLock(h->mutex);
                        if (!h->released)
                        {
                            EXPECT_TRUE(MemoryAllocator::TouchEvictable(
                                h->id, MemoryAllocator::GetCurrentFrameIndex()));
                        }
                    }
                    if (mine.size() > 8)
                    {
                        releaseOwn(mine.front());
                        mine.erase(mine.begin());
                    }
                }
                for (const auto& held : mine)
                    releaseOwn(held);
            });
    for (auto& t : workers)
        t.join();
    stop = true;
    frames.join();
    EXPECT_GT(allocated.load(), 0u);
    EXPECT_GT(evicted.load(), 0u) << "the budget never made a round ask an owner";
    EXPECT_EQ(MemoryAllocator::GetEvictableCount(), 0u);
    std::printf(
        "allocated %llu, evicted %llu, failed %llu\n", static_cast<unsigned long long>(allocated.load()),
        static_cast<unsigned long long>(evicted.load()), static_cast<unsigned long long>(failed.load()));
}

} // namespace
} // namespace SceneryEditorX
