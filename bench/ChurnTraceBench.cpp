// (f) A scene-streaming churn trace: a window of 5x5 tiles follows a camera that drives 0.05 tiles
//     a frame and turns now and then (seed 42, 900 frames; the shape of `sedx-mem demo`'s default
//     scenery). Each tile that enters the window loads a vertex buffer (16 KiB..768 KiB), an index
//     buffer (4 KiB..196 KiB), one or two RGBA8 textures of 64^2..512^2 with full mip chains and a
//     small persistently mapped uniform buffer; each tile that leaves is destroyed with a delay of
//     framesInFlight (2) frames. The trace is generated once and replayed identically by every
//     variant:
//       ours with Default, SpeedOptimized, MemoryOptimized, MemoryOptimized plus a defragmentation
//       every 100 frames (BeginDefragmentation, MarkAllForDefragmentation, EndDefragmentation;
//       BALANCED and FULL algorithm), and raw VMA's default (no strategy flag, default pools).
//     Each variant starts from a fresh allocator. The figure is committed / live bytes: VMA's
//     per-heap blockBytes / allocationBytes summed over the heaps (for ours, GetStats()).
//     Counters: the ratio at the end, its mean and maximum over the frames, and the bytes.
//     The series (every 10 frames) is in the ratio table's JSON under extras.
#include "BenchCommon.h"

#include <array>
#include <chrono>
#include <cmath>
#include <deque>
#include <map>
#include <memory>

namespace SceneryEditorX::Bench
{
namespace
{
constexpr uint64_t kSeed = 42;
constexpr int kWindow = 5;
constexpr uint64_t kDefragInterval = 100;
constexpr uint32_t kFramesInFlight = 2; // AllocatorSettings' default; raw VMA's variant mirrors it

struct TraceResource
{
    bool image = false;
    VkDeviceSize size = 0; // buffers
    uint32_t side = 0;     // images
    VkBufferUsageFlags bufferUsage = 0;
    bool hostMapped = false; // persistently mapped, sequential host writes (uniforms)
};

struct TraceEvent
{
    enum class Kind : uint8_t
    {
        Create,
        Destroy,
        EndFrame
    };
    Kind kind = Kind::EndFrame;
    uint32_t slot = 0;  // Create/Destroy
    uint64_t frame = 0; // EndFrame
    TraceResource resource;
};

struct Trace
{
    std::vector<TraceEvent> events;
    uint32_t slots = 0;
    uint64_t frames = 0;
    uint64_t tilesLoaded = 0;
    uint64_t tilesUnloaded = 0;
};

uint64_t Mix(uint64_t a, uint64_t b)
{
    SplitMix m{a ^ (b * 0xD6E8FEB86659FD93ull)};
    return m.Next();
}

// The deterministic generator: a camera on a tile grid, tiles in a window around it.
Trace GenerateTrace(uint64_t frames)
{
    Trace trace;
    trace.frames = frames;
    SplitMix rng{kSeed};
    double camX = 0.0, camY = 0.0;
    int dirX = 1, dirY = 0;
    std::map<std::pair<int, int>, std::vector<uint32_t>> resident; // tile -> slots
    const int half = kWindow / 2;
    for (uint64_t frame = 1; frame <= frames; ++frame)
    {
        if (frame % 150 == 0)
        {
            const uint64_t turn = rng.Next() % 3; // left, straight, right
            if (turn != 1)
            {
                const int oldX = dirX;
                dirX = turn == 0 ? -dirY : dirY;
                dirY = turn == 0 ? oldX : -oldX;
            }
        }
        camX += 0.05 * dirX;
        camY += 0.05 * dirY;
        const int cx = static_cast<int>(std::floor(camX));
        const int cy = static_cast<int>(std::floor(camY));
        for (auto it = resident.begin(); it != resident.end();)
        {
            if (std::abs(it->first.first - cx) > half || std::abs(it->first.second - cy) > half)
            {
                for (uint32_t slot : it->second)
                    trace.events.push_back({TraceEvent::Kind::Destroy, slot, 0, {}});
                it = resident.erase(it);
                ++trace.tilesUnloaded;
            }
            else
                ++it;
        }
        for (int y = cy - half; y <= cy + half; ++y)
            for (int x = cx - half; x <= cx + half; ++x)
            {
                if (resident.count({x, y}))
                    continue;
                SplitMix tile{Mix(Mix(kSeed, static_cast<uint32_t>(x)), static_cast<uint32_t>(y))};
                std::vector<TraceResource> resources;
                resources.push_back(
                    {false, 64 * (256 + tile.Next() % 12000), 0, VK_BUFFER_USAGE_VERTEX_BUFFER_BIT, false});
                resources.push_back(
                    {false, 64 * (64 + tile.Next() % 3000), 0, VK_BUFFER_USAGE_INDEX_BUFFER_BIT, false});
                const int textures = 1 + static_cast<int>(tile.Next() % 2);
                for (int t = 0; t < textures; ++t)
                    resources.push_back({true, 0, 64u << (tile.Next() % 4), 0, false});
                resources.push_back(
                    {false, 256 * (1 + tile.Next() % 8), 0, VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT, true});
                std::vector<uint32_t>& slots = resident[{x, y}];
                for (const TraceResource& r : resources)
                {
                    slots.push_back(trace.slots);
                    trace.events.push_back({TraceEvent::Kind::Create, trace.slots++, 0, r});
                }
                ++trace.tilesLoaded;
            }
        trace.events.push_back({TraceEvent::Kind::EndFrame, 0, frame, {}});
    }
    return trace;
}

const Trace& TheTrace()
{
    static const Trace trace = GenerateTrace(GetOptions().quick ? 200 : 900);
    return trace;
}

constexpr VkImageUsageFlags kImageUsage = VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT;

// Moves freshly created images out of UNDEFINED, as an upload would, so that defragmentation may
// move them (it refuses images whose layout is unknown). Every variant does it.
VkResult TransitionToShaderRead(const std::vector<std::pair<VkImage, uint32_t>>& images)
{
    if (images.empty())
        return VK_SUCCESS;
    return Device().RunOneTimeCommands(
        [&](VkCommandBuffer cmd)
        {
            std::vector<VkImageMemoryBarrier> barriers;
            barriers.reserve(images.size());
            const Test::LayoutTransition toShaderRead{VK_IMAGE_LAYOUT_UNDEFINED,
                                                      VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL, 0,
                                                      VK_ACCESS_SHADER_READ_BIT};
            for (const auto& [image, levels] : images)
                barriers.push_back(Test::ColorImageBarrier(image, toShaderRead, levels));
            vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                                 0, 0, nullptr, 0, nullptr, static_cast<uint32_t>(barriers.size()),
                                 barriers.data());
        });
}

struct Usage
{
    uint64_t committed = 0;
    uint64_t live = 0;
};

class Backend
{
public:
    virtual ~Backend() = default;
    virtual bool Create(uint32_t slot, const TraceResource& r) = 0;
    virtual void Destroy(uint32_t slot) = 0;
    virtual bool EndFrame(uint64_t frame) = 0;
    virtual Usage Measure() = 0;
    virtual void DestroyAll() = 0;
    virtual nlohmann::json Summary() { return nlohmann::json::object(); }
    virtual nlohmann::json Pools() = 0;
};

// ------------------------------------------------------------------ ours
class OursBackend final : public Backend
{
public:
    OursBackend(uint32_t slots, MemoryAllocator::AllocationStrategy strategy,
                VmaDefragmentationFlags defragFlags)
        : m_Allocator("trace"), m_Slots(slots), m_DefragFlags(defragFlags)
    {
        m_Allocator.SetAllocationStrategy(strategy);
    }

    bool Create(uint32_t slot, const TraceResource& r) override
    {
        Slot& s = m_Slots[slot];
        s.image = r.image;
        if (r.image)
        {
            const VkImageCreateInfo info = SquareImageInfo(r.side, kImageUsage);
            VkImage image = VK_NULL_HANDLE;
            s.allocation = m_Allocator.AllocateImage(info, VMA_MEMORY_USAGE_GPU_ONLY, image);
            if (s.allocation)
                m_NewImages.push_back({image, info.mipLevels, s.allocation});
            return s.allocation != nullptr;
        }
        AllocationCreateInfo ci;
        ci.usage = VMA_MEMORY_USAGE_GPU_ONLY;
        if (r.hostMapped)
        {
            ci.usage = VMA_MEMORY_USAGE_AUTO;
            ci.flags = AllocationFlags::Mapped | AllocationFlags::HostAccessSequentialWrite;
        }
        VkBuffer buffer = VK_NULL_HANDLE;
        s.allocation = m_Allocator.AllocateBuffer(BufferInfo(r.size, r.bufferUsage), ci, buffer);
        return s.allocation != nullptr;
    }

    void Destroy(uint32_t slot) override { Release(m_Slots[slot], Deferred::Yes); }

    bool EndFrame(uint64_t frame) override
    {
        std::vector<std::pair<VkImage, uint32_t>> images;
        for (const NewImage& n : m_NewImages)
            images.emplace_back(n.image, n.levels);
        if (TransitionToShaderRead(images) != VK_SUCCESS)
            return false;
        for (const NewImage& n : m_NewImages)
            MemoryAllocator::SetImageLayout(n.allocation, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
        m_NewImages.clear();
        MemoryAllocator::SetCurrentFrameIndex(frame);
        if (m_DefragFlags != 0 && frame % kDefragInterval == 0)
        {
            if (!m_Allocator.BeginDefragmentation(m_DefragFlags))
                return false;
            m_Allocator.MarkAllForDefragmentation();
            const DefragmentationStats stats = m_Allocator.EndDefragmentation();
            m_DefragRuns += 1;
            m_DefragBytesMoved += stats.bytesMoved;
            m_DefragBytesFreed += stats.bytesFreed;
            m_DefragRefused += stats.allocationsRefused;
            m_DefragSeconds += std::chrono::duration<double>(stats.duration).count();
        }
        return true;
    }

    Usage Measure() override
    {
        const AllocationStats stats = m_Allocator.GetStats();
        return {stats.totalBytes, stats.usedBytes};
    }

    void DestroyAll() override
    {
        for (Slot& s : m_Slots)
            Release(s, Deferred::No);
        MemoryAllocator::SetCurrentFrameIndex(MemoryAllocator::GetCurrentFrameIndex() + kFramesInFlight + 1);
    }

    nlohmann::json Summary() override
    {
        return {{"defrag_runs", m_DefragRuns},
                {"defrag_bytes_moved", m_DefragBytesMoved},
                {"defrag_bytes_freed", m_DefragBytesFreed},
                {"defrag_allocations_refused", m_DefragRefused},
                {"defrag_seconds", m_DefragSeconds}};
    }

    nlohmann::json Pools() override { return PoolBreakdown(MemoryAllocator::GetAllocator()); }

    uint64_t DefragBytesMoved() const { return m_DefragBytesMoved; }
    uint32_t DefragRuns() const { return m_DefragRuns; }

private:
    struct Slot
    {
        VmaAllocation allocation = nullptr;
        bool image = false;
    };
    enum class Deferred
    {
        No,
        Yes
    };
    void Release(Slot& s, Deferred deferred)
    {
        if (!s.allocation)
            return;
        // The handle may have changed in a defragmentation: ask for the current one.
        if (s.image)
        {
            const VkImage image = MemoryAllocator::GetImage(s.allocation);
            if (deferred == Deferred::Yes)
                m_Allocator.DestroyImageDeferred(image, s.allocation);
            else
                m_Allocator.DestroyImage(image, s.allocation);
        }
        else
        {
            const VkBuffer buffer = MemoryAllocator::GetBuffer(s.allocation);
            if (deferred == Deferred::Yes)
                m_Allocator.DestroyBufferDeferred(buffer, s.allocation);
            else
                m_Allocator.DestroyBuffer(buffer, s.allocation);
        }
        s.allocation = nullptr;
    }
    struct NewImage
    {
        VkImage image;
        uint32_t levels;
        VmaAllocation allocation;
    };
    MemoryAllocator m_Allocator;
    std::vector<Slot> m_Slots;
    std::vector<NewImage> m_NewImages;
    VmaDefragmentationFlags m_DefragFlags;
    uint32_t m_DefragRuns = 0;
    uint64_t m_DefragBytesMoved = 0;
    uint64_t m_DefragBytesFreed = 0;
    uint64_t m_DefragRefused = 0;
    double m_DefragSeconds = 0;
};

// ------------------------------------------------------------------ raw VMA
class RawVmaBackend final : public Backend
{
public:
    explicit RawVmaBackend(uint32_t slots) : m_Vma(CreateRawVma()), m_Slots(slots) {}
    ~RawVmaBackend() override
    {
        DestroyAll();
        DestroyRawVma(m_Vma);
    }
    bool Ok() const { return m_Vma != nullptr; }

    bool Create(uint32_t slot, const TraceResource& r) override
    {
        Slot& s = m_Slots[slot];
        s.image = r.image;
        VmaAllocationCreateInfo aci{};
        aci.usage = VMA_MEMORY_USAGE_GPU_ONLY;
        if (r.image)
        {
            const VkImageCreateInfo info =
                SquareImageInfo(r.side, EffectiveImageUsage(VK_FORMAT_R8G8B8A8_UNORM, kImageUsage));
            if (vmaCreateImage(m_Vma, &info, &aci, &s.imageHandle, &s.allocation, nullptr) != VK_SUCCESS)
                return false;
            m_NewImages.emplace_back(s.imageHandle, info.mipLevels);
            return true;
        }
        if (r.hostMapped)
        {
            aci.usage = VMA_MEMORY_USAGE_AUTO;
            aci.flags =
                VMA_ALLOCATION_CREATE_MAPPED_BIT | VMA_ALLOCATION_CREATE_HOST_ACCESS_SEQUENTIAL_WRITE_BIT;
        }
        const VkBufferCreateInfo info = BufferInfo(r.size, EffectiveBufferUsage(r.bufferUsage));
        return vmaCreateBuffer(m_Vma, &info, &aci, &s.buffer, &s.allocation, nullptr) == VK_SUCCESS;
    }

    void Destroy(uint32_t slot) override
    {
        Slot& s = m_Slots[slot];
        if (s.allocation)
            m_Retired.push_back({m_Frame + kFramesInFlight, s});
        s = Slot{};
    }

    bool EndFrame(uint64_t frame) override
    {
        if (TransitionToShaderRead(m_NewImages) != VK_SUCCESS)
            return false;
        m_NewImages.clear();
        m_Frame = frame;
        vmaSetCurrentFrameIndex(m_Vma, static_cast<uint32_t>(frame));
        while (!m_Retired.empty() && m_Retired.front().first <= frame)
        {
            Release(m_Retired.front().second);
            m_Retired.pop_front();
        }
        return true;
    }

    Usage Measure() override
    {
        std::array<VmaBudget, VK_MAX_MEMORY_HEAPS> budgets{};
        vmaGetHeapBudgets(m_Vma, budgets.data());
        const VkPhysicalDeviceMemoryProperties* props = nullptr;
        vmaGetMemoryProperties(m_Vma, &props);
        Usage u;
        for (uint32_t h = 0; h < props->memoryHeapCount; ++h)
        {
            u.committed += budgets[h].statistics.blockBytes;
            u.live += budgets[h].statistics.allocationBytes;
        }
        return u;
    }

    nlohmann::json Pools() override { return PoolBreakdown(m_Vma); }

    void DestroyAll() override
    {
        if (!m_Vma)
            return;
        for (auto& [frame, slot] : m_Retired)
            Release(slot);
        m_Retired.clear();
        for (Slot& s : m_Slots)
            Release(s);
    }

private:
    struct Slot
    {
        VmaAllocation allocation = nullptr;
        VkBuffer buffer = VK_NULL_HANDLE;
        VkImage imageHandle = VK_NULL_HANDLE;
        bool image = false;
    };
    void Release(Slot& s)
    {
        if (!s.allocation)
            return;
        if (s.image)
            vmaDestroyImage(m_Vma, s.imageHandle, s.allocation);
        else
            vmaDestroyBuffer(m_Vma, s.buffer, s.allocation);
        s = Slot{};
    }
    VmaAllocator m_Vma;
    std::vector<Slot> m_Slots;
    std::vector<std::pair<VkImage, uint32_t>> m_NewImages;
    std::deque<std::pair<uint64_t, Slot>> m_Retired;
    uint64_t m_Frame = 0;
};

// ------------------------------------------------------------------ replay
struct ReplayResult
{
    bool ok = true;
    std::string error;
    Usage end;
    nlohmann::json pools; // per pool at the end
    double meanRatio = 0;
    double maxRatio = 0;
    nlohmann::json series = nlohmann::json::array();
};

double Ratio(const Usage& u)
{
    return u.live ? static_cast<double>(u.committed) / static_cast<double>(u.live) : 0.0;
}

ReplayResult Replay(const Trace& trace, Backend& backend)
{
    ReplayResult result;
    double ratioSum = 0;
    uint64_t ratioFrames = 0;
    for (const TraceEvent& e : trace.events)
    {
        switch (e.kind)
        {
        case TraceEvent::Kind::Create:
            if (!backend.Create(e.slot, e.resource))
            {
                result.ok = false;
                result.error = "allocation failed in the trace";
                return result;
            }
            break;
        case TraceEvent::Kind::Destroy:
            backend.Destroy(e.slot);
            break;
        case TraceEvent::Kind::EndFrame:
        {
            if (!backend.EndFrame(e.frame))
            {
                result.ok = false;
                result.error = "end of frame (layout transitions or defragmentation) failed";
                return result;
            }
            const Usage u = backend.Measure();
            const double r = Ratio(u);
            ratioSum += r;
            ++ratioFrames;
            result.maxRatio = std::max(result.maxRatio, r);
            if (e.frame % 10 == 0 || e.frame == trace.frames)
                result.series.push_back({e.frame, u.committed, u.live});
            result.end = u;
            break;
        }
        }
    }
    result.meanRatio = ratioFrames ? ratioSum / static_cast<double>(ratioFrames) : 0.0;
    result.pools = backend.Pools();
    return result;
}

void Report(benchmark::State& state, const std::string& variant, const ReplayResult& r,
            nlohmann::json summary)
{
    constexpr double kMiB = 1024.0 * 1024.0;
    state.counters["committed_over_live"] = Ratio(r.end);
    state.counters["mean_committed_over_live"] = r.meanRatio;
    state.counters["max_committed_over_live"] = r.maxRatio;
    state.counters["committed_MiB"] = static_cast<double>(r.end.committed) / kMiB;
    state.counters["live_MiB"] = static_cast<double>(r.end.live) / kMiB;
    // The best committed/live the pools' block sizes allow for what is live at the end.
    state.counters["granularity_floor"] = GranularityFloor(r.pools);
    const Trace& trace = TheTrace();
    summary["frames"] = trace.frames;
    summary["tiles_loaded"] = trace.tilesLoaded;
    summary["tiles_unloaded"] = trace.tilesUnloaded;
    summary["resources"] = trace.slots;
    summary["end_committed_bytes"] = r.end.committed;
    summary["end_live_bytes"] = r.end.live;
    summary["end_committed_over_live"] = Ratio(r.end);
    summary["end_granularity_floor"] = GranularityFloor(r.pools);
    summary["mean_committed_over_live"] = r.meanRatio;
    summary["max_committed_over_live"] = r.maxRatio;
    summary["pools_at_end"] = r.pools;
    summary["series_columns"] = {"frame", "committed_bytes", "live_bytes"};
    summary["series"] = r.series;
    RecordExtra("trace/" + variant, std::move(summary));
}

void OursTrace(benchmark::State& state, MemoryAllocator::AllocationStrategy strategy,
               VmaDefragmentationFlags defragFlags, std::string variant)
{
    const Trace& trace = TheTrace();
    ReplayResult last;
    last.ok = false;
    nlohmann::json summary;
    for (auto _ : state)
    {
        ScopedSession session(SessionKind::Default, true); // a fresh allocator for every replay
        if (!session.Ok())
        {
            state.SkipWithError("MemoryAllocator::Init failed");
            break;
        }
        OursBackend backend(trace.slots, strategy, defragFlags);
        last = Replay(trace, backend);
        summary = backend.Summary();
        backend.DestroyAll();
        if (!last.ok)
        {
            state.SkipWithError(last.error.c_str());
            break;
        }
        state.counters["defrag_MiB_moved"] =
            static_cast<double>(backend.DefragBytesMoved()) / (1024.0 * 1024.0);
        state.counters["defrag_runs"] = backend.DefragRuns();
    }
    if (last.ok)
        Report(state, variant, last, summary);
}

void RawVmaTrace(benchmark::State& state)
{
    const Trace& trace = TheTrace();
    ReplayResult last;
    last.ok = false;
    for (auto _ : state)
    {
        RawVmaBackend backend(trace.slots);
        if (!backend.Ok())
        {
            state.SkipWithError("vmaCreateAllocator failed");
            break;
        }
        last = Replay(trace, backend);
        if (!last.ok)
        {
            state.SkipWithError(last.error.c_str());
            break;
        }
    }
    if (last.ok)
        Report(state, "raw_vma_default", last,
               {{"allocator", "fresh raw VmaAllocator, default flags per call"}});
}
} // namespace

void RegisterChurnTraceBenchmarks()
{
    using S = MemoryAllocator::AllocationStrategy;
    const auto reg = [](const std::string& variant, auto&&... args)
    {
        benchmark::RegisterBenchmark(("f/trace/" + variant).c_str(), args..., variant)
            ->Unit(benchmark::kMillisecond)
            ->Iterations(1);
    };
    reg("Default", OursTrace, S::Default, VmaDefragmentationFlags{0});
    reg("SpeedOptimized", OursTrace, S::SpeedOptimized, VmaDefragmentationFlags{0});
    reg("MemoryOptimized", OursTrace, S::MemoryOptimized, VmaDefragmentationFlags{0});
    reg("MemoryOptimized+defrag", OursTrace, S::MemoryOptimized,
        VmaDefragmentationFlags{VMA_DEFRAGMENTATION_FLAG_ALGORITHM_BALANCED_BIT});
    reg("MemoryOptimized+defrag_full", OursTrace, S::MemoryOptimized,
        VmaDefragmentationFlags{VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FULL_BIT});
    benchmark::RegisterBenchmark("f/trace/raw_vma_default", RawVmaTrace)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
}

} // namespace SceneryEditorX::Bench
