#pragma once
// The fixture of the allocation tests (AllocationTests.cpp, MemoryUsageTests.cpp): requests that must be
// rejected without a trace, and small makers of buffers and images.
#include "MemoryTestSupport.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>
#include <vector>

namespace SceneryEditorX::Test
{

/// Every VmaMemoryUsage value, the legacy ones and the AUTO ones.
constexpr VmaMemoryUsage kEveryUsage[] = {
    VMA_MEMORY_USAGE_UNKNOWN,
    VMA_MEMORY_USAGE_GPU_ONLY,
    VMA_MEMORY_USAGE_CPU_ONLY,
    VMA_MEMORY_USAGE_CPU_TO_GPU,
    VMA_MEMORY_USAGE_GPU_TO_CPU,
    VMA_MEMORY_USAGE_CPU_COPY,
    VMA_MEMORY_USAGE_GPU_LAZILY_ALLOCATED,
    VMA_MEMORY_USAGE_AUTO,
    VMA_MEMORY_USAGE_AUTO_PREFER_DEVICE,
    VMA_MEMORY_USAGE_AUTO_PREFER_HOST,
};
constexpr VmaMemoryUsage kLegacyUsages[] = {VMA_MEMORY_USAGE_UNKNOWN,    VMA_MEMORY_USAGE_GPU_ONLY,
                                            VMA_MEMORY_USAGE_CPU_ONLY,   VMA_MEMORY_USAGE_CPU_TO_GPU,
                                            VMA_MEMORY_USAGE_GPU_TO_CPU, VMA_MEMORY_USAGE_CPU_COPY};
constexpr VmaMemoryUsage kAutoUsages[] = {VMA_MEMORY_USAGE_AUTO, VMA_MEMORY_USAGE_AUTO_PREFER_DEVICE,
                                          VMA_MEMORY_USAGE_AUTO_PREFER_HOST};

class AllocationFixture : public AllocatorTest
{
protected:
    /// The request fails: null, VK_NULL_HANDLE out, one error containing `needle`, no counter changed.
    void ExpectBufferRejected(const VkBufferCreateInfo& info, const AllocationCreateInfo& createInfo,
                              std::string_view needle)
    {
        const CounterSnapshot before = Snapshot(Alloc());
        LogCapture capture;
        VkBuffer out = reinterpret_cast<VkBuffer>(uintptr_t{0xdead});
        EXPECT_EQ(Alloc().AllocateBuffer(info, createInfo, out), nullptr);
        EXPECT_EQ(out, VK_NULL_HANDLE);
        EXPECT_TRUE(OneAllocatorError(capture, needle));
        EXPECT_TRUE(SameCounters(before, Snapshot(Alloc())));
    }
    void ExpectBufferRejected(const VkBufferCreateInfo& info, std::string_view needle)
    {
        ExpectBufferRejected(info, CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY), needle);
    }
    void ExpectImageRejected(const VkImageCreateInfo& info, std::string_view needle,
                             const AllocationCreateInfo& createInfo = CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY))
    {
        const CounterSnapshot before = Snapshot(Alloc());
        LogCapture capture;
        VkImage out = reinterpret_cast<VkImage>(uintptr_t{0xdead});
        VkDeviceSize size = 77;
        EXPECT_EQ(Alloc().AllocateImage(info, createInfo, out, &size), nullptr);
        EXPECT_EQ(out, VK_NULL_HANDLE);
        EXPECT_EQ(size, 0u);
        EXPECT_TRUE(OneAllocatorError(capture, needle));
        EXPECT_TRUE(SameCounters(before, Snapshot(Alloc())));
    }

    using AllocatorTest::MakeBuffer;
    Buffer MakeBuffer(VkDeviceSize size, VmaMemoryUsage usage) { return MakeBuffer(size, CreateInfo(usage)); }
    /// Each call fails cleanly with exactly one error containing `needle`, and no counter moves from
    /// `before`.
    void ExpectEachRefused(const std::vector<RefusedCall>& calls, std::string_view needle,
                           const CounterSnapshot& before)
    {
        for (const RefusedCall& call : calls)
        {
            SCOPED_TRACE(call.name);
            LogCapture capture;
            EXPECT_TRUE(call.failedCleanly());
            EXPECT_TRUE(OneAllocatorError(capture, needle));
            EXPECT_TRUE(SameCounters(before, Snapshot(Alloc())));
        }
    }

    struct Image
    {
        VkImage image = VK_NULL_HANDLE;
        VmaAllocation allocation = nullptr;
        VkDeviceSize size = 0;
    };
    Image MakeImage(const VkImageCreateInfo& info, const AllocationCreateInfo& createInfo)
    {
        Image i;
        i.allocation = Alloc().AllocateImage(info, createInfo, i.image, &i.size);
        EXPECT_NE(i.allocation, nullptr);
        return i;
    }
    Image MakeImage(uint32_t size = 64)
    {
        return MakeImage(ImageInfo(size, size), CreateInfo(VMA_MEMORY_USAGE_GPU_ONLY));
    }

    static VkDeviceSize MaxMemoryAllocationSize()
    {
        VkPhysicalDeviceMaintenance3Properties maint3{
            VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
        VkPhysicalDeviceProperties2 props{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
        props.pNext = &maint3;
        vkGetPhysicalDeviceProperties2(Device()->GetPhysicalDevice(), &props);
        return maint3.maxMemoryAllocationSize;
    }
};

} // namespace SceneryEditorX::Test
