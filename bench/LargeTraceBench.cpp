// (i) T10: memory given back at scale. A scenery session's worth of resources: buffers of every size
//     class (4 KiB..16 MiB) and RGBA8 images of 64^2..1024^2 with full mip chains, created until
//     about kLive bytes are live; then about 60 % of them, chosen at random (seed 10), are freed, so
//     that nearly every block keeps a few survivors; then one defragmentation of everything.
//     The live size scales with the device: half the largest device-local heap up to 4 GiB of heap
//     (1 GiB on lavapipe's 2 GiB heap, below VMA's 80 % budget estimate), 8 GiB above that (the
//     H200), or SEDX_BENCH_T10_MIB mebibytes when that variable is set; 128 MiB in quick mode.
//     Three variants, one after the other (never two in memory at once), replaying the same list:
//       ours_defrag     our allocator, then BeginDefragmentation(EXTENSIVE), MarkAll, EndDefragmentation
//                       (which releases the emptied blocks);
//       ours_no_defrag  the same trace without the defragmentation;
//       raw_vma_defrag  a raw VmaAllocator (default pools), then VMA's own FULL defragmentation
//                       driven by a plain loop (recreate, bind, copy, end the pass). FULL is raw
//                       VMA's better algorithm here (EXTENSIVE ended at 1.17 against FULL's 1.09 on
//                       lavapipe, 2026-12-05); ours runs EXTENSIVE, which patches/vma/0004 made
//                       close the holes FULL leaves.
//     Reported: committed/live before and after the defragmentation, blocks and bytes freed, and
//     the granularity floor (the best committed/live the pools' block sizes allow for what is live).
#include "BenchCommon.h"

#include <cstdlib>
#include <unordered_map>

namespace SceneryEditorX::Bench
{
namespace
{
constexpr uint64_t kSeed = 10;
constexpr double kFreeFraction = 0.6;
constexpr VkDeviceSize kMiB = 1024 * 1024;
constexpr VkBufferUsageFlags kBufferUsage =
    VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
constexpr VkImageUsageFlags kImageUsage = VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT;

struct Item
{
    bool image = false;
    VkDeviceSize size = 0; // buffers
    uint32_t side = 0;     // images
    bool freed = false;    // in the 60 %
};

VkDeviceSize LargestDeviceLocalHeap()
{
    VkPhysicalDeviceMemoryProperties props{};
    vkGetPhysicalDeviceMemoryProperties(Device().GetPhysicalDevice(), &props);
    VkDeviceSize largest = 0;
    for (uint32_t h = 0; h < props.memoryHeapCount; ++h)
        if (props.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
            largest = std::max(largest, props.memoryHeaps[h].size);
    return largest;
}

VkDeviceSize LiveTarget()
{
    if (const char* mib = std::getenv("SEDX_BENCH_T10_MIB"); mib && *mib)
        if (const unsigned long long v = std::strtoull(mib, nullptr, 10); v > 0)
            return static_cast<VkDeviceSize>(v) * kMiB;
    if (GetOptions().quick)
        return 128 * kMiB;
    const VkDeviceSize heap = LargestDeviceLocalHeap();
    return heap <= 4096 * kMiB ? heap / 2 : 8192 * kMiB;
}

VkDeviceSize ImageBytes(uint32_t side)
{
    return static_cast<VkDeviceSize>(side) * side * 4 * 4 / 3; // RGBA8 with its mip chain
}

VkDeviceSize LogUniform(SplitMix& rng, VkDeviceSize min, VkDeviceSize max)
{
    const double v =
        std::exp(std::log(double(min)) + rng.Unit() * (std::log(double(max)) - std::log(double(min))));
    return (static_cast<VkDeviceSize>(v) + 255) / 256 * 256;
}

struct LargeTrace
{
    std::vector<Item> items;
    VkDeviceSize target = 0;
};

const LargeTrace& TheLargeTrace()
{
    static const LargeTrace trace = []
    {
        LargeTrace t;
        t.target = LiveTarget();
        SplitMix rng{kSeed};
        VkDeviceSize bytes = 0;
        while (bytes < t.target)
        {
            Item item;
            const uint64_t pick = rng.Next() % 100;
            if (pick < 35)
                item.size = LogUniform(rng, 4 * 1024, SMALL_BUFFER_SIZE);
            else if (pick < 55)
                item.size = LogUniform(rng, SMALL_BUFFER_SIZE + 256, MEDIUM_BUFFER_SIZE);
            else if (pick < 70)
                item.size = LogUniform(rng, MEDIUM_BUFFER_SIZE + 256, LARGE_BUFFER_SIZE);
            else
            {
                item.image = true;
                item.side = 64u << (rng.Next() % 5); // 64^2 .. 1024^2
            }
            bytes += item.image ? ImageBytes(item.side) : item.size;
            item.freed = rng.Unit() < kFreeFraction;
            t.items.push_back(item);
        }
        return t;
    }();
    return trace;
}

struct Footprint
{
    uint64_t committed = 0;
    uint64_t live = 0;
    uint64_t blocks = 0;
    double Ratio() const { return live ? double(committed) / double(live) : 0.0; }
};

Footprint HeapFootprint(VmaAllocator allocator)
{
    std::array<VmaBudget, VK_MAX_MEMORY_HEAPS> budgets{};
    vmaGetHeapBudgets(allocator, budgets.data());
    const VkPhysicalDeviceMemoryProperties* props = nullptr;
    vmaGetMemoryProperties(allocator, &props);
    Footprint f;
    for (uint32_t h = 0; h < props->memoryHeapCount; ++h)
    {
        f.committed += budgets[h].statistics.blockBytes;
        f.live += budgets[h].statistics.allocationBytes;
        f.blocks += budgets[h].statistics.blockCount;
    }
    return f;
}

// Moves new images out of UNDEFINED as an upload would (defragmentation moves only images whose
// layout is known), in batches.
bool ToShaderRead(const std::vector<std::pair<VkImage, uint32_t>>& images)
{
    const Test::LayoutTransition t{VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL, 0,
                                   VK_ACCESS_SHADER_READ_BIT};
    for (size_t first = 0; first < images.size(); first += 256)
    {
        const size_t last = std::min(images.size(), first + 256);
        const VkResult r = Device().RunOneTimeCommands(
            [&](VkCommandBuffer cmd)
            {
                std::vector<VkImageMemoryBarrier> barriers;
                for (size_t i = first; i < last; ++i)
                    barriers.push_back(Test::ColorImageBarrier(images[i].first, t, images[i].second));
                vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
                                     VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 0, nullptr, 0, nullptr,
                                     static_cast<uint32_t>(barriers.size()), barriers.data());
            });
        if (r != VK_SUCCESS)
            return false;
    }
    return true;
}

struct Outcome
{
    Footprint before; // after the frees
    Footprint after;  // after the defragmentation (the same as before without one)
    double floor = 0; // granularity floor after the frees
    uint64_t blocksFreed = 0;
    uint64_t bytesFreed = 0;
    uint64_t bytesMoved = 0;
    double defragSeconds = 0;
    size_t resources = 0;
    size_t survivors = 0;
    nlohmann::json poolsAfter; // per pool after the defragmentation
};

void Report(benchmark::State& state, const std::string& variant, const Outcome& o)
{
    state.counters["before_committed_over_live"] = o.before.Ratio();
    state.counters["after_committed_over_live"] = o.after.Ratio();
    state.counters["granularity_floor"] = o.floor;
    state.counters["live_MiB"] = double(o.after.live) / double(kMiB);
    state.counters["before_committed_MiB"] = double(o.before.committed) / double(kMiB);
    state.counters["after_committed_MiB"] = double(o.after.committed) / double(kMiB);
    state.counters["blocks_before"] = double(o.before.blocks);
    state.counters["blocks_after"] = double(o.after.blocks);
    state.counters["blocks_freed"] = double(o.blocksFreed);
    state.counters["MiB_freed"] = double(o.bytesFreed) / double(kMiB);
    state.counters["MiB_moved"] = double(o.bytesMoved) / double(kMiB);
    state.counters["defrag_s"] = o.defragSeconds;
    RecordExtra(
        "large_trace/" + variant,
        {{"target_live_bytes", TheLargeTrace().target},
         {"resources", o.resources},
         {"survivors", o.survivors},
         {"before",
          {{"committed", o.before.committed}, {"live", o.before.live}, {"blocks", o.before.blocks}}},
         {"after", {{"committed", o.after.committed}, {"live", o.after.live}, {"blocks", o.after.blocks}}},
         {"granularity_floor", o.floor},
         {"blocks_freed", o.blocksFreed},
         {"bytes_freed", o.bytesFreed},
         {"bytes_moved", o.bytesMoved},
         {"defrag_seconds", o.defragSeconds},
         {"pools_after", o.poolsAfter}});
}

// ------------------------------------------------------------------ ours
void Ours(benchmark::State& state, bool defragment, std::string variant)
{
    const LargeTrace& trace = TheLargeTrace();
    Outcome o;
    bool ok = false;
    for (auto _ : state)
    {
        ScopedSession session(SessionKind::Default, true);
        if (!session.Ok())
        {
            state.SkipWithError("MemoryAllocator::Init failed");
            break;
        }
        MemoryAllocator allocator("large-trace");
        struct Live
        {
            VmaAllocation allocation = nullptr;
            bool image = false;
        };
        std::vector<Live> live(trace.items.size());
        std::vector<std::pair<VkImage, uint32_t>> newImages;
        std::vector<VmaAllocation> newImageAllocations;
        bool created = true;
        for (size_t i = 0; i < trace.items.size() && created; ++i)
        {
            const Item& item = trace.items[i];
            live[i].image = item.image;
            if (item.image)
            {
                const VkImageCreateInfo info = SquareImageInfo(item.side, kImageUsage);
                VkImage image = VK_NULL_HANDLE;
                live[i].allocation = allocator.AllocateImage(info, VMA_MEMORY_USAGE_GPU_ONLY, image);
                newImages.emplace_back(image, info.mipLevels);
                newImageAllocations.push_back(live[i].allocation);
            }
            else
            {
                VkBuffer buffer = VK_NULL_HANDLE;
                live[i].allocation = allocator.AllocateBuffer(BufferInfo(item.size, kBufferUsage),
                                                              VMA_MEMORY_USAGE_GPU_ONLY, buffer);
            }
            created = live[i].allocation != nullptr;
        }
        if (!created || !ToShaderRead(newImages))
        {
            state.SkipWithError("creating the trace's resources failed");
            for (Live& l : live)
                if (l.allocation)
                    l.image ? allocator.DestroyImage(MemoryAllocator::GetImage(l.allocation), l.allocation)
                            : allocator.DestroyBuffer(MemoryAllocator::GetBuffer(l.allocation), l.allocation);
            break;
        }
        for (VmaAllocation a : newImageAllocations)
            MemoryAllocator::SetImageLayout(a, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
        auto release = [&](Live& l)
        {
            if (!l.allocation)
                return;
            if (l.image)
                allocator.DestroyImage(MemoryAllocator::GetImage(l.allocation), l.allocation);
            else
                allocator.DestroyBuffer(MemoryAllocator::GetBuffer(l.allocation), l.allocation);
            l.allocation = nullptr;
        };
        o = Outcome{};
        o.resources = trace.items.size();
        for (size_t i = 0; i < trace.items.size(); ++i)
            if (trace.items[i].freed)
                release(live[i]);
            else
                ++o.survivors;
        const AllocationStats before = allocator.GetStats();
        o.before = {before.totalBytes, before.usedBytes, before.blockCount};
        o.floor = GranularityFloor(PoolBreakdown(MemoryAllocator::GetAllocator()));
        o.after = o.before;
        if (defragment)
        {
            DefragmentationOptions options;
            options.flags = VMA_DEFRAGMENTATION_FLAG_ALGORITHM_EXTENSIVE_BIT;
            if (!allocator.BeginDefragmentation(options))
            {
                state.SkipWithError("BeginDefragmentation failed");
                break;
            }
            allocator.MarkAllForDefragmentation();
            const DefragmentationStats stats = allocator.EndDefragmentation();
            const AllocationStats after = allocator.GetStats();
            o.after = {after.totalBytes, after.usedBytes, after.blockCount};
            o.blocksFreed = stats.blocksFreed;
            o.bytesFreed = stats.bytesFreed;
            o.bytesMoved = stats.bytesMoved;
            o.defragSeconds = std::chrono::duration<double>(stats.duration).count();
        }
        o.poolsAfter = PoolBreakdown(MemoryAllocator::GetAllocator());
        for (Live& l : live)
            release(l);
        ok = true;
    }
    if (ok)
        Report(state, variant, o);
}

// ------------------------------------------------------------------ raw VMA
struct RawSlot
{
    VmaAllocation allocation = nullptr;
    VkBuffer buffer = VK_NULL_HANDLE;
    VkImage image = VK_NULL_HANDLE;
    VkImageCreateInfo imageInfo{};
    VkBufferCreateInfo bufferInfo{};
};

// One pass's copies: buffers with vkCmdCopyBuffer, images mip by mip with their layout barriers.
void RecordCopies(VkCommandBuffer cmd, const std::vector<std::pair<RawSlot*, RawSlot>>& moves)
{
    const Test::LayoutTransition toSrc{VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL,
                                       VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_ACCESS_SHADER_READ_BIT,
                                       VK_ACCESS_TRANSFER_READ_BIT};
    const Test::LayoutTransition toDst{VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 0,
                                       VK_ACCESS_TRANSFER_WRITE_BIT};
    const Test::LayoutTransition dstToRead{VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                                           VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL,
                                           VK_ACCESS_TRANSFER_WRITE_BIT, VK_ACCESS_SHADER_READ_BIT};
    std::vector<VkImageMemoryBarrier> before, after;
    for (const auto& [slot, fresh] : moves)
        if (slot->image)
        {
            before.push_back(Test::ColorImageBarrier(slot->image, toSrc, slot->imageInfo.mipLevels));
            before.push_back(Test::ColorImageBarrier(fresh.image, toDst, slot->imageInfo.mipLevels));
            after.push_back(Test::ColorImageBarrier(fresh.image, dstToRead, slot->imageInfo.mipLevels));
        }
    if (!before.empty())
        vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0,
                             nullptr, 0, nullptr, static_cast<uint32_t>(before.size()), before.data());
    for (const auto& [slot, fresh] : moves)
    {
        if (slot->image)
        {
            std::vector<VkImageCopy> regions;
            for (uint32_t level = 0; level < slot->imageInfo.mipLevels; ++level)
            {
                VkImageCopy region{};
                region.srcSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, level, 0, 1};
                region.dstSubresource = region.srcSubresource;
                region.extent = {std::max(1u, slot->imageInfo.extent.width >> level),
                                 std::max(1u, slot->imageInfo.extent.height >> level), 1};
                regions.push_back(region);
            }
            vkCmdCopyImage(cmd, slot->image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, fresh.image,
                           VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, static_cast<uint32_t>(regions.size()),
                           regions.data());
        }
        else
        {
            const VkBufferCopy region{0, 0, slot->bufferInfo.size};
            vkCmdCopyBuffer(cmd, slot->buffer, fresh.buffer, 1, &region);
        }
    }
    if (!after.empty())
        vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 0,
                             nullptr, 0, nullptr, static_cast<uint32_t>(after.size()), after.data());
}

// VMA's own defragmentation, driven the way its documentation shows: per pass, recreate each moved
// resource, bind it at the destination, copy, destroy the old one, end the pass.
bool RawDefragment(VmaAllocator vma, std::unordered_map<VmaAllocation, RawSlot*>& byAllocation,
                   VmaDefragmentationStats& stats)
{
    VmaDefragmentationInfo info{};
    info.flags = VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FULL_BIT;
    VmaDefragmentationContext context = nullptr;
    if (vmaBeginDefragmentation(vma, &info, &context) != VK_SUCCESS)
        return false;
    const VkDevice device = Device().GetDevice();
    bool ok = true;
    for (;;)
    {
        VmaDefragmentationPassMoveInfo pass{};
        if (vmaBeginDefragmentationPass(vma, context, &pass) == VK_SUCCESS)
            break;
        std::vector<std::pair<RawSlot*, RawSlot>> moves;
        for (uint32_t m = 0; m < pass.moveCount && ok; ++m)
        {
            RawSlot* slot = byAllocation.at(pass.pMoves[m].srcAllocation);
            RawSlot fresh = *slot;
            if (slot->image)
                ok = vkCreateImage(device, &slot->imageInfo, nullptr, &fresh.image) == VK_SUCCESS &&
                     vmaBindImageMemory(vma, pass.pMoves[m].dstTmpAllocation, fresh.image) == VK_SUCCESS;
            else
                ok = vkCreateBuffer(device, &slot->bufferInfo, nullptr, &fresh.buffer) == VK_SUCCESS &&
                     vmaBindBufferMemory(vma, pass.pMoves[m].dstTmpAllocation, fresh.buffer) == VK_SUCCESS;
            moves.emplace_back(slot, fresh);
        }
        ok = ok && Device().RunOneTimeCommands([&](VkCommandBuffer cmd) { RecordCopies(cmd, moves); }) ==
                       VK_SUCCESS;
        for (auto& [slot, fresh] : moves)
        {
            if (slot->image)
            {
                vkDestroyImage(device, ok ? slot->image : fresh.image, nullptr);
                if (ok)
                    slot->image = fresh.image;
            }
            else
            {
                vkDestroyBuffer(device, ok ? slot->buffer : fresh.buffer, nullptr);
                if (ok)
                    slot->buffer = fresh.buffer;
            }
        }
        if (!ok)
            for (uint32_t m = 0; m < pass.moveCount; ++m)
                pass.pMoves[m].operation = VMA_DEFRAGMENTATION_MOVE_OPERATION_IGNORE;
        if (vmaEndDefragmentationPass(vma, context, &pass) == VK_SUCCESS || !ok)
            break;
    }
    vmaEndDefragmentation(vma, context, &stats);
    return ok;
}

void RawVma(benchmark::State& state)
{
    const LargeTrace& trace = TheLargeTrace();
    Outcome o;
    bool ok = false;
    for (auto _ : state)
    {
        VmaAllocator vma = CreateRawVma();
        if (!vma)
        {
            state.SkipWithError("vmaCreateAllocator failed");
            break;
        }
        std::vector<RawSlot> slots(trace.items.size());
        std::vector<std::pair<VkImage, uint32_t>> newImages;
        VmaAllocationCreateInfo aci{};
        aci.usage = VMA_MEMORY_USAGE_GPU_ONLY;
        bool created = true;
        for (size_t i = 0; i < trace.items.size() && created; ++i)
        {
            const Item& item = trace.items[i];
            RawSlot& s = slots[i];
            if (item.image)
            {
                s.imageInfo =
                    SquareImageInfo(item.side, EffectiveImageUsage(VK_FORMAT_R8G8B8A8_UNORM, kImageUsage) |
                                                   VK_IMAGE_USAGE_TRANSFER_SRC_BIT);
                created =
                    vmaCreateImage(vma, &s.imageInfo, &aci, &s.image, &s.allocation, nullptr) == VK_SUCCESS;
                if (created)
                    newImages.emplace_back(s.image, s.imageInfo.mipLevels);
            }
            else
            {
                s.bufferInfo = BufferInfo(item.size, EffectiveBufferUsage(kBufferUsage));
                created = vmaCreateBuffer(vma, &s.bufferInfo, &aci, &s.buffer, &s.allocation, nullptr) ==
                          VK_SUCCESS;
            }
        }
        auto release = [&](RawSlot& s)
        {
            if (!s.allocation)
                return;
            if (s.image)
                vmaDestroyImage(vma, s.image, s.allocation);
            else
                vmaDestroyBuffer(vma, s.buffer, s.allocation);
            s.allocation = nullptr;
        };
        if (!created || !ToShaderRead(newImages))
        {
            state.SkipWithError("creating the trace's resources in raw VMA failed");
            for (RawSlot& s : slots)
                release(s);
            DestroyRawVma(vma);
            break;
        }
        o = Outcome{};
        o.resources = trace.items.size();
        std::unordered_map<VmaAllocation, RawSlot*> byAllocation;
        for (size_t i = 0; i < trace.items.size(); ++i)
        {
            if (trace.items[i].freed)
                release(slots[i]);
            else
            {
                byAllocation[slots[i].allocation] = &slots[i];
                ++o.survivors;
            }
        }
        o.before = HeapFootprint(vma);
        o.floor = GranularityFloor(PoolBreakdown(vma));
        VmaDefragmentationStats stats{};
        const auto start = std::chrono::steady_clock::now();
        const bool moved = RawDefragment(vma, byAllocation, stats);
        o.defragSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        o.after = HeapFootprint(vma);
        o.blocksFreed = o.before.blocks > o.after.blocks ? o.before.blocks - o.after.blocks : 0;
        o.bytesFreed = o.before.committed > o.after.committed ? o.before.committed - o.after.committed : 0;
        o.bytesMoved = stats.bytesMoved;
        o.poolsAfter = PoolBreakdown(vma);
        for (RawSlot& s : slots)
            release(s);
        DestroyRawVma(vma);
        if (!moved)
        {
            state.SkipWithError("raw VMA defragmentation loop failed");
            break;
        }
        ok = true;
    }
    if (ok)
        Report(state, "raw_vma_defrag", o);
}
} // namespace

void RegisterLargeTraceBenchmarks()
{
    benchmark::RegisterBenchmark("i/large/ours_defrag", Ours, true, std::string("ours_defrag"))
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
    benchmark::RegisterBenchmark("i/large/ours_no_defrag", Ours, false, std::string("ours_no_defrag"))
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
    benchmark::RegisterBenchmark("i/large/raw_vma_defrag", RawVma)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
}

} // namespace SceneryEditorX::Bench
