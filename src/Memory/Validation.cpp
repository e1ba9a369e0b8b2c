#include "Validation.h"

#include "MemorySystem.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <type_traits>

namespace SceneryEditorX::detail
{
namespace
{
constexpr VkBufferUsageFlags kCoreBufferUsage =
    VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT |
    VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT | VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT |
    VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
    VK_BUFFER_USAGE_INDEX_BUFFER_BIT | VK_BUFFER_USAGE_VERTEX_BUFFER_BIT |
    VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT;
constexpr VkImageUsageFlags kCoreImageUsage =
    VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_SAMPLED_BIT |
    VK_IMAGE_USAGE_STORAGE_BIT | VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT |
    VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSIENT_ATTACHMENT_BIT |
    VK_IMAGE_USAGE_INPUT_ATTACHMENT_BIT;
constexpr VkImageUsageFlags kAttachmentUsage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT |
                                               VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT |
                                               VK_IMAGE_USAGE_INPUT_ATTACHMENT_BIT;
constexpr VkImageCreateFlags kAllowedImageFlags =
    VK_IMAGE_CREATE_MUTABLE_FORMAT_BIT | VK_IMAGE_CREATE_CUBE_COMPATIBLE_BIT |
    VK_IMAGE_CREATE_2D_ARRAY_COMPATIBLE_BIT | VK_IMAGE_CREATE_EXTENDED_USAGE_BIT;

std::string ValidateSharing(const MemorySystem& d, VkSharingMode mode, uint32_t count,
                            const uint32_t* families)
{
    if (mode == VK_SHARING_MODE_EXCLUSIVE)
        return {};
    if (mode != VK_SHARING_MODE_CONCURRENT)
        return fmt::format("sharingMode {} is not a VkSharingMode", static_cast<int>(mode));
    uint32_t familyCount = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(d.device->GetPhysicalDevice(), &familyCount, nullptr);
    if (count < 2 || families == nullptr)
        return "VK_SHARING_MODE_CONCURRENT needs at least two queue family indices";
    for (uint32_t i = 0; i < count; ++i)
        if (families[i] >= familyCount)
            return fmt::format("queue family index {} does not exist (the device has {})", families[i],
                               familyCount);
    return {};
}
} // namespace

bool IsAutoUsage(VmaMemoryUsage usage)
{
    return usage == VMA_MEMORY_USAGE_AUTO || usage == VMA_MEMORY_USAGE_AUTO_PREFER_DEVICE ||
           usage == VMA_MEMORY_USAGE_AUTO_PREFER_HOST;
}

const char* MemoryUsageName(VmaMemoryUsage usage)
{
    switch (usage)
    {
    case VMA_MEMORY_USAGE_UNKNOWN:
        return "UNKNOWN";
    case VMA_MEMORY_USAGE_GPU_ONLY:
        return "GPU_ONLY";
    case VMA_MEMORY_USAGE_CPU_ONLY:
        return "CPU_ONLY";
    case VMA_MEMORY_USAGE_CPU_TO_GPU:
        return "CPU_TO_GPU";
    case VMA_MEMORY_USAGE_GPU_TO_CPU:
        return "GPU_TO_CPU";
    case VMA_MEMORY_USAGE_CPU_COPY:
        return "CPU_COPY";
    case VMA_MEMORY_USAGE_GPU_LAZILY_ALLOCATED:
        return "GPU_LAZILY_ALLOCATED";
    case VMA_MEMORY_USAGE_AUTO:
        return "AUTO";
    case VMA_MEMORY_USAGE_AUTO_PREFER_DEVICE:
        return "AUTO_PREFER_DEVICE";
    case VMA_MEMORY_USAGE_AUTO_PREFER_HOST:
        return "AUTO_PREFER_HOST";
    default:
        return "invalid";
    }
}

std::string ValidateAllocationCreateInfo(const AllocationCreateInfo& info)
{
    // Compared as raw bits: a value outside the enum's range must not be loaded as the enum type.
    std::underlying_type_t<VmaMemoryUsage> bits{};
    std::memcpy(&bits, &info.usage, sizeof bits);
    if (const auto usage = static_cast<uint32_t>(bits); usage > VMA_MEMORY_USAGE_AUTO_PREFER_HOST)
        return fmt::format("memory usage {} is not a VmaMemoryUsage", usage);
    if (!(info.priority >= 0.0f && info.priority <= 1.0f))
        return fmt::format("priority {} is outside [0, 1]", info.priority);
    const bool sequential = HasFlag(info.flags, AllocationFlags::HostAccessSequentialWrite);
    const bool random = HasFlag(info.flags, AllocationFlags::HostAccessRandom);
    // VMA asserts when both host-access bits are set: they are alternatives.
    if (sequential && random)
        return "HostAccessSequentialWrite and HostAccessRandom are alternatives; give one";
    const bool hostAccess = sequential || random;
    if (HasFlag(info.flags, AllocationFlags::Mapped) && IsAutoUsage(info.usage) && !hostAccess)
        return "Mapped with an AUTO usage needs HostAccessSequentialWrite or HostAccessRandom";
    if (static_cast<uint32_t>(info.flags) >= (1u << 6)) // MakeRoom (1 << 5) is the last
        return fmt::format("unknown allocation flags {:#x}", static_cast<uint32_t>(info.flags));
    return {};
}

const char* ExceededBufferSizeLimit(const MemorySystem& d, VkDeviceSize size, VkDeviceSize& limit)
{
    if (size > d.maxMemoryAllocationSize)
    {
        limit = d.maxMemoryAllocationSize;
        return "maxMemoryAllocationSize";
    }
    if (size > d.largestHeapSize)
    {
        limit = d.largestHeapSize;
        return "the largest heap";
    }
    return nullptr;
}

std::string ValidateBufferCreateInfo(const MemorySystem& d, const VkBufferCreateInfo& info)
{
    if (info.sType != VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO)
        return "sType is not VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO";
    if (info.size == 0)
        return "size is 0";
    if (info.usage == 0)
        return "usage is 0";
    VkBufferUsageFlags allowed = kCoreBufferUsage;
    if (d.device->GetCapabilities().bufferDeviceAddress)
        allowed |= VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;
    if (info.usage & ~allowed)
        return fmt::format("usage bits {:#x} need features or extensions this device does not enable",
                           info.usage & ~allowed);
    if (info.flags != 0)
        return fmt::format("buffer create flags {:#x} are not supported (sparse, protected and "
                           "capture-replay buffers are out of scope)",
                           info.flags);
    VkDeviceSize limit = 0;
    if (const char* exceeded = ExceededBufferSizeLimit(d, info.size, limit))
        return fmt::format("size {} is larger than {} ({} bytes)", info.size, exceeded, limit);
    return ValidateSharing(d, info.sharingMode, info.queueFamilyIndexCount, info.pQueueFamilyIndices);
}

std::string ValidateImageCreateInfo(const MemorySystem& d, const VkImageCreateInfo& info,
                                    VkImageUsageFlags& outUsage)
{
    if (info.sType != VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO)
        return "sType is not VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO";
    if (info.imageType > VK_IMAGE_TYPE_3D)
        return fmt::format("imageType {} is not a VkImageType", static_cast<int>(info.imageType));
    if (info.format == VK_FORMAT_UNDEFINED)
        return "format is VK_FORMAT_UNDEFINED";
    if (info.extent.width == 0 || info.extent.height == 0 || info.extent.depth == 0)
        return fmt::format("extent {}x{}x{} has a zero dimension", info.extent.width, info.extent.height,
                           info.extent.depth);
    if (info.imageType == VK_IMAGE_TYPE_1D && (info.extent.height != 1 || info.extent.depth != 1))
        return "a 1D image needs height and depth 1";
    if (info.imageType == VK_IMAGE_TYPE_2D && info.extent.depth != 1)
        return "a 2D image needs depth 1";
    if (info.mipLevels == 0 || info.arrayLayers == 0)
        return "mipLevels and arrayLayers must be at least 1";
    const uint32_t largest = std::max({info.extent.width, info.extent.height, info.extent.depth});
    const uint32_t fullChain = static_cast<uint32_t>(std::bit_width(largest));
    if (info.mipLevels > fullChain)
        return fmt::format("{} mip levels requested; a {}x{}x{} image has at most {}", info.mipLevels,
                           info.extent.width, info.extent.height, info.extent.depth, fullChain);
    if (!std::has_single_bit(static_cast<uint32_t>(info.samples)) || info.samples > VK_SAMPLE_COUNT_64_BIT)
        return fmt::format("samples {} is not a single VkSampleCountFlagBits",
                           static_cast<uint32_t>(info.samples));
    if (info.samples != VK_SAMPLE_COUNT_1_BIT &&
        (info.imageType != VK_IMAGE_TYPE_2D || info.mipLevels != 1 ||
         info.tiling != VK_IMAGE_TILING_OPTIMAL || (info.flags & VK_IMAGE_CREATE_CUBE_COMPATIBLE_BIT)))
        return "a multisampled image must be 2D, optimal tiling, one mip level and not cube-compatible";
    if (info.tiling != VK_IMAGE_TILING_OPTIMAL && info.tiling != VK_IMAGE_TILING_LINEAR)
        return fmt::format("tiling {} is not supported (OPTIMAL or LINEAR)", static_cast<int>(info.tiling));
    if (info.initialLayout != VK_IMAGE_LAYOUT_UNDEFINED &&
        info.initialLayout != VK_IMAGE_LAYOUT_PREINITIALIZED)
        return "initialLayout must be UNDEFINED or PREINITIALIZED";
    if (info.usage == 0)
        return "usage is 0";
    if (info.usage & ~kCoreImageUsage)
        return fmt::format("usage bits {:#x} need extensions this device does not enable",
                           info.usage & ~kCoreImageUsage);
    if ((info.usage & VK_IMAGE_USAGE_TRANSIENT_ATTACHMENT_BIT) &&
        (info.usage & ~(kAttachmentUsage | VK_IMAGE_USAGE_TRANSIENT_ATTACHMENT_BIT)))
        return "a transient attachment may only have attachment usages";
    if (info.flags & ~kAllowedImageFlags)
        return fmt::format("image create flags {:#x} are not supported (sparse, protected, ...)",
                           info.flags & ~kAllowedImageFlags);
    if ((info.flags & VK_IMAGE_CREATE_CUBE_COMPATIBLE_BIT) &&
        (info.imageType != VK_IMAGE_TYPE_2D || info.extent.width != info.extent.height ||
         info.arrayLayers < 6))
        return "a cube-compatible image must be 2D, square and have at least 6 layers";
    if (std::string e =
            ValidateSharing(d, info.sharingMode, info.queueFamilyIndexCount, info.pQueueFamilyIndices);
        !e.empty())
        return e;

    // Format and usage support, with the transfer bits the system adds where the format allows them.
    VkPhysicalDevice pd = d.device->GetPhysicalDevice();
    auto query = [&](VkImageUsageFlags usage, VkImageFormatProperties& props)
    {
        return vkGetPhysicalDeviceImageFormatProperties(pd, info.format, info.imageType, info.tiling, usage,
                                                        info.flags, &props);
    };
    VkImageFormatProperties props{};
    outUsage = info.usage;
    const bool transient = (info.usage & VK_IMAGE_USAGE_TRANSIENT_ATTACHMENT_BIT) != 0;
    if (d.settings.addTransferUsage && !transient)
    {
        const VkImageUsageFlags withTransfer =
            info.usage | VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT;
        if (query(withTransfer, props) == VK_SUCCESS)
            outUsage = withTransfer;
    }
    if (outUsage == info.usage && query(info.usage, props) != VK_SUCCESS)
        return fmt::format(
            "format {} with tiling {}, usage {:#x} and flags {:#x} is not supported by the device",
            static_cast<int>(info.format), static_cast<int>(info.tiling), info.usage, info.flags);
    if (info.extent.width > props.maxExtent.width || info.extent.height > props.maxExtent.height ||
        info.extent.depth > props.maxExtent.depth)
        return fmt::format("extent {}x{}x{} exceeds the format's maximum {}x{}x{}", info.extent.width,
                           info.extent.height, info.extent.depth, props.maxExtent.width,
                           props.maxExtent.height, props.maxExtent.depth);
    if (info.mipLevels > props.maxMipLevels)
        return fmt::format("{} mip levels exceed the format's maximum {}", info.mipLevels,
                           props.maxMipLevels);
    if (info.arrayLayers > props.maxArrayLayers)
        return fmt::format("{} array layers exceed the format's maximum {}", info.arrayLayers,
                           props.maxArrayLayers);
    if (!(props.sampleCounts & info.samples))
        return fmt::format("sample count {} is not supported for this format",
                           static_cast<uint32_t>(info.samples));
    return {};
}

} // namespace SceneryEditorX::detail
