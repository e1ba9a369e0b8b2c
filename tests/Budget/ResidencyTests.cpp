// The budget acts (issue 16): evictable registrations and the order of an eviction round, a
// WithinBudget | MakeRoom allocation that fails, gets its room from holders and succeeds in the frame
// the round names, a holder that refuses, and a budget that falls at run time. Lavapipe has no
// VK_EXT_memory_budget: AllocatorSettings::simulateMemoryBudget presents one to VMA through the
// allocator's Vulkan function table, so that the budget is exact and can be lowered.
#include "MemoryTestSupport.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace SceneryEditorX
{
namespace
{
using namespace ::SceneryEditorX::Test;

constexpr VkDeviceSize kBlock = 4 * MiB;

class ResidencyTest : public AllocatorTest
{
protected:
    AllocatorSettings Settings() const override
    {
        AllocatorSettings settings;
        settings.simulateMemoryBudget = true;
        settings.deviceMemoryCallback = [this](uint32_t heap, uint32_t, VkDeviceSize size, bool allocated)
        {
            std::lock_guard lock(m_DeviceMemoryMutex);
            m_DeviceMemory[heap] += allocated ? static_cast<int64_t>(size) : -static_cast<int64_t>(size);
        };
        return settings;
    }

    void SetUp() override
    {
        AllocatorTest::SetUp();
        Buffer probe = MakeDedicated(kBlock);
        ASSERT_NE(probe.allocation, nullptr);
        m_Heap = static_cast<uint32_t>(MemoryAllocator::GetHeapIndex(probe.allocation));
        Destroy(probe);
    }

    /// A buffer in its own VkDeviceMemory, so that the heap's usage moves by exactly its size.
    /// DEVICE_LOCAL is required, not only preferred: where a device has more than one heap (the
    /// NVIDIA GPUs of docs/GPU.md), VMA answers a WithinBudget request that the device-local heap
    /// cannot take by trying the next memory type the request allows, and GPU_ONLY alone allows the
    /// host heap. The budget under test is the device-local heap's.
    Buffer MakeDedicated(VkDeviceSize size, AllocationFlags extra = AllocationFlags::None)
    {
        AllocationCreateInfo info = CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY, AllocationFlags::Dedicated | extra);
        info.requiredFlags = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
        Buffer b;
        b.allocation = Alloc().AllocateBuffer(BufferInfo(size), info, b.buffer);
        if (b.allocation && m_Heap != UINT32_MAX)
        {
            EXPECT_EQ(static_cast<uint32_t>(MemoryAllocator::GetHeapIndex(b.allocation)), m_Heap);
        }
        return b;
    }

    /// Advances one frame (VMA fetches the budget again).
    uint64_t NextFrame()
    {
        const uint64_t frame = MemoryAllocator::GetCurrentFrameIndex() + 1;
        EXPECT_TRUE(MemoryAllocator::SetCurrentFrameIndex(frame));
        return frame;
    }

    HeapBudget Heap() { return MemoryAllocator::GetHeapBudgets().at(m_Heap); }

    /// Sets the heap's budget to its usage now plus `room`, and fetches it.
    void BudgetWithRoom(VkDeviceSize room)
    {
        NextFrame();
        ASSERT_TRUE(MemoryAllocator::SetSimulatedHeapBudget(m_Heap, Heap().usageBytes + room));
        NextFrame();
        ASSERT_EQ(Heap().budgetBytes, Heap().usageBytes + room);
    }

    uint32_t m_Heap = UINT32_MAX; // set by SetUp from a probe
    mutable std::mutex m_DeviceMemoryMutex;
    mutable std::map<uint32_t, int64_t> m_DeviceMemory;
};

TEST_F(ResidencyTest, EvictionOrderFollowsRankThenAgeThenRegistration)
{
    // name, rank, last-used frame
    struct Spec
    {
        const char* name;
        uint32_t rank;
        uint64_t lastUsed;
    };
    const std::vector<Spec> specs = {{"A", 1, 5}, {"B", 0, 8}, {"C", 0, 3}, {"D", 1, 2}, {"E", 0, 3}};
    // Registered in frame 0 with a rank of 7 or 8; ranks and last-used frames set afterwards.
    std::vector<Buffer> buffers;
    std::vector<std::string> asked;
    std::vector<uint64_t> ids;
    for (const Spec& spec : specs)
    {
        buffers.push_back(MakeDedicated(kBlock));
        ASSERT_NE(buffers.back().allocation, nullptr);
        const uint64_t id = MemoryAllocator::RegisterEvictable(
            buffers.back().allocation, spec.rank + 7,
            [&asked, name = std::string(spec.name)](const EvictionRequest&)
            {
                asked.push_back(name);
                return EvictionResponse{}; // refuses: every owner is asked, in order
            });
        ASSERT_NE(id, 0u);
        ids.push_back(id);
    }
    for (int i = 0; i < 10; ++i)
        NextFrame();
    for (size_t i = 0; i < specs.size(); ++i)
    {
        ASSERT_TRUE(MemoryAllocator::SetEvictableRank(ids[i], specs[i].rank));
        ASSERT_TRUE(MemoryAllocator::TouchEvictable(ids[i], specs[i].lastUsed));
    }
    // A touch never moves a resource back in time.
    for (uint64_t id : ids)
        ASSERT_TRUE(MemoryAllocator::TouchEvictable(id, 1));

    const EvictionRound round = MemoryAllocator::MakeRoom(m_Heap, 64 * MiB);
    EXPECT_EQ(asked, (std::vector<std::string>{"C", "E", "B", "D", "A"}));
    EXPECT_EQ(round.ownersAsked, 5u);
    EXPECT_EQ(round.ownersRefused, 5u);
    EXPECT_FALSE(round.satisfied);
    EXPECT_EQ(MemoryAllocator::GetEvictableCount(), 5u); // refusals keep their registrations

    // A rank limit leaves the more valuable alone.
    asked.clear();
    MemoryAllocator::MakeRoom(m_Heap, 64 * MiB, 0);
    EXPECT_EQ(asked, (std::vector<std::string>{"C", "E", "B"}));

    for (uint64_t id : ids)
        EXPECT_TRUE(MemoryAllocator::UnregisterEvictable(id));
    for (const Buffer& b : buffers)
        Destroy(b);
}

TEST_F(ResidencyTest, RoundStopsOnceEnoughCameBackAndEndsThoseRegistrations)
{
    std::vector<Buffer> buffers(4);
    std::vector<bool> released(4, false);
    for (size_t i = 0; i < buffers.size(); ++i)
    {
        buffers[i] = MakeDedicated(kBlock);
        ASSERT_NE(buffers[i].allocation, nullptr);
        ASSERT_NE(MemoryAllocator::RegisterEvictable(buffers[i].allocation, 0,
                                                     [&, i](const EvictionRequest& request)
                                                     {
                                                         EXPECT_EQ(request.allocation, buffers[i].allocation);
                                                         EXPECT_TRUE(Alloc().DestroyBuffer(
                                                             buffers[i].buffer, buffers[i].allocation));
                                                         released[i] = true;
                                                         return EvictionResponse{kBlock, false};
                                                     }),
                  0u);
    }
    const uint64_t before = static_cast<uint64_t>(m_DeviceMemory[m_Heap]);
    const EvictionRound round = MemoryAllocator::MakeRoom(m_Heap, kBlock + 1);
    EXPECT_TRUE(round.satisfied);
    EXPECT_EQ(round.ownersReleased, 2u);
    EXPECT_EQ(round.bytesReleased, 2 * kBlock);
    EXPECT_EQ(round.readyFrame, round.frame); // released now
    EXPECT_EQ(released, (std::vector<bool>{true, true, false, false}));
    EXPECT_EQ(MemoryAllocator::GetEvictableCount(), 2u);
    // The device-memory callback saw both dedicated blocks go.
    EXPECT_EQ(static_cast<uint64_t>(m_DeviceMemory[m_Heap]), before - 2 * kBlock);
    EXPECT_EQ(static_cast<uint64_t>(m_DeviceMemory[m_Heap]), Heap().blockBytes);
    for (size_t i = 2; i < buffers.size(); ++i)
        Destroy(buffers[i]);
}

TEST_F(ResidencyTest, WithinBudgetAllocationSucceedsInTheFrameTheRoundNames)
{
    ASSERT_NO_FATAL_FAILURE(BudgetWithRoom(2 * kBlock + kBlock / 2));
    std::vector<Buffer> held;
    std::vector<uint64_t> ids;
    for (int i = 0; i < 2; ++i)
    {
        held.push_back(MakeDedicated(kBlock, AllocationFlags::WithinBudget));
        ASSERT_NE(held.back().allocation, nullptr);
        // The holder releases with a deferred destroy: the GPU may still read the resource.
        ids.push_back(MemoryAllocator::RegisterEvictable(held.back().allocation, 0,
                                                         [this, b = held.back()](const EvictionRequest&)
                                                         {
                                                             EXPECT_TRUE(Alloc().DestroyBufferDeferred(
                                                                 b.buffer, b.allocation));
                                                             return EvictionResponse{kBlock, true};
                                                         }));
        ASSERT_NE(ids.back(), 0u);
    }
    const uint64_t frame = MemoryAllocator::GetCurrentFrameIndex();
    const uint32_t framesInFlight = MemoryAllocator::GetSettings().framesInFlight;
    {
        LogCapture capture;
        Buffer third = MakeDedicated(kBlock, AllocationFlags::WithinBudget | AllocationFlags::MakeRoom);
        EXPECT_EQ(third.allocation, nullptr);
        EXPECT_TRUE(OneAllocatorError(capture, fmt::format("back in frame {}", frame + framesInFlight)))
            << Describe(capture);
    }
    const EvictionRound round = MemoryAllocator::GetLastEvictionRound();
    EXPECT_EQ(round.reason, PressureReason::AllocationFailed);
    EXPECT_EQ(round.frame, frame);
    EXPECT_EQ(round.readyFrame, frame + framesInFlight);
    EXPECT_EQ(round.ownersReleased, 1u); // one block was enough
    EXPECT_TRUE(round.satisfied);

    // Until the named frame the memory is not back: the request still fails.
    for (uint64_t f = frame + 1; f < round.readyFrame; ++f)
    {
        ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(f));
        LogCapture capture;
        Buffer early = MakeDedicated(kBlock, AllocationFlags::WithinBudget);
        EXPECT_EQ(early.allocation, nullptr) << "frame " << f;
    }
    ASSERT_TRUE(MemoryAllocator::SetCurrentFrameIndex(round.readyFrame));
    Buffer third = MakeDedicated(kBlock, AllocationFlags::WithinBudget);
    ASSERT_NE(third.allocation, nullptr);
    EXPECT_LE(Heap().usageBytes, Heap().budgetBytes);
    Destroy(third);
    EXPECT_EQ(MemoryAllocator::GetEvictableCount(), 1u);
    EXPECT_TRUE(MemoryAllocator::UnregisterEvictable(ids[1])); // the one nobody evicted
    Destroy(held[1]);
}

TEST_F(ResidencyTest, ReleasedNowTheSameCallSucceeds)
{
    ASSERT_NO_FATAL_FAILURE(BudgetWithRoom(kBlock + kBlock / 2));
    Buffer held = MakeDedicated(kBlock, AllocationFlags::WithinBudget);
    ASSERT_NE(held.allocation, nullptr);
    ASSERT_NE(MemoryAllocator::RegisterEvictable(held.allocation, 0,
                                                 [&](const EvictionRequest& request)
                                                 {
                                                     EXPECT_EQ(request.heapIndex, m_Heap);
                                                     EXPECT_GE(request.bytesWanted, kBlock);
                                                     EXPECT_TRUE(
                                                         Alloc().DestroyBuffer(held.buffer, held.allocation));
                                                     return EvictionResponse{kBlock, false};
                                                 }),
              0u);
    LogCapture capture;
    Buffer second = MakeDedicated(kBlock, AllocationFlags::WithinBudget | AllocationFlags::MakeRoom);
    ASSERT_NE(second.allocation, nullptr);
    EXPECT_TRUE(NoErrors(capture)) << Describe(capture);
    EXPECT_EQ(MemoryAllocator::GetLastEvictionRound().readyFrame, MemoryAllocator::GetCurrentFrameIndex());
    EXPECT_EQ(MemoryAllocator::GetEvictableCount(), 0u);
    Destroy(second);
}

TEST_F(ResidencyTest, HolderThatRefusesLeavesTheRequestFailingCleanly)
{
    ASSERT_NO_FATAL_FAILURE(BudgetWithRoom(2 * kBlock + kBlock / 2));
    std::vector<Buffer> held;
    int asked = 0;
    for (int i = 0; i < 2; ++i)
    {
        held.push_back(MakeDedicated(kBlock, AllocationFlags::WithinBudget));
        ASSERT_NE(held.back().allocation, nullptr);
        ASSERT_NE(MemoryAllocator::RegisterEvictable(held.back().allocation, 0,
                                                     [&](const EvictionRequest&)
                                                     {
                                                         ++asked;
                                                         return EvictionResponse{};
                                                     }),
                  0u);
    }
    const CounterSnapshot before = Snapshot(Alloc());
    LogCapture capture;
    Buffer third = MakeDedicated(kBlock, AllocationFlags::WithinBudget | AllocationFlags::MakeRoom);
    EXPECT_EQ(third.allocation, nullptr);
    EXPECT_EQ(third.buffer, VK_NULL_HANDLE);
    EXPECT_TRUE(OneAllocatorError(capture, "2 owners refused")) << Describe(capture);
    EXPECT_TRUE(SameCounters(before, Snapshot(Alloc())));
    EXPECT_EQ(asked, 2);
    EXPECT_EQ(MemoryAllocator::GetEvictableCount(), 2u);
    EXPECT_FALSE(MemoryAllocator::GetLastEvictionRound().satisfied);
    for (const Buffer& b : held)
        Destroy(b);
}

TEST_F(ResidencyTest, BudgetThatFallsIsAnswered)
{
    ASSERT_NO_FATAL_FAILURE(BudgetWithRoom(16 * MiB));
    std::vector<Buffer> held(3);
    std::vector<EvictionRequest> requests;
    for (size_t i = 0; i < held.size(); ++i)
    {
        held[i] = MakeDedicated(kBlock, AllocationFlags::WithinBudget);
        ASSERT_NE(held[i].allocation, nullptr);
        ASSERT_NE(MemoryAllocator::RegisterEvictable(held[i].allocation, 0,
                                                     [&, i](const EvictionRequest& request)
                                                     {
                                                         requests.push_back(request);
                                                         EXPECT_TRUE(Alloc().DestroyBuffer(
                                                             held[i].buffer, held[i].allocation));
                                                         held[i] = {};
                                                         return EvictionResponse{kBlock, false};
                                                     }),
                  0u);
    }
    // The budget falls to 1.5 blocks above the usage before the three: 1.5 blocks must go, two owners.
    const VkDeviceSize usage = Heap().usageBytes;
    ASSERT_TRUE(MemoryAllocator::SetSimulatedHeapBudget(m_Heap, usage - 3 * kBlock + kBlock + kBlock / 2));
    const uint64_t frame = NextFrame();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(requests[0].reason, PressureReason::BudgetFell);
    EXPECT_EQ(requests[0].heapIndex, m_Heap);
    EXPECT_EQ(requests[0].frame, frame);
    EXPECT_EQ(requests[0].bytesWanted, kBlock + kBlock / 2);
    EXPECT_EQ(requests[1].bytesWanted, kBlock / 2);
    const EvictionRound round = MemoryAllocator::GetLastEvictionRound();
    EXPECT_EQ(round.reason, PressureReason::BudgetFell);
    EXPECT_TRUE(round.satisfied);
    EXPECT_LE(Heap().usageBytes, Heap().budgetBytes);
    // The next frame finds the usage within the budget: no new round.
    NextFrame();
    EXPECT_EQ(requests.size(), 2u);
    for (const Buffer& b : held)
        if (b.allocation)
            Destroy(b);
}

// A free never starts an eviction round: the owners' callbacks would run inside a destroy call, as
// in a destructor that is erasing from its owner's own containers (the demo's tile map crashed so).
// Instance A last saw usage below its threshold; B's allocations push usage above it and B's
// crossing asks the owners. A's free then used to read as A's own crossing and ask them again, from
// inside DestroyBuffer. A's next allocation is where A's crossing starts its round.
TEST_F(ResidencyTest, AFreeNeverStartsARound)
{
    const VkDeviceSize small = 64 * KiB;
    ASSERT_NO_FATAL_FAILURE(BudgetWithRoom(4 * kBlock));
    const VkDeviceSize usage = Heap().usageBytes;
    const float threshold = static_cast<float>(static_cast<double>(usage + 2 * kBlock + kBlock / 2) /
                                               static_cast<double>(usage + 4 * kBlock));
    MemoryAllocator other("OtherInstance");
    ASSERT_TRUE(Alloc().SetMemoryUsageWarningThreshold(threshold));
    ASSERT_TRUE(other.SetMemoryUsageWarningThreshold(threshold));

    Buffer held = MakeDedicated(kBlock);
    Buffer freedLater = MakeDedicated(small);
    ASSERT_NE(held.allocation, nullptr);
    ASSERT_NE(freedLater.allocation, nullptr);
    ASSERT_FALSE(Alloc().GetMemoryBudget().isAboveWarningThreshold);
    int asked = 0;
    const uint64_t id = MemoryAllocator::RegisterEvictable(held.allocation, 0,
                                                           [&](const EvictionRequest&)
                                                           {
                                                               ++asked;
                                                               return EvictionResponse{}; // refuses
                                                           });
    ASSERT_NE(id, 0u);

    std::vector<Buffer> pushed(2);
    for (Buffer& b : pushed)
    {
        b.allocation = other.AllocateBuffer(
            BufferInfo(kBlock), CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY, AllocationFlags::Dedicated), b.buffer);
        ASSERT_NE(b.allocation, nullptr);
    }
    ASSERT_EQ(asked, 1) << "B's crossing asks the owners";
    ASSERT_EQ(MemoryAllocator::GetLastEvictionRound().reason, PressureReason::Threshold);

    ASSERT_TRUE(Alloc().DestroyBuffer(freedLater.buffer, freedLater.allocation));
    EXPECT_EQ(asked, 1) << "A's free asked the owners";

    Buffer after = MakeDedicated(small);
    ASSERT_NE(after.allocation, nullptr);
    EXPECT_EQ(asked, 2) << "A's allocation above the threshold is A's crossing";

    EXPECT_TRUE(MemoryAllocator::UnregisterEvictable(id));
    Destroy(after);
    Destroy(held);
    for (const Buffer& b : pushed)
        EXPECT_TRUE(other.DestroyBuffer(b.buffer, b.allocation));
}

// A round empties the library's caches on every heap but counts only the room made on its own. On a
// device with a host heap the staging buffers live there: counted, they satisfied a device-local
// round that made no device-local room, and its owners were never asked (the H100 run of
// docs/GPU.md). Lavapipe has one heap, where staging shares the budget's heap: skipped there.
TEST_F(ResidencyTest, CacheBytesOfAnotherHeapMakeNoRoomOnThisOne)
{
    Buffer target = MakeDedicated(256 * KiB);
    ASSERT_NE(target.allocation, nullptr);
    MemoryAllocator::ReleaseEmptyBlocks();
    const std::vector<HeapBudget> before = MemoryAllocator::GetHeapBudgets();
    const std::vector<uint8_t> data(256 * KiB, 0x3C);
    ASSERT_TRUE(Alloc().UploadToBuffer(target.allocation, data.data(), data.size()));
    const std::vector<HeapBudget> staged = MemoryAllocator::GetHeapBudgets();
    int stagingHeap = -1;
    for (size_t h = 0; h < staged.size(); ++h)
        if (staged[h].allocationBytes > before[h].allocationBytes)
            stagingHeap = static_cast<int>(h);
    ASSERT_GE(stagingHeap, 0) << "the upload kept its staging buffer";
    EXPECT_EQ(MemoryAllocator::GetStagingHeapIndex(), stagingHeap) << "where the staging buffer went";
    if (static_cast<uint32_t>(stagingHeap) == m_Heap)
    {
        Destroy(target);
        GTEST_SKIP() << "staging buffers share heap " << m_Heap << " here (one heap)";
    }
    const EvictionRound round = MemoryAllocator::MakeRoom(m_Heap, 1 * MiB);
    EXPECT_EQ(round.cacheBytesReleased, 0u) << "the staging cache is in heap " << stagingHeap;
    EXPECT_FALSE(round.satisfied);
    EXPECT_LT(MemoryAllocator::GetHeapBudgets()[stagingHeap].allocationBytes,
              staged[stagingHeap].allocationBytes)
        << "the round emptied the staging cache all the same";
    Destroy(target);
}

TEST_F(ResidencyTest, BadArgumentsFailWithOneErrorLine)
{
    Buffer b = MakeDedicated(kBlock);
    ASSERT_NE(b.allocation, nullptr);
    const std::vector<RefusedCall> calls = {
        {"RegisterEvictable(null)",
         []
         {
             return MemoryAllocator::RegisterEvictable(
                        nullptr, 0, [](const EvictionRequest&) { return EvictionResponse{}; }) == 0;
         }},
        {"RegisterEvictable(empty callback)",
         [&]
         {
             return MemoryAllocator::RegisterEvictable(b.allocation, 0, {}) == 0;
         }},
        {"TouchEvictable(unknown)",
         []
         {
             return !MemoryAllocator::TouchEvictable(12345678, 1);
         }},
        {"SetEvictableRank(unknown)",
         []
         {
             return !MemoryAllocator::SetEvictableRank(12345678, 1);
         }},
        {"UnregisterEvictable(unknown)",
         []
         {
             return !MemoryAllocator::UnregisterEvictable(12345678);
         }},
        {"MakeRoom(bad heap)",
         []
         {
             return MemoryAllocator::MakeRoom(VK_MAX_MEMORY_HEAPS, 1).ownersAsked == 0;
         }},
        {"GetHeapIndex(null)",
         []
         {
             return MemoryAllocator::GetHeapIndex(nullptr) == -1;
         }},
        {"SetSimulatedHeapBudget(bad heap)",
         []
         {
             return !MemoryAllocator::SetSimulatedHeapBudget(VK_MAX_MEMORY_HEAPS, 1);
         }},
    };
    for (const RefusedCall& call : calls)
    {
        LogCapture capture;
        EXPECT_TRUE(call.failedCleanly()) << call.name;
        EXPECT_TRUE(OneAllocatorError(capture)) << call.name << ": " << Describe(capture);
    }
    EXPECT_EQ(MemoryAllocator::GetEvictableCount(), 0u);
    Destroy(b);
    LogCapture capture;
    EXPECT_EQ(MemoryAllocator::GetHeapIndex(b.allocation), -1); // no longer live
    EXPECT_TRUE(OneAllocatorError(capture, "not live")) << Describe(capture);
}

} // namespace
} // namespace SceneryEditorX
