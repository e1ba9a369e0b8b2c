// libFuzzer target (issue 7): decodes the input into a sequence of public API calls of the memory
// system, bad arguments included, and checks that nothing crashes, nothing is undefined (ASan +
// UBSan, VMA_ASSERT aborts), and nothing leaks (every input ends with its live allocations freed and
// a Shutdown that must report no leak; LeakSanitizer watches the rest).
//
// One VulkanDevice (lavapipe, no validation layer, for speed) lives for the whole process; every input
// runs between its own Init and Shutdown, with settings taken from its first bytes (a 256 MiB heap
// limit always, so that no input can ask the driver for gigabytes).
//
// Bugs it found, each fixed and kept as a regression test in tests/Reliability/BadInputTests.cpp:
//   - AllocationFlags::HostAccessSequentialWrite | HostAccessRandom together (VMA_ASSERT in
//     CalcAllocationParams): BadInputDeathTest.BothHostAccessFlagsAreRefused
//   - control characters in allocation names (VMA_ASSERT in VmaJsonWriter at the next statistics
//     dump): BadInputDeathTest.NameWithAControlCharacterDoesNotBreakTheStatistics
//
// Handles: the fuzzer passes only allocations that are live, were freed, or null. A freed handle is
// fine (the system looks it up in its registry before touching VMA); a pointer that VMA never
// returned would be undefined in any VMA wrapper and is never passed. Vulkan handles (VkBuffer,
// VkImage) may be anything: the system only compares them with its records.
#include <SceneryEditorX/Core/Log.h>
#include <SceneryEditorX/Memory/GpuResource.h>
#include <SceneryEditorX/Memory/MemoryAllocator.h>
#include <SceneryEditorX/Vulkan/FaultInjection.h>
#include <SceneryEditorX/Vulkan/VulkanDevice.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

using namespace SceneryEditorX;

namespace
{
constexpr VkDeviceSize KiB = 1024;
constexpr VkDeviceSize MiB = 1024 * 1024;
constexpr VkDeviceSize kHeapLimit = 256 * MiB;
constexpr size_t kMaxOps = 96;
constexpr VkDeviceSize kMaxTransfer = 2 * MiB; // larger transfers are skipped: time, not coverage

// Never destroyed: the driver stays loaded until the process ends, so that LeakSanitizer can name
// the library of what it reports (a driver unloaded at exit leaves "<unknown module>" frames).
Ref<VulkanDevice>& g_Device = *new Ref<VulkanDevice>();

/// Reads the input front to back; past the end every read is 0.
class Input
{
public:
    Input(const uint8_t* data, size_t size) : m_Data(data), m_Size(size) {}
    bool Empty() const { return m_Pos >= m_Size; }
    uint8_t U8() { return m_Pos < m_Size ? m_Data[m_Pos++] : 0; }
    uint16_t U16() { return static_cast<uint16_t>(U8() | (U8() << 8)); }
    uint32_t U32() { return static_cast<uint32_t>(U16()) | (static_cast<uint32_t>(U16()) << 16); }
    uint64_t U64() { return static_cast<uint64_t>(U32()) | (static_cast<uint64_t>(U32()) << 32); }
    bool Bool() { return (U8() & 1) != 0; }
    /// A size: mostly small, sometimes 0, a power of two, or huge.
    VkDeviceSize Size()
    {
        switch (U8() % 8)
        {
        case 0:
            return 0;
        case 1:
            return VkDeviceSize{1} << (U8() % 64);
        case 2:
            return U64(); // anything, mostly huge
        case 3:
            return (VkDeviceSize{1} << (U8() % 29)) + U8(); // up to ~256 MiB, around powers of two
        default:
            return 1 + U16() % (64 * KiB);
        }
    }
    float Float()
    {
        switch (U8() % 6)
        {
        case 0:
            return std::numeric_limits<float>::quiet_NaN();
        case 1:
            return std::numeric_limits<float>::infinity();
        case 2:
            return -static_cast<float>(U8()) / 16.0f;
        case 3:
        {
            const uint32_t bits = U32();
            float f;
            std::memcpy(&f, &bits, sizeof f);
            return f;
        }
        default:
            return static_cast<float>(U8()) / 200.0f; // 0 .. 1.275
        }
    }

private:
    const uint8_t* m_Data;
    size_t m_Size;
    size_t m_Pos = 0;
};

struct Live
{
    VmaAllocation allocation = nullptr;
    bool image = false;
    uint64_t handle = 0;        // VkBuffer or VkImage
    VkDeviceSize requested = 0; // buffer size or image data size
    uint32_t maps = 0;
};

struct Session
{
    Input& in;
    std::vector<Ref<MemoryAllocator>> allocators;
    std::vector<Live> live;
    std::vector<VmaAllocation> freed;
    std::vector<std::pair<VkBuffer, VmaAllocation>> foreign; // raw VMA allocations (GetAllocator)
    std::vector<Ref<GpuBuffer>> gpuBuffers;
    std::vector<Ref<GpuImage>> gpuImages;
    uint64_t frame = 0;
    std::vector<uint8_t> bytes;

    MemoryAllocator& A() { return *allocators[in.U8() % allocators.size()]; }

    /// An allocation to pass: live, freed, foreign or null.
    VmaAllocation PickAllocation()
    {
        const uint8_t k = in.U8();
        switch (k % 8)
        {
        case 0:
            return nullptr;
        case 1:
            return freed.empty() ? nullptr : freed[in.U8() % freed.size()];
        case 2:
            return foreign.empty() ? nullptr : foreign[in.U8() % foreign.size()].second;
        default:
            return live.empty() ? nullptr : live[in.U8() % live.size()].allocation;
        }
    }
    /// A Vulkan handle to pass with it: its own, another's, null or anything.
    uint64_t PickHandle(VmaAllocation allocation)
    {
        switch (in.U8() % 6)
        {
        case 0:
            return 0;
        case 1:
            return in.U64();
        case 2:
            return live.empty() ? 0 : live[in.U8() % live.size()].handle;
        default:
            for (const Live& l : live)
                if (l.allocation == allocation)
                    return l.handle;
            return in.U64();
        }
    }
    Live* Find(VmaAllocation allocation)
    {
        for (Live& l : live)
            if (l.allocation == allocation)
                return &l;
        return nullptr;
    }

    void Track(VmaAllocation allocation, bool image, uint64_t handle, VkDeviceSize requested)
    {
        if (!allocation)
            return;
        freed.erase(std::remove(freed.begin(), freed.end(), allocation), freed.end());
        live.push_back(Live{allocation, image, handle, requested, 0});
    }

    /// After any call that may free: moves allocations the registry no longer holds to `freed`.
    void Sync()
    {
        for (size_t i = 0; i < live.size();)
        {
            if (MemoryAllocator::ContainsAllocation(live[i].allocation))
            {
                ++i;
                continue;
            }
            freed.push_back(live[i].allocation);
            if (freed.size() > 32)
                freed.erase(freed.begin());
            live[i] = live.back();
            live.pop_back();
        }
    }

    VkBufferCreateInfo BufferInfo(uint32_t* families)
    {
        VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
        if (in.U8() == 0xFF)
            info.sType = static_cast<VkStructureType>(in.U8());
        info.size = in.Size();
        const uint8_t u = in.U8();
        info.usage = u < 200
                         ? (u % 2 ? VK_BUFFER_USAGE_VERTEX_BUFFER_BIT : VK_BUFFER_USAGE_STORAGE_BUFFER_BIT)
                         : in.U32();
        info.flags = in.U8() > 250 ? in.U8() : 0;
        const uint8_t sharing = in.U8();
        info.sharingMode = sharing < 240 ? VK_SHARING_MODE_EXCLUSIVE
                                         : static_cast<VkSharingMode>(sharing % 3); // 2 is not a mode
        info.queueFamilyIndexCount = in.U8() % 5;
        for (uint32_t i = 0; i < 4; ++i)
            families[i] = in.U8() % 4;
        info.pQueueFamilyIndices = in.Bool() ? families : nullptr;
        return info;
    }

    AllocationCreateInfo CreateInfo()
    {
        AllocationCreateInfo c;
        const uint8_t u = in.U8();
        c.usage = static_cast<VmaMemoryUsage>(u < 240 ? u % 11 : u); // includes values that are no usage
        c.flags = static_cast<AllocationFlags>(in.U8() % 64);
        c.priority = in.U8() < 230 ? 0.5f : in.Float();
        c.requiredFlags = in.U8() > 240 ? in.U8() : 0;
        c.preferredFlags = in.U8() > 240 ? in.U8() : 0;
        if (in.U8() > 200)
            c.name = std::string(in.U8() % 24, static_cast<char>('a' + in.U8() % 26));
        return c;
    }

    VkImageCreateInfo ImageInfo()
    {
        static constexpr VkFormat kFormats[] = {VK_FORMAT_R8G8B8A8_UNORM,      VK_FORMAT_R8_UNORM,
                                                VK_FORMAT_R16G16B16A16_SFLOAT, VK_FORMAT_R32G32B32A32_SFLOAT,
                                                VK_FORMAT_D32_SFLOAT,          VK_FORMAT_D24_UNORM_S8_UINT,
                                                VK_FORMAT_BC1_RGB_UNORM_BLOCK, VK_FORMAT_B8G8R8A8_SRGB,
                                                VK_FORMAT_UNDEFINED,           VK_FORMAT_R5G6B5_UNORM_PACK16};
        VkImageCreateInfo info{VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
        const uint8_t t = in.U8();
        info.imageType = static_cast<VkImageType>(t < 200 ? 1 : t % 4); // 2D mostly, 3 is no type
        const uint8_t f = in.U8();
        // Known formats, or any core format value (0..184).
        info.format = f < 200 ? kFormats[f % std::size(kFormats)] : static_cast<VkFormat>(in.U8() % 185);
        auto extent = [&]() -> uint32_t
        {
            const uint8_t e = in.U8();
            return e < 200 ? 1u + e % 64 : (e < 250 ? in.U16() : in.U32());
        };
        info.extent = {extent(), extent(), info.imageType == VK_IMAGE_TYPE_3D ? extent() % 8 : 1u};
        if (in.U8() > 245)
            info.extent.depth = in.U8();
        info.mipLevels = in.U8() % 16;
        info.arrayLayers = in.U8() < 220 ? 1 : in.U8() % 10;
        info.samples = static_cast<VkSampleCountFlagBits>(in.U8() < 230 ? 1 : 1u << (in.U8() % 8));
        const uint8_t tiling = in.U8();
        info.tiling = static_cast<VkImageTiling>(tiling < 230 ? 0 : tiling % 3);
        const uint8_t usage = in.U8();
        info.usage = usage < 200 ? VK_IMAGE_USAGE_SAMPLED_BIT : (usage < 230 ? in.U8() : in.U16());
        info.flags = in.U8() > 240 ? in.U8() : 0;
        info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
        info.initialLayout = static_cast<VkImageLayout>(in.U8() < 240 ? 0 : in.U8() % 9);
        return info;
    }

    void Op()
    {
        const uint8_t op = in.U8();
        switch (op % 26)
        {
        case 0:
        case 1:
        case 2:
        {
            uint32_t families[4];
            const VkBufferCreateInfo info = BufferInfo(families);
            VkBuffer buffer = VK_NULL_HANDLE;
            VmaAllocation a =
                in.Bool() ? A().AllocateBuffer(info, CreateInfo(), buffer)
                          : A().AllocateBuffer(info, static_cast<VmaMemoryUsage>(in.U8() % 12), buffer);
            if (!a && buffer)
                __builtin_trap(); // a failure must leave the handle null
            Track(a, false, reinterpret_cast<uint64_t>(buffer), info.size);
            break;
        }
        case 3:
        case 4:
        {
            const VkImageCreateInfo info = ImageInfo();
            VkImage image = VK_NULL_HANDLE;
            VkDeviceSize allocated = 0;
            VmaAllocation a = A().AllocateImage(info, CreateInfo(), image, in.Bool() ? &allocated : nullptr);
            if (!a && image)
                __builtin_trap();
            Track(a, true, reinterpret_cast<uint64_t>(image), MemoryAllocator::ImageDataSize(info));
            break;
        }
        case 5:
        case 6:
        {
            VmaAllocation a = PickAllocation();
            const uint64_t h = PickHandle(a);
            const bool deferred = in.Bool();
            if (in.Bool())
                deferred ? A().DestroyBufferDeferred(reinterpret_cast<VkBuffer>(h), a)
                         : A().DestroyBuffer(reinterpret_cast<VkBuffer>(h), a);
            else
                deferred ? A().DestroyImageDeferred(reinterpret_cast<VkImage>(h), a)
                         : A().DestroyImage(reinterpret_cast<VkImage>(h), a);
            Sync();
            break;
        }
        case 7:
            A().Free(PickAllocation());
            Sync();
            break;
        case 8:
        {
            VmaAllocation a = PickAllocation();
            auto* p = static_cast<uint8_t*>(A().MapMemory(a));
            if (p)
            {
                Live* l = Find(a);
                if (!l) // live, but not tracked here (a GpuBuffer's, whose handle VMA gave out again)
                {
                    MemoryAllocator::UnmapMemory(a);
                    break;
                }
                ++l->maps;
                const VkDeviceSize n = std::min<VkDeviceSize>(l->requested, 4 * KiB);
                std::memset(p, in.U8(), n); // the first bytes of the mapping belong to the resource
            }
            break;
        }
        case 9:
        {
            VmaAllocation a = PickAllocation();
            if (MemoryAllocator::UnmapMemory(a))
                if (Live* l = Find(a); l && l->maps > 0)
                    --l->maps;
            break;
        }
        case 10:
        {
            VmaAllocation a = PickAllocation();
            const VkDeviceSize offset = in.Size();
            const VkDeviceSize size = in.Bool() ? VK_WHOLE_SIZE : in.Size();
            in.Bool() ? MemoryAllocator::FlushAllocation(a, offset, size)
                      : MemoryAllocator::InvalidateAllocation(a, offset, size);
            break;
        }
        case 11:
        case 12:
        {
            VmaAllocation a = PickAllocation();
            const Live* l = Find(a);
            // Untracked handles are refused as not live (or, if a GpuBuffer holds them, get small sizes).
            const VkDeviceSize size = in.Bool() && l ? l->requested : (l ? in.Size() : in.Size() % 17);
            const VkDeviceSize offset = in.Bool() ? 0 : in.Size();
            if (size > kMaxTransfer && l && size <= l->requested)
                break;
            // Exactly the bytes the call may touch if it accepts: at most the buffer's size.
            const VkDeviceSize room = l ? std::min(l->requested, kMaxTransfer) : 16;
            bytes.assign(static_cast<size_t>(room), in.U8());
            const bool upload = in.Bool();
            if (upload)
                A().UploadToBuffer(a, bytes.data(), size, offset);
            else
                A().ReadbackBuffer(a, bytes.data(), size, offset);
            break;
        }
        case 13:
        {
            VmaAllocation a = PickAllocation();
            const Live* l = Find(a);
            if (l && l->requested > kMaxTransfer)
                break;
            if (in.Bool())
            {
                const VkDeviceSize size = l && in.U8() < 220 ? l->requested : in.Size() % (64 * KiB);
                bytes.assign(static_cast<size_t>(std::max<VkDeviceSize>(size, 1)), in.U8());
                static constexpr VkImageLayout kLayouts[] = {VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL,
                                                             VK_IMAGE_LAYOUT_GENERAL,
                                                             VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                                                             VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
                                                             VK_IMAGE_LAYOUT_UNDEFINED,
                                                             VK_IMAGE_LAYOUT_PRESENT_SRC_KHR};
                A().UploadToImage(a, bytes.data(), size, kLayouts[in.U8() % std::size(kLayouts)]);
            }
            else
            {
                std::vector<uint8_t> out;
                A().ReadbackImage(a, out);
            }
            break;
        }
        case 14:
        {
            std::vector<VkDeviceSize> sizes(in.U8() % 9);
            for (VkDeviceSize& s : sizes)
                s = in.U8() < 240 ? in.U16() : in.Size();
            const BufferUsage usage = static_cast<BufferUsage>(in.U8() < 220 ? 0x80 : in.U32());
            auto batch = A().AllocateBufferBatch(sizes, usage, static_cast<VmaMemoryUsage>(in.U8() % 12));
            if (!batch.empty() && batch.size() != sizes.size())
                __builtin_trap(); // all or nothing
            for (size_t i = 0; i < batch.size(); ++i)
                Track(batch[i].allocation, false, reinterpret_cast<uint64_t>(batch[i].buffer), sizes[i]);
            break;
        }
        case 15:
        {
            std::vector<BatchBufferAllocation> batch(in.U8() % 5);
            for (BatchBufferAllocation& e : batch)
            {
                e.allocation = PickAllocation();
                e.buffer = reinterpret_cast<VkBuffer>(PickHandle(e.allocation));
            }
            const std::vector<BatchBufferAllocation> before = batch;
            A().FreeBufferBatch(batch);
            for (size_t i = 0; i < batch.size(); ++i)
                if (batch[i].allocation != before[i].allocation || batch[i].buffer != before[i].buffer)
                    __builtin_trap(); // the caller's entries are never changed
            Sync();
            break;
        }
        case 16:
        {
            const uint8_t k = in.U8();
            frame = k < 230 ? frame + k % 4 : (k < 250 ? frame - std::min<uint64_t>(frame, 1) : in.U64());
            MemoryAllocator::SetCurrentFrameIndex(frame);
            frame = MemoryAllocator::GetCurrentFrameIndex();
            break;
        }
        case 17:
        {
            // Defragmentation, used right and wrong.
            MemoryAllocator& a = A();
            switch (in.U8() % 8)
            {
            case 0:
            {
                DefragmentationOptions o;
                o.flags = in.U8() < 200 ? (VkFlags{1} << (in.U8() % 4)) : in.U32();
                o.maxBytesPerPass = in.Bool() ? 0 : in.Size();
                o.maxAllocationsPerPass = in.Bool() ? 0 : in.U8();
                a.BeginDefragmentation(o);
                break;
            }
            case 1:
                a.BeginDefragmentation(in.U32());
                break;
            case 2:
            {
                static constexpr VkImageLayout kLayouts[] = {VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL,
                                                             VK_IMAGE_LAYOUT_GENERAL,
                                                             VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL};
                VmaAllocation target = PickAllocation();
                in.Bool() ? a.MarkForDefragmentation(target)
                          : a.MarkForDefragmentation(target, kLayouts[in.U8() % std::size(kLayouts)]);
                break;
            }
            case 3:
                a.MarkAllForDefragmentation();
                break;
            case 4:
                a.DefragmentStep();
                break;
            default:
                a.EndDefragmentation();
                break;
            }
            Sync();
            break;
        }
        case 18:
        {
            std::string name(in.U8() % 40, static_cast<char>(in.U8()));
            A().SetAllocationName(PickAllocation(), name);
            break;
        }
        case 19:
            switch (in.U8() % 4)
            {
            case 0:
                A().SetBufferAlignment(in.Bool() ? in.U64() : VkDeviceSize{1} << (in.U8() % 40));
                break;
            case 1:
                A().SetMemoryUsageWarningThreshold(in.Float());
                break;
            case 2:
                A().SetAllocationStrategy(static_cast<MemoryAllocator::AllocationStrategy>(in.U8() % 5));
                break;
            default:
                MemoryAllocator::SetCustomBufferSize(in.Size(), *g_Device);
                break;
            }
            break;
        case 20:
        {
            MemoryAllocator& a = A();
            switch (in.U8() % 6)
            {
            case 0:
                (void)a.GetStats();
                break;
            case 1:
                (void)a.CalculateStats();
                break;
            case 2:
                (void)a.GetMemoryBudget();
                break;
            case 3:
                (void)MemoryAllocator::GetHeapBudgets();
                (void)MemoryAllocator::GetAllTagStats();
                break;
            case 4:
                MemoryAllocator::ResetStats();
                break;
            default:
                a.PrintDetailedStats();
                break;
            }
            break;
        }
        case 21:
        {
            VmaAllocation a = PickAllocation();
            (void)MemoryAllocator::ContainsAllocation(a);
            (void)MemoryAllocator::GetBuffer(a);
            (void)MemoryAllocator::GetImage(a);
            (void)MemoryAllocator::GetMappedData(a);
            (void)MemoryAllocator::GetImageLayout(a);
            static constexpr VkImageLayout kLayouts[] = {VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL,
                                                         VK_IMAGE_LAYOUT_GENERAL, VK_IMAGE_LAYOUT_UNDEFINED};
            if (in.Bool())
                MemoryAllocator::SetImageLayout(a, kLayouts[in.U8() % std::size(kLayouts)]);
            break;
        }
        case 22:
        {
            // Arm a one-shot fault (AllocatorSettings::enableFaultInjection decides whether VMA's calls see
            // it).
            static constexpr VkResult kResults[] = {VK_ERROR_OUT_OF_DEVICE_MEMORY,
                                                    VK_ERROR_OUT_OF_HOST_MEMORY};
            FaultInjection::Arm(static_cast<FaultInjection::Point>(in.U8() % 6), 1 + in.U8() % 8,
                                kResults[in.U8() % 2]);
            break;
        }
        case 23:
        {
            // A foreign allocation through the escape hatch.
            VmaAllocator raw = MemoryAllocator::GetAllocator();
            if (!raw || foreign.size() >= 4)
                break;
            VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
            info.size = 1 + in.U16();
            info.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
            VmaAllocationCreateInfo aci{};
            aci.usage = VMA_MEMORY_USAGE_AUTO;
            VkBuffer buffer = VK_NULL_HANDLE;
            VmaAllocation allocation = nullptr;
            if (vmaCreateBuffer(raw, &info, &aci, &buffer, &allocation, nullptr) == VK_SUCCESS)
                foreign.emplace_back(buffer, allocation);
            break;
        }
        case 24:
        {
            uint32_t families[4];
            if (in.Bool())
            {
                if (auto b = GpuBuffer::Create(allocators[0], BufferInfo(families), CreateInfo()))
                    gpuBuffers.push_back(b);
            }
            else if (auto i = GpuImage::Create(allocators[1], ImageInfo(), CreateInfo()))
            {
                gpuImages.push_back(i);
            }
            break;
        }
        default:
            if (!gpuBuffers.empty() && in.Bool())
                gpuBuffers.erase(gpuBuffers.begin() + in.U8() % gpuBuffers.size());
            else if (!gpuImages.empty())
                gpuImages.erase(gpuImages.begin() + in.U8() % gpuImages.size());
            break;
        }
    }

    /// Frees what the input left behind, the way an application would.
    void Cleanup()
    {
        FaultInjection::Reset();
        if (MemoryAllocator::IsDefragmenting())
            allocators[0]->EndDefragmentation();
        gpuBuffers.clear();
        gpuImages.clear();
        Sync();
        for (Live& l : live)
        {
            for (; l.maps > 0; --l.maps)
                MemoryAllocator::UnmapMemory(l.allocation);
            if (!allocators[0]->Free(l.allocation))
                __builtin_trap(); // a live allocation must be freeable
        }
        live.clear();
        for (auto& [buffer, allocation] : foreign)
            vmaDestroyBuffer(MemoryAllocator::GetAllocator(), buffer, allocation);
        foreign.clear();
    }
};
} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    Log::SetLevel(LogLevel::Error);
    VulkanDeviceOptions options;
    options.applicationName = "sedx-fuzz";
    options.enableValidation = false;
    g_Device = VulkanDevice::Create(options);
    if (!g_Device)
    {
        std::fprintf(stderr, "sedx fuzzer: no Vulkan device\n");
        std::abort();
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    Input in(data, size);
    AllocatorSettings settings;
    const uint8_t s = in.U8();
    settings.framesInFlight = s % 4;
    settings.stagingCacheBytes = (s >> 2) % 3 == 0 ? 0 : ((s >> 2) % 3 == 1 ? 1 * MiB : 64 * MiB);
    settings.forceGpuDefragmentationCopies = (s >> 4) & 1;
    settings.enableFaultInjection = (s >> 5) & 1;
    settings.addTransferUsage = ((s >> 6) & 3) != 3;
    (void)in.U8(); // was fragmentationRefreshFrames (no effect now): the corpus keeps its layout
    settings.heapSizeLimits.assign(g_Device->GetMemoryProperties().memoryHeapCount, kHeapLimit);
    FaultInjection::Reset();
    if (!MemoryAllocator::Init(g_Device, VK_API_VERSION_1_3, settings))
        __builtin_trap(); // valid settings must initialize
    {
        Session session{in, {}, {}, {}, {}, {}, {}, 0, {}};
        session.allocators.push_back(CreateRef<MemoryAllocator>("fuzz.a"));
        session.allocators.push_back(CreateRef<MemoryAllocator>("fuzz.b"));
        for (size_t op = 0; op < kMaxOps && !in.Empty(); ++op)
            session.Op();
        session.Cleanup();
        for (const TagStats& t : MemoryAllocator::GetAllTagStats())
            if (t.allocationCount != 0 || t.usedBytes != 0)
                __builtin_trap(); // counters drift: everything was freed
    }
    LogCapture capture;
    if (!MemoryAllocator::Shutdown())
        __builtin_trap();
    if (capture.Count(LogLevel::Error, "leak") != 0 || capture.Count(LogLevel::Error, {}, "VMA") != 0)
    {
        for (const LogRecord& r : capture.Records())
            std::fprintf(stderr, "[%s] %s\n", r.tag.c_str(), r.message.c_str());
        __builtin_trap(); // Shutdown found something the input had freed
    }
    return 0;
}
