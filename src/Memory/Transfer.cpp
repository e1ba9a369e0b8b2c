// Uploads and readbacks through system-owned staging buffers, submitted through the device's locked
// submit. Works on every memory type, including device-local memory that the CPU cannot map.
#include "AllocatorInstance.h"
#include "GpuCopy.h"
#include "MemorySystem.h"

#include <SceneryEditorX/Core/Log.h>

#include <cstring>

namespace SceneryEditorX
{
using namespace detail;

namespace
{
// May an image with `usage` be put in `layout` by the system?
bool LayoutAllowed(VkImageLayout layout, VkImageUsageFlags usage)
{
    switch (layout)
    {
    case VK_IMAGE_LAYOUT_GENERAL:
    case VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL:
        return true;
    case VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL:
        return (usage & VK_IMAGE_USAGE_TRANSFER_SRC_BIT) != 0;
    case VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL:
        return (usage & (VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_INPUT_ATTACHMENT_BIT)) != 0;
    case VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL:
        return (usage & VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT) != 0;
    default:
        return false;
    }
}

// A snapshot of what a transfer needs from a record.
struct TransferTarget
{
    ResourceKind kind = ResourceKind::Buffer;
    VkBuffer buffer = VK_NULL_HANDLE;
    VkImage image = VK_NULL_HANDLE;
    VkDeviceSize bufferSize = 0;
    VkBufferUsageFlags bufferUsage = 0;
    VkImageCreateInfo imageInfo{};
    VkImageLayout layout = VK_IMAGE_LAYOUT_UNDEFINED;
};

// One transfer: `check(target, stagingSize)` returns an error or sets the staging size; then
// `before(staging)` (CPU side), `record(cmd, target, staging)` (GPU side, one submission) and
// `after(staging)` once the copy is done. Logs one error line "[tag] label: why" on failure.
template <class Check, class Before, class Record, class After>
bool RunTransfer(const std::string& tag, const char* call, const std::string& label, VmaAllocation allocation,
                 ResourceKind kind, Check&& check, Before&& before, Record&& record, After&& after)
{
    MemorySystem* system = MemorySystem::Require(call, tag);
    if (!system)
        return false;
    // Held until the copy is done: a defragmentation pass cannot retire the handle meanwhile.
    auto transferLock = system->HoldTransfer();
    TransferTarget t;
    const bool live = allocation && system->registry.With(allocation,
                                                          [&](const AllocationRecord& r)
                                                          {
                                                              t.kind = r.kind;
                                                              t.buffer = r.buffer;
                                                              t.image = r.image;
                                                              // The size asked for: a SpeedOptimized
                                                              // buffer can be larger (its reuse class).
                                                              t.bufferSize = r.requestedSize;
                                                              t.bufferUsage = r.bufferInfo.usage;
                                                              t.imageInfo = r.imageInfo;
                                                              t.layout = r.layout;
                                                          });
    std::string error;
    VkDeviceSize stagingSize = 0;
    if (!live)
        error = "the allocation is not live";
    else if (t.kind != kind)
        error = kind == ResourceKind::Buffer ? "the allocation is an image" : "the allocation is a buffer";
    else
        error = check(t, stagingSize);
    StagingBuffer staging;
    if (error.empty())
        if (const VkResult r = system->AcquireStaging(stagingSize, staging); r != VK_SUCCESS)
            error = fmt::format("the staging buffer could not be created: {}", VkResultName(r));
    if (!error.empty())
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] {}: {}", tag, label, error);
        return false;
    }
    before(*system, staging);
    const VkResult r =
        system->device->RunOneTimeCommands([&](VkCommandBuffer cmd) { record(cmd, t, staging); });
    if (r == VK_SUCCESS)
        after(*system, staging);
    system->ReleaseStaging(staging);
    if (r != VK_SUCCESS)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "[{}] {}: submission failed: {}", tag, label, VkResultName(r));
        return false;
    }
    return true;
}

std::string CheckBufferRange(const TransferTarget& t, VkDeviceSize offset, VkDeviceSize size, bool upload)
{
    if (offset > t.bufferSize || size > t.bufferSize - offset)
        return fmt::format("{} bytes at offset {} {} the {}-byte buffer", size, offset,
                           upload ? "do not fit" : "are outside", t.bufferSize);
    const VkBufferUsageFlags needed =
        upload ? VK_BUFFER_USAGE_TRANSFER_DST_BIT : VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
    if (!(t.bufferUsage & needed))
        return upload ? "the buffer has no TRANSFER_DST usage" : "the buffer has no TRANSFER_SRC usage";
    return {};
}

// Copies the caller's bytes into a staging buffer and makes them visible to the device.
void FillStaging(MemorySystem& system, const StagingBuffer& staging, const void* data, VkDeviceSize size)
{
    std::memcpy(staging.mapped, data, size);
    vmaFlushAllocation(system.allocator, staging.allocation, 0, size);
}

constexpr auto kNothing = [](MemorySystem&, const StagingBuffer&) {
};
} // namespace

VkDeviceSize MemoryAllocator::ImageDataSize(const VkImageCreateInfo& imageInfo)
{
    return detail::ImageDataSize(imageInfo);
}

bool MemoryAllocator::UploadToBuffer(VmaAllocation allocation, const void* data, VkDeviceSize size,
                                     VkDeviceSize offset)
{
    return RunTransfer(
        m_Instance->tag, "UploadToBuffer", fmt::format("UploadToBuffer({} bytes)", size), allocation,
        ResourceKind::Buffer,
        [&](const TransferTarget& t, VkDeviceSize& stagingSize)
        {
            stagingSize = size;
            return !data || size == 0 ? std::string("no data") : CheckBufferRange(t, offset, size, true);
        },
        [&](MemorySystem& system, const StagingBuffer& staging) { FillStaging(system, staging, data, size); },
        [&](VkCommandBuffer cmd, const TransferTarget& t, const StagingBuffer& staging)
        {
            const VkBufferCopy region{0, offset, size};
            vkCmdCopyBuffer(cmd, staging.buffer, t.buffer, 1, &region);
            MemoryBarrier(cmd);
        },
        kNothing);
}

bool MemoryAllocator::ReadbackBuffer(VmaAllocation allocation, void* out, VkDeviceSize size,
                                     VkDeviceSize offset)
{
    return RunTransfer(
        m_Instance->tag, "ReadbackBuffer", fmt::format("ReadbackBuffer({} bytes)", size), allocation,
        ResourceKind::Buffer,
        [&](const TransferTarget& t, VkDeviceSize& stagingSize)
        {
            stagingSize = size;
            return !out || size == 0 ? std::string("no output") : CheckBufferRange(t, offset, size, false);
        },
        kNothing,
        [&](VkCommandBuffer cmd, const TransferTarget& t, const StagingBuffer& staging)
        {
            MemoryBarrier(cmd);
            const VkBufferCopy region{offset, 0, size};
            vkCmdCopyBuffer(cmd, t.buffer, staging.buffer, 1, &region);
            MemoryBarrier(cmd);
        },
        [&](MemorySystem& system, const StagingBuffer& staging)
        {
            vmaInvalidateAllocation(system.allocator, staging.allocation, 0, size);
            std::memcpy(out, staging.mapped, size);
        });
}

bool MemoryAllocator::UploadToImage(VmaAllocation allocation, const void* data, VkDeviceSize size,
                                    VkImageLayout finalLayout)
{
    const bool uploaded = RunTransfer(
        m_Instance->tag, "UploadToImage", "UploadToImage", allocation, ResourceKind::Image,
        [&](const TransferTarget& t, VkDeviceSize& stagingSize) -> std::string
        {
            const VkDeviceSize expected = detail::ImageDataSize(t.imageInfo);
            stagingSize = expected;
            if (expected == 0)
                return fmt::format("format {} is not supported by the upload path",
                                   static_cast<int>(t.imageInfo.format));
            if (!data || size != expected)
                return fmt::format("{} bytes given, all mips and layers need {}", data ? size : 0, expected);
            if (!(t.imageInfo.usage & VK_IMAGE_USAGE_TRANSFER_DST_BIT))
                return "the image has no TRANSFER_DST usage";
            if (!LayoutAllowed(finalLayout, t.imageInfo.usage))
                return fmt::format("final layout {} is not allowed for usage {:#x}",
                                   static_cast<int>(finalLayout), t.imageInfo.usage);
            return {};
        },
        [&](MemorySystem& system, const StagingBuffer& staging) { FillStaging(system, staging, data, size); },
        [&](VkCommandBuffer cmd, const TransferTarget& t, const StagingBuffer& staging)
        {
            // Every texel is overwritten, so the old contents may be discarded.
            const std::vector<VkBufferImageCopy> regions = BufferImageRegions(t.imageInfo);
            ImageBarrier(cmd, t.image, t.imageInfo, VK_IMAGE_LAYOUT_UNDEFINED,
                         VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL);
            vkCmdCopyBufferToImage(cmd, staging.buffer, t.image, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                                   static_cast<uint32_t>(regions.size()), regions.data());
            ImageBarrier(cmd, t.image, t.imageInfo, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, finalLayout);
        },
        [&](MemorySystem& system, const StagingBuffer&)
        { system.registry.With(allocation, [&](AllocationRecord& rec) { rec.layout = finalLayout; }); });
    return uploaded;
}

bool MemoryAllocator::ReadbackImage(VmaAllocation allocation, std::vector<uint8_t>& out)
{
    VkDeviceSize size = 0;
    return RunTransfer(
        m_Instance->tag, "ReadbackImage", "ReadbackImage", allocation, ResourceKind::Image,
        [&](const TransferTarget& t, VkDeviceSize& stagingSize) -> std::string
        {
            size = stagingSize = detail::ImageDataSize(t.imageInfo);
            if (size == 0)
                return fmt::format("format {} is not supported by the readback path",
                                   static_cast<int>(t.imageInfo.format));
            if (t.layout == VK_IMAGE_LAYOUT_UNDEFINED || t.layout == VK_IMAGE_LAYOUT_PREINITIALIZED)
                return "the image has no defined contents (its recorded layout is UNDEFINED)";
            if (!(t.imageInfo.usage & VK_IMAGE_USAGE_TRANSFER_SRC_BIT))
                return "the image has no TRANSFER_SRC usage";
            return {};
        },
        kNothing,
        [&](VkCommandBuffer cmd, const TransferTarget& t, const StagingBuffer& staging)
        {
            const std::vector<VkBufferImageCopy> regions = BufferImageRegions(t.imageInfo);
            ImageBarrier(cmd, t.image, t.imageInfo, t.layout, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL);
            vkCmdCopyImageToBuffer(cmd, t.image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, staging.buffer,
                                   static_cast<uint32_t>(regions.size()), regions.data());
            ImageBarrier(cmd, t.image, t.imageInfo, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, t.layout);
            MemoryBarrier(cmd);
        },
        [&](MemorySystem& system, const StagingBuffer& staging)
        {
            vmaInvalidateAllocation(system.allocator, staging.allocation, 0, size);
            out.resize(size);
            std::memcpy(out.data(), staging.mapped, size);
        });
}

VkImageLayout MemoryAllocator::GetImageLayout(VmaAllocation allocation)
{
    VkImageLayout layout = VK_IMAGE_LAYOUT_UNDEFINED;
    if (MemorySystem* system = MemorySystem::Require("GetImageLayout"); system && allocation)
        system->registry.With(allocation, [&](const AllocationRecord& r) { layout = r.layout; });
    return layout;
}

bool MemoryAllocator::SetImageLayout(VmaAllocation allocation, VkImageLayout layout)
{
    MemorySystem* system = MemorySystem::Require("SetImageLayout");
    if (!system)
        return false;
    bool isImage = false;
    const bool live = allocation && system->registry.With(allocation,
                                                          [&](AllocationRecord& r)
                                                          {
                                                              isImage = r.kind == ResourceKind::Image;
                                                              if (isImage)
                                                                  r.layout = layout;
                                                          });
    if (!live || !isImage)
    {
        SEDX_CORE_ERROR_TAG(kAllocTag, "SetImageLayout: {}",
                            live ? "the allocation is a buffer" : "the allocation is not live");
        return false;
    }
    return true;
}

} // namespace SceneryEditorX
