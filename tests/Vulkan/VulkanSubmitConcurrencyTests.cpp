// Every submission goes through VulkanDevice's queue lock: several threads submit at once and all of
// their work lands, validation-clean (the layer's thread checks would report unsynchronized queue use).
#include "Support/TestEnvironment.h"
#include "Testing/Builders.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

namespace SceneryEditorX
{
namespace
{
using ::SceneryEditorX::Test::BufferInfo;
using ::SceneryEditorX::Test::DeviceTest;
using ::SceneryEditorX::Test::FindMemoryType;

constexpr int kThreads = 8;

/// A buffer bound to host-visible memory of its own, made with raw Vulkan calls.
struct HostBuffer
{
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    uint32_t* mapped = nullptr;
    VkDeviceSize size = 0;
    bool coherent = false;
};

class SubmitConcurrency : public DeviceTest
{
protected:
    void SetUp() override
    {
        DeviceTest::SetUp();
        if (HasFatalFailure())
            return;
        const VkBufferCreateInfo info = BufferInfo(4, VK_BUFFER_USAGE_TRANSFER_DST_BIT);
        VkBuffer probe = VK_NULL_HANDLE;
        ASSERT_EQ(vkCreateBuffer(GetVkDevice(), &info, nullptr, &probe), VK_SUCCESS);
        VkMemoryRequirements requirements{};
        vkGetBufferMemoryRequirements(GetVkDevice(), probe, &requirements);
        vkDestroyBuffer(GetVkDevice(), probe, nullptr);
        if (!FindMemoryType(GetDevice().GetMemoryProperties(), requirements.memoryTypeBits,
                            VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
            GTEST_SKIP() << "the device has no host-visible memory type for transfer buffers";
    }

    void TearDown() override
    {
        for (HostBuffer& b : m_Buffers)
        {
            if (b.mapped)
                vkUnmapMemory(GetVkDevice(), b.memory);
            vkDestroyBuffer(GetVkDevice(), b.buffer, nullptr);
            vkFreeMemory(GetVkDevice(), b.memory, nullptr);
        }
        m_Buffers.clear();
    }

    HostBuffer* CreateHostBuffer(VkDeviceSize size)
    {
        HostBuffer& b = m_Buffers.emplace_back();
        b.size = size;
        const VkBufferCreateInfo info = BufferInfo(size, VK_BUFFER_USAGE_TRANSFER_DST_BIT);
        if (vkCreateBuffer(GetVkDevice(), &info, nullptr, &b.buffer) != VK_SUCCESS)
            return nullptr;
        VkMemoryRequirements requirements{};
        vkGetBufferMemoryRequirements(GetVkDevice(), b.buffer, &requirements);
        const VkPhysicalDeviceMemoryProperties& properties = GetDevice().GetMemoryProperties();
        const std::optional<uint32_t> type =
            FindMemoryType(properties, requirements.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
                           VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
        if (!type)
            return nullptr;
        b.coherent =
            (properties.memoryTypes[*type].propertyFlags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) != 0;
        VkMemoryAllocateInfo allocateInfo{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
        allocateInfo.allocationSize = requirements.size;
        allocateInfo.memoryTypeIndex = *type;
        if (vkAllocateMemory(GetVkDevice(), &allocateInfo, nullptr, &b.memory) != VK_SUCCESS)
            return nullptr;
        if (vkBindBufferMemory(GetVkDevice(), b.buffer, b.memory, 0) != VK_SUCCESS)
            return nullptr;
        void* mapped = nullptr;
        if (vkMapMemory(GetVkDevice(), b.memory, 0, VK_WHOLE_SIZE, 0, &mapped) != VK_SUCCESS)
            return nullptr;
        b.mapped = static_cast<uint32_t*>(mapped);
        std::memset(mapped, 0, static_cast<size_t>(size));
        return &b;
    }

    /// Fills `b` with `value` on the GPU through RunOneTimeCommands and makes the result visible to the host.
    VkResult Fill(const HostBuffer& b, uint32_t value) const
    {
        const VkResult result = GetDevice().RunOneTimeCommands(
            [&](VkCommandBuffer cmd)
            {
                vkCmdFillBuffer(cmd, b.buffer, 0, VK_WHOLE_SIZE, value);
                VkBufferMemoryBarrier barrier{VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER};
                barrier.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
                barrier.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
                barrier.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
                barrier.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
                barrier.buffer = b.buffer;
                barrier.size = VK_WHOLE_SIZE;
                vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 0,
                                     nullptr, 1, &barrier, 0, nullptr);
            });
        if (result == VK_SUCCESS && !b.coherent)
        {
            VkMappedMemoryRange range{VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE};
            range.memory = b.memory;
            range.size = VK_WHOLE_SIZE;
            return vkInvalidateMappedMemoryRanges(GetVkDevice(), 1, &range);
        }
        return result;
    }

    static size_t CountMismatches(const HostBuffer& b, uint32_t value)
    {
        size_t mismatches = 0;
        for (size_t i = 0; i < b.size / sizeof(uint32_t); ++i)
            mismatches += b.mapped[i] != value ? 1 : 0;
        return mismatches;
    }

    std::vector<HostBuffer> m_Buffers;
};

TEST_F(SubmitConcurrency, OneThreadFillsABufferThroughRunOneTimeCommands)
{
    m_Buffers.reserve(1);
    HostBuffer* b = CreateHostBuffer(16 * 1024);
    ASSERT_NE(b, nullptr);
    ASSERT_EQ(Fill(*b, 0xC0FFEEu), VK_SUCCESS);
    EXPECT_EQ(CountMismatches(*b, 0xC0FFEEu), 0u);
}

TEST_F(SubmitConcurrency, EightThreadsRunOneTimeCommandsAtOnceAndEveryFillLands)
{
    constexpr int kRounds = 4;
    m_Buffers.reserve(kThreads);
    std::vector<HostBuffer*> buffers;
    for (int t = 0; t < kThreads; ++t)
    {
        buffers.push_back(CreateHostBuffer(64 * 1024));
        ASSERT_NE(buffers.back(), nullptr);
    }
    std::vector<VkResult> results(kThreads * kRounds, VK_NOT_READY);
    std::vector<size_t> mismatches(kThreads * kRounds, ~size_t(0));
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back(
            [&, t]
            {
                ready.fetch_add(1);
                while (ready.load() < kThreads)
                    std::this_thread::yield();
                for (int round = 0; round < kRounds; ++round)
                {
                    const uint32_t value = 0x5ED00000u | static_cast<uint32_t>(t << 8 | round);
                    const size_t slot = static_cast<size_t>(t * kRounds + round);
                    results[slot] = Fill(*buffers[static_cast<size_t>(t)], value);
                    mismatches[slot] = CountMismatches(*buffers[static_cast<size_t>(t)], value);
                }
            });
    for (std::thread& thread : threads)
        thread.join();
    for (size_t i = 0; i < results.size(); ++i)
    {
        EXPECT_EQ(results[i], VK_SUCCESS)
            << "thread " << i / kRounds << " round " << i % kRounds << ": " << VkResultName(results[i]);
        EXPECT_EQ(mismatches[i], 0u) << "thread " << i / kRounds << " round " << i % kRounds;
    }
}

TEST_F(SubmitConcurrency, SubmitWaitIdleAndDirectLockedSubmitsInterleaveSafely)
{
    constexpr int kSubmits = 16;
    std::vector<VkResult> firstError(kThreads, VK_SUCCESS);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back(
            [&, t]
            {
                VkFenceCreateInfo fenceInfo{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
                VkFence fence = VK_NULL_HANDLE;
                VkResult& error = firstError[static_cast<size_t>(t)];
                error = vkCreateFence(GetVkDevice(), &fenceInfo, nullptr, &fence);
                ready.fetch_add(1);
                while (ready.load() < kThreads)
                    std::this_thread::yield();
                for (int i = 0; i < kSubmits && error == VK_SUCCESS; ++i)
                {
                    if (t == 0 && i % 4 == 0)
                        error = GetDevice().WaitIdle();
                    else if (t == 1)
                    {
                        // A user who submits to the shared queue directly holds the exposed lock.
                        std::lock_guard lock(GetDevice().GetQueueMutex());
                        error = vkQueueSubmit(GetDevice().GetQueue(), 0, nullptr, fence);
                    }
                    else
                        error = GetDevice().Submit(0, nullptr,
                                                   fence); // an empty submission that signals the fence
                    if (error == VK_SUCCESS && (t != 0 || i % 4 != 0))
                    {
                        error = vkWaitForFences(GetVkDevice(), 1, &fence, VK_TRUE, UINT64_MAX);
                        if (error == VK_SUCCESS)
                            error = vkResetFences(GetVkDevice(), 1, &fence);
                    }
                }
                if (fence)
                    vkDestroyFence(GetVkDevice(), fence, nullptr);
            });
    for (std::thread& thread : threads)
        thread.join();
    for (int t = 0; t < kThreads; ++t)
        EXPECT_EQ(firstError[static_cast<size_t>(t)], VK_SUCCESS)
            << "thread " << t << ": " << VkResultName(firstError[static_cast<size_t>(t)]);
}
} // namespace
} // namespace SceneryEditorX
