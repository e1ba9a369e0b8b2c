// Model-based random testing (issue 7): seeded random operations on several tagged instances, each
// checked against a shadow model (ShadowModel.h) right after it ran.
//
//   SEDX_MODEL_OPS=<n>     operations in total (default 200000, split over four segments that each
//                          Init with other settings and end with Shutdown)
//   SEDX_MODEL_SEED=<n>    the seed (default fixed, so that CI is reproducible); every failure
//                          names it, with the segment and the operation's index
//   SEDX_MODEL_VERBOSE=1   keep the allocator's log on stdout (by default it is silenced during
//                          the run: the bad operations write thousands of expected error lines)
//
// After every operation: the per-tag counters and their sums, VMA's counters (live + retired +
// staging) and ContainsAllocation for every live and the recently freed handles. Every 1000
// operations (a checkpoint): the handles, the contents of every host-visible allocation through
// the mapping and of a rotating set of the others through the readbacks, VMA's exact walk and the
// staging buffers in its dump, and the validation layer's counts. After each defragmentation and
// at the end of a segment: every allocation's contents, read back.
#include "ShadowModel.h"

#include <SceneryEditorX/Vulkan/VulkanDevice.h>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <sstream>

namespace SceneryEditorX::Reliability
{
namespace
{
constexpr uint64_t kDefaultSeed = 0x5EDC0FFEE7ull;
constexpr uint64_t kDefaultOps = 200000;
constexpr uint64_t kCheckpointInterval = 1000;

/// Sends stdout (where the log's console sink writes) to a file while alive; stderr stays. The file
/// is emptied at every checkpoint that passed; on a failure its tail goes to stderr, and after a
/// crash it is left behind (its path is printed first).
class QuietStdout
{
public:
    explicit QuietStdout(bool enabled)
    {
        if (!enabled)
            return;
        const char* dir = std::getenv("TMPDIR");
        m_Path = std::string(dir && *dir ? dir : "/tmp") + "/sedx-model-" + std::to_string(getpid()) + ".log";
        const int file = open(m_Path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0644);
        if (file < 0)
            return;
        std::fflush(stdout);
        m_Saved = dup(STDOUT_FILENO);
        m_File = file;
        dup2(file, STDOUT_FILENO);
        std::fprintf(stderr, "model test: the allocator's log of this run goes to %s\n", m_Path.c_str());
    }
    ~QuietStdout()
    {
        const bool active = m_Saved >= 0;
        Restore(false);
        if (active && !m_KeepFile)
            unlink(m_Path.c_str());
    }
    QuietStdout(const QuietStdout&) = delete;
    QuietStdout& operator=(const QuietStdout&) = delete;

    /// Forgets what was logged so far (everything up to here was checked and fine).
    void Truncate()
    {
        if (m_Saved < 0)
            return;
        std::fflush(stdout);
        if (ftruncate(m_File, 0) != 0)
            return;
    }
    /// Puts stdout back; with `failed`, prints the log's last lines to stderr and keeps the file.
    void Restore(bool failed)
    {
        if (m_Saved < 0)
            return;
        std::fflush(stdout);
        dup2(m_Saved, STDOUT_FILENO);
        close(m_Saved);
        close(m_File);
        m_Saved = -1;
        if (!failed)
            return;
        m_KeepFile = true;
        std::vector<std::string> lines;
        if (FILE* in = std::fopen(m_Path.c_str(), "r"))
        {
            char line[1024];
            while (std::fgets(line, sizeof line, in))
            {
                lines.emplace_back(line);
                if (lines.size() > 40)
                    lines.erase(lines.begin());
            }
            std::fclose(in);
        }
        std::fprintf(stderr, "model test: the last %zu lines of the allocator's log (all of it: %s):\n",
                     lines.size(), m_Path.c_str());
        for (const std::string& l : lines)
            std::fputs(l.c_str(), stderr);
    }

private:
    std::string m_Path;
    int m_Saved = -1;
    int m_File = -1;
    bool m_KeepFile = false;
};

enum Op : uint32_t
{
    OpAllocSmall,
    OpAllocMedium,
    OpAllocLarge,
    OpAllocImage,
    OpDestroy,
    OpDestroyDeferred,
    OpFree,
    OpMapWrite,
    OpUploadBuffer,
    OpUploadImage,
    OpReadback,
    OpBatchAllocate,
    OpBatchFree,
    OpFrame,
    OpDefragment,
    OpRename,
    OpBad,
    kOpCount
};
constexpr std::array<const char*, kOpCount> kOpNames = {"allocate small buffer",
                                                        "allocate medium buffer",
                                                        "allocate large buffer",
                                                        "allocate image",
                                                        "destroy",
                                                        "destroy deferred",
                                                        "free",
                                                        "map/write/unmap",
                                                        "upload buffer",
                                                        "upload image",
                                                        "read back",
                                                        "batch allocate",
                                                        "batch free",
                                                        "advance frame",
                                                        "defragment",
                                                        "rename",
                                                        "bad operation"};
// Weights per 1000: mostly small buffers and cheap CPU-side operations; submissions (uploads,
// read-backs, images) are rarer, defragmentation rarest.
constexpr std::array<double, kOpCount> kWeights = {300, 50, 6,  12, 190, 80,   20, 140, 20,
                                                   6,   8,  10, 10, 50,  0.25, 10, 40};

struct RunTotals
{
    uint64_t operations = 0;
    std::array<uint64_t, kOpCount> perOp{};
    uint64_t badCalls = 0;
    uint64_t defragMoves = 0;
    uint64_t bytesVerified = 0;
    uint64_t checkpoints = 0;
};

struct SegmentSpec
{
    const char* name;
    uint32_t framesInFlight;
    bool forceGpuCopies;
    VkDeviceSize stagingCacheBytes;
};
constexpr std::array<SegmentSpec, 4> kSegments = {{
    {"defaults", 2, false, 64 * MiB},
    {"no frames in flight, GPU copies, 1 MiB staging cache", 0, true, 1 * MiB},
    {"3 frames in flight, GPU copies", 3, true, 64 * MiB},
    {"1 frame in flight, no staging cache", 1, false, 0},
}};

class ModelRun
{
public:
    ModelRun(uint64_t seed, const SegmentSpec& spec, size_t segment, RunTotals& totals, QuietStdout& quiet)
        : m_Rng(seed), m_Spec(spec), m_Model(spec.stagingCacheBytes, spec.framesInFlight), m_Totals(totals),
          m_Quiet(quiet)
    {
        const std::string prefix = "Model" + std::to_string(segment);
        m_Model.AddInstance(prefix + ".terrain");
        m_Model.AddInstance(prefix + ".ui");
        m_Model.AddInstance(prefix + ".shared");
        m_Model.AddInstance(prefix + ".shared"); // a second instance of the same tag: shared counters
        m_Model.Alloc(1).SetAllocationStrategy(MemoryAllocator::AllocationStrategy::SpeedOptimized);
        m_Model.Alloc(2).SetAllocationStrategy(MemoryAllocator::AllocationStrategy::MemoryOptimized);
        EXPECT_TRUE(m_Model.Alloc(1).SetBufferAlignment(256));
        EXPECT_TRUE(m_Model.Alloc(3).SetBufferAlignment(64));
    }

    /// Runs `ops` operations; false after the first failure (which has been reported).
    bool Run(uint64_t ops)
    {
        m_RelocationId = MemoryAllocator::AddRelocationCallback([this](const RelocationNotice& notice)
                                                                { m_Notices.push_back(notice); });
        bool ok = true;
        for (m_Op = 0; m_Op < ops && ok; ++m_Op)
        {
            const Op op = Pick();
            m_OpName = kOpNames[op];
            ++m_Totals.perOp[op];
            ++m_Totals.operations;
            ok = Report(Do(op)) && Report(m_Model.CheckCounters());
            if (ok && (m_Op + 1) % kCheckpointInterval == 0)
                ok = Checkpoint();
        }
        m_OpName = "end of segment";
        ok = ok && Report(Finish());
        if (!ok)
            Abandon();
        MemoryAllocator::RemoveRelocationCallback(m_RelocationId);
        return ok;
    }

private:
    Rng m_Rng;
    SegmentSpec m_Spec;
    ShadowModel m_Model;
    RunTotals& m_Totals;
    QuietStdout& m_Quiet;
    uint64_t m_Op = 0;
    const char* m_OpName = "";
    uint64_t m_RelocationId = 0;
    std::vector<RelocationNotice> m_Notices;
    std::vector<uint8_t> m_Data;

    using Result = ::testing::AssertionResult;
    static Result Ok() { return ::testing::AssertionSuccess(); }
    static Result Fail() { return ::testing::AssertionFailure(); }

    bool Report(const Result& r)
    {
        if (r)
            return true;
        m_Quiet.Restore(true);
        ADD_FAILURE() << "operation #" << m_Op << " (" << m_OpName << "): " << r.message();
        return false;
    }

    Op Pick()
    {
        std::array<double, kOpCount> w = kWeights;
        const size_t n = m_Model.live.size();
        if (n > 320)
        {
            for (Op o : {OpAllocSmall, OpAllocMedium, OpAllocLarge, OpAllocImage, OpBatchAllocate})
                w[o] *= 0.25;
        }
        else if (n < 60)
        {
            for (Op o : {OpDestroy, OpDestroyDeferred, OpFree, OpBatchFree})
                w[o] *= 0.25;
        }
        if (m_Model.LiveBytes() > 48 * MiB)
            w[OpAllocLarge] = w[OpAllocMedium] = 0;
        double sum = 0;
        for (double x : w)
            sum += x;
        double r = static_cast<double>(m_Rng.Next() >> 11) * 0x1.0p-53 * sum;
        for (uint32_t i = 0; i < kOpCount; ++i)
        {
            if (r < w[i])
                return static_cast<Op>(i);
            r -= w[i];
        }
        return OpFrame;
    }

    size_t PickInstance() { return m_Rng.Index(m_Model.instances.size()); }

    /// A live allocation of `kind` (any kind when nullopt), or -1. A few random probes.
    int PickLive(std::optional<Kind> kind = std::nullopt, bool mappableOnly = false)
    {
        if (m_Model.live.empty())
            return -1;
        for (int attempt = 0; attempt < 8; ++attempt)
        {
            const size_t i = m_Rng.Index(m_Model.live.size());
            const LiveAllocation& a = m_Model.live[i];
            if ((!kind || a.kind == *kind) && (!mappableOnly || a.mappable))
                return static_cast<int>(i);
        }
        return -1;
    }

    Result Do(Op op)
    {
        switch (op)
        {
        case OpAllocSmall:
            return AllocateBuffer(m_Rng.LogRange(1, 4 * KiB));
        case OpAllocMedium:
            return AllocateBuffer(m_Rng.LogRange(4 * KiB + 1, 256 * KiB));
        case OpAllocLarge:
            return AllocateBuffer(m_Rng.LogRange(256 * KiB + 1, 1 * MiB));
        case OpAllocImage:
            return AllocateImage();
        case OpDestroy:
            return Destroy(false, false);
        case OpDestroyDeferred:
            return Destroy(true, false);
        case OpFree:
            return Destroy(false, true);
        case OpMapWrite:
            return MapWrite();
        case OpUploadBuffer:
            return UploadBuffer();
        case OpUploadImage:
            return UploadImage();
        case OpReadback:
            return Readback();
        case OpBatchAllocate:
            return BatchAllocate();
        case OpBatchFree:
            return BatchFree();
        case OpFrame:
            return AdvanceFrame();
        case OpDefragment:
            return Defragment();
        case OpRename:
            return Rename();
        case OpBad:
            return BadOperation();
        case kOpCount:
            break;
        }
        return Fail() << "unknown operation";
    }

    // ------------------------------------------------------------------ allocation
    Result AllocateBuffer(VkDeviceSize size)
    {
        static constexpr VkBufferUsageFlags kUsages[] = {
            VK_BUFFER_USAGE_VERTEX_BUFFER_BIT, VK_BUFFER_USAGE_INDEX_BUFFER_BIT,
            VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
            VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_INDEX_BUFFER_BIT};
        struct Memory
        {
            VmaMemoryUsage usage;
            AllocationFlags flags;
        };
        static constexpr Memory kMemory[] = {
            {VMA_MEMORY_USAGE_GPU_ONLY, AllocationFlags::None},
            {VMA_MEMORY_USAGE_CPU_TO_GPU, AllocationFlags::None},
            {VMA_MEMORY_USAGE_CPU_TO_GPU, AllocationFlags::Mapped},
            {VMA_MEMORY_USAGE_AUTO, AllocationFlags::HostAccessSequentialWrite},
            {VMA_MEMORY_USAGE_AUTO, AllocationFlags::HostAccessRandom | AllocationFlags::Mapped},
            {VMA_MEMORY_USAGE_AUTO, AllocationFlags::None}, // not mappable: read back
        };
        const size_t instance = PickInstance();
        const Memory memory = kMemory[m_Rng.Index(std::size(kMemory))];
        AllocationCreateInfo createInfo = CreateInfo(memory.usage, memory.flags);
        if (m_Rng.Chance(0.02))
            createInfo.flags = createInfo.flags | AllocationFlags::Dedicated;
        const VkBufferCreateInfo info = BufferInfo(size, kUsages[m_Rng.Index(std::size(kUsages))]);
        VkBuffer buffer = VK_NULL_HANDLE;
        LogCapture capture;
        VmaAllocation allocation = m_Model.Alloc(instance).AllocateBuffer(info, createInfo, buffer);
        if (!allocation || !buffer)
            return Fail() << "AllocateBuffer(" << size << " bytes, usage " << int(memory.usage)
                          << ") failed:" << Describe(capture);
        if (auto r = ErrorLinesAre(capture, 0, "AllocateBuffer"); !r)
            return r;
        LiveAllocation& a = m_Model.AddBuffer(instance, allocation, buffer, size, createInfo);
        if (a.size < size)
            return Fail() << "VMA's allocation of " << a.size << " bytes is smaller than the buffer's "
                          << size;
        if (a.persistent && !a.mapped)
            return Fail() << "a persistently mapped allocation has no mapped pointer";
        if (m_Rng.Chance(0.6))
        {
            if (a.mappable)
                return m_Model.WriteMapped(a, 0, size, m_Rng.Next());
            if (m_Rng.Chance(0.3))
                return m_Model.Upload(a, 0, size, m_Rng.Next());
        }
        return Ok();
    }

    Result AllocateImage()
    {
        static constexpr VkFormat kFormats[] = {VK_FORMAT_R8G8B8A8_UNORM, VK_FORMAT_R8_UNORM,
                                                VK_FORMAT_R16G16B16A16_SFLOAT};
        const uint32_t width = static_cast<uint32_t>(m_Rng.Range(1, 64));
        const uint32_t height = static_cast<uint32_t>(m_Rng.Range(1, 64));
        const uint32_t fullChain = static_cast<uint32_t>(std::bit_width(std::max(width, height)));
        const uint32_t mips = static_cast<uint32_t>(m_Rng.Range(1, fullChain));
        const VkImageCreateInfo info =
            ImageInfo(width, height, mips, 1, kFormats[m_Rng.Index(std::size(kFormats))]);
        const AllocationCreateInfo createInfo =
            CreateInfo(m_Rng.Chance(0.5) ? VMA_MEMORY_USAGE_GPU_ONLY : VMA_MEMORY_USAGE_AUTO);
        const size_t instance = PickInstance();
        VkImage image = VK_NULL_HANDLE;
        VkDeviceSize allocatedSize = 0;
        LogCapture capture;
        VmaAllocation allocation =
            m_Model.Alloc(instance).AllocateImage(info, createInfo, image, &allocatedSize);
        if (!allocation || !image)
            return Fail() << "AllocateImage(" << width << "x" << height << ", " << mips
                          << " mips) failed:" << Describe(capture);
        if (auto r = ErrorLinesAre(capture, 0, "AllocateImage"); !r)
            return r;
        if (allocatedSize != VmaSizeOf(allocation))
            return Fail() << "AllocateImage reported " << allocatedSize << " bytes, VMA says "
                          << VmaSizeOf(allocation);
        LiveAllocation& a = m_Model.AddImage(instance, allocation, image, info, allocatedSize, createInfo);
        if (MemoryAllocator::GetImageLayout(allocation) != VK_IMAGE_LAYOUT_UNDEFINED)
            return Fail() << "a new image's recorded layout is not UNDEFINED";
        if (m_Rng.Chance(0.5))
            return m_Model.Upload(a, 0, a.requested, m_Rng.Next());
        return Ok();
    }

    // ------------------------------------------------------------------ destruction
    Result Destroy(bool deferred, bool compatFree)
    {
        const int index = PickLive();
        if (index < 0)
            return Ok();
        LiveAllocation& a = m_Model.live[static_cast<size_t>(index)];
        if (m_Rng.Chance(0.1))
            if (auto r = m_Model.Verify(a); !r)
                return r;
        MemoryAllocator& allocator = m_Model.Alloc(PickInstance()); // any instance may destroy any allocation
        const bool mapped = a.mapCount > 0;
        LogCapture capture;
        bool ok = false;
        if (compatFree)
            ok = allocator.Free(a.allocation);
        else if (a.kind == Kind::Buffer)
            ok = deferred ? allocator.DestroyBufferDeferred(a.buffer, a.allocation)
                          : allocator.DestroyBuffer(a.buffer, a.allocation);
        else
            ok = deferred ? allocator.DestroyImageDeferred(a.image, a.allocation)
                          : allocator.DestroyImage(a.image, a.allocation);
        if (!ok)
            return Fail() << "destroying a live allocation failed:" << Describe(capture);
        if (auto r = ErrorLinesAre(capture, 0, "destroy"); !r)
            return r;
        const size_t warnings = capture.Count(LogLevel::Warn, "destroyed while mapped", kAllocatorTag);
        if (warnings != (mapped ? 1u : 0u))
            return Fail() << "destroying " << (mapped ? "a mapped" : "an unmapped") << " allocation logged "
                          << warnings << " 'destroyed while mapped' warnings:" << Describe(capture);
        m_Model.Remove(static_cast<size_t>(index), deferred);
        return Ok();
    }

    // ------------------------------------------------------------------ contents
    Segment RandomWrite(const LiveAllocation& a)
    {
        if (!a.contents.Defined() || a.contents.writes.size() >= 4 || m_Rng.Chance(0.3))
            return Segment{0, a.requested, m_Rng.Next()};
        const uint64_t offset = m_Rng.Range(0, a.requested - 1);
        const uint64_t size = m_Rng.Range(1, std::min<uint64_t>(a.requested - offset, 4 * KiB));
        return Segment{offset, size, m_Rng.Next()};
    }

    Result MapWrite()
    {
        const int index = PickLive(Kind::Buffer, true);
        if (index < 0)
            return Ok();
        LiveAllocation& a = m_Model.live[static_cast<size_t>(index)];
        MemoryAllocator& allocator = m_Model.Alloc(a.instance);
        // Map and keep mapped, or nest a second map: both must return the same pointer.
        if (m_Rng.Chance(0.35))
        {
            void* ptr = allocator.MapMemory(a.allocation);
            if (!ptr)
                return Fail() << "MapMemory of a mappable allocation returned null";
            if (a.mapped && ptr != a.mapped)
                return Fail() << "a nested MapMemory returned " << ptr << ", the mapping is at " << a.mapped;
            a.mapped = ptr;
            ++a.mapCount;
        }
        const Segment w = RandomWrite(a);
        if (auto r = m_Model.WriteMapped(a, w.offset, w.size, w.seed); !r)
            return r;
        if (auto r = m_Model.Verify(a); !r)
            return r;
        if (a.mapCount > 0 && m_Rng.Chance(0.4))
        {
            if (!MemoryAllocator::UnmapMemory(a.allocation))
                return Fail() << "UnmapMemory of a mapped allocation failed";
            if (--a.mapCount == 0 && !a.persistent)
                a.mapped = nullptr;
        }
        m_Totals.bytesVerified += a.requested;
        return Ok();
    }

    Result UploadBuffer()
    {
        const int index = PickLive(Kind::Buffer);
        if (index < 0)
            return Ok();
        LiveAllocation& a = m_Model.live[static_cast<size_t>(index)];
        const Segment w = RandomWrite(a);
        if (auto r = m_Model.Upload(a, w.offset, w.size, w.seed); !r)
            return r;
        if (a.mappable)
        {
            m_Totals.bytesVerified += a.requested;
            return m_Model.Verify(a);
        }
        return Ok();
    }

    Result UploadImage()
    {
        const int index = PickLive(Kind::Image);
        if (index < 0)
            return Ok();
        LiveAllocation& a = m_Model.live[static_cast<size_t>(index)];
        return m_Model.Upload(a, 0, a.requested, m_Rng.Next());
    }

    Result Readback()
    {
        const int index = PickLive();
        if (index < 0)
            return Ok();
        LiveAllocation& a = m_Model.live[static_cast<size_t>(index)];
        m_Totals.bytesVerified += a.contents.Defined() ? a.requested : 0;
        return m_Model.Verify(a, true);
    }

    // ------------------------------------------------------------------ batches
    Result BatchAllocate()
    {
        static constexpr VmaMemoryUsage kUsages[] = {VMA_MEMORY_USAGE_AUTO, VMA_MEMORY_USAGE_GPU_ONLY,
                                                     VMA_MEMORY_USAGE_CPU_TO_GPU};
        std::vector<VkDeviceSize> sizes(m_Rng.Range(1, 6));
        for (VkDeviceSize& s : sizes)
            s = m_Rng.LogRange(1, 64 * KiB);
        const VmaMemoryUsage usage = kUsages[m_Rng.Index(std::size(kUsages))];
        const size_t instance = PickInstance();
        LogCapture capture;
        std::vector<BatchBufferAllocation> batch = m_Model.Alloc(instance).AllocateBufferBatch(
            sizes, BufferUsage::Vertex | BufferUsage::Index, usage);
        if (batch.size() != sizes.size())
            return Fail() << "AllocateBufferBatch of " << sizes.size() << " gave " << batch.size()
                          << Describe(capture);
        if (auto r = ErrorLinesAre(capture, 0, "AllocateBufferBatch"); !r)
            return r;
        for (size_t i = 0; i < batch.size(); ++i)
        {
            if (!batch[i].allocation || !batch[i].buffer || batch[i].size != sizes[i])
                return Fail() << "batch entry " << i << " is incomplete";
            m_Model.AddBuffer(instance, batch[i].allocation, batch[i].buffer, sizes[i], CreateInfo(usage));
        }
        return Ok();
    }

    Result BatchFree()
    {
        std::vector<BatchBufferAllocation> batch;
        std::vector<VmaAllocation> chosen;
        size_t mapped = 0;
        const size_t want = m_Rng.Range(1, 5);
        for (size_t k = 0; k < want * 2 && batch.size() < want; ++k)
        {
            const int index = PickLive(Kind::Buffer);
            if (index < 0)
                break;
            const LiveAllocation& a = m_Model.live[static_cast<size_t>(index)];
            if (std::find(chosen.begin(), chosen.end(), a.allocation) != chosen.end())
                continue;
            chosen.push_back(a.allocation);
            mapped += a.mapCount > 0;
            batch.push_back(BatchBufferAllocation{a.buffer, a.allocation, a.requested});
        }
        if (batch.empty())
            return Ok();
        // Sometimes one entry is a freed handle: FreeBufferBatch returns false, one error line for
        // it, and still frees the valid entries.
        size_t invalid = 0;
        if (!m_Model.freed.empty() && m_Rng.Chance(0.2))
        {
            const FreedHandle& f = m_Model.freed[m_Rng.Index(m_Model.freed.size())];
            if (f.kind == Kind::Buffer)
            {
                batch.insert(batch.begin() + static_cast<std::ptrdiff_t>(m_Rng.Index(batch.size() + 1)),
                             BatchBufferAllocation{reinterpret_cast<VkBuffer>(f.handle), f.allocation, 1});
                invalid = 1;
                ++m_Totals.badCalls;
            }
        }
        LogCapture capture;
        const bool ok = m_Model.Alloc(PickInstance()).FreeBufferBatch(batch);
        if (ok != (invalid == 0))
            return Fail() << "FreeBufferBatch returned " << ok << " with " << invalid
                          << " invalid entries:" << Describe(capture);
        if (auto r = ErrorLinesAre(capture, invalid, "FreeBufferBatch"); !r)
            return r;
        if (capture.Count(LogLevel::Warn, "destroyed while mapped") != mapped)
            return Fail() << "FreeBufferBatch: expected " << mapped << " 'destroyed while mapped' warnings"
                          << Describe(capture);
        for (VmaAllocation allocation : chosen)
            m_Model.Remove(static_cast<size_t>(m_Model.Find(allocation)), false);
        return Ok();
    }

    // ------------------------------------------------------------------ frames, names, defragmentation
    Result AdvanceFrame()
    {
        const uint64_t frame = m_Model.Frame() + m_Rng.Range(1, 3);
        LogCapture capture;
        if (!MemoryAllocator::SetCurrentFrameIndex(frame))
            return Fail() << "SetCurrentFrameIndex(" << frame << ") failed" << Describe(capture);
        if (MemoryAllocator::GetCurrentFrameIndex() != frame)
            return Fail() << "GetCurrentFrameIndex is not " << frame;
        m_Model.AdvanceFrame(frame);
        return ErrorLinesAre(capture, 0, "SetCurrentFrameIndex");
    }

    Result Rename()
    {
        const int index = PickLive();
        if (index < 0)
            return Ok();
        const LiveAllocation& a = m_Model.live[static_cast<size_t>(index)];
        // fmt, not "n" + std::to_string(): GCC 12 at -O3 warns (-Wrestrict) in the string operator+.
        if (!m_Model.Alloc(a.instance).SetAllocationName(a.allocation, fmt::format("n{}", m_Op)))
            return Fail() << "SetAllocationName of a live allocation failed";
        return Ok();
    }

    Result Defragment()
    {
        static constexpr VmaDefragmentationFlags kAlgorithms[] = {
            VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FAST_BIT, VMA_DEFRAGMENTATION_FLAG_ALGORITHM_BALANCED_BIT,
            VMA_DEFRAGMENTATION_FLAG_ALGORITHM_FULL_BIT, VMA_DEFRAGMENTATION_FLAG_ALGORITHM_EXTENSIVE_BIT};
        MemoryAllocator& allocator = m_Model.Alloc(PickInstance());
        DefragmentationOptions options;
        options.flags = kAlgorithms[m_Rng.Index(std::size(kAlgorithms))];
        if (m_Rng.Chance(0.5))
            options.maxAllocationsPerPass = static_cast<uint32_t>(m_Rng.Range(1, 32));
        LogCapture capture;
        if (!allocator.BeginDefragmentation(options))
            return Fail() << "BeginDefragmentation failed" << Describe(capture);
        m_Model.StagingDropped(); // opening a session drops the cached staging buffers
        if (m_Rng.Chance(0.7))
        {
            const size_t marked = allocator.MarkAllForDefragmentation();
            if (marked != m_Model.live.size())
                return Fail() << "MarkAllForDefragmentation marked " << marked << ", the model has "
                              << m_Model.live.size() << " live";
        }
        else
        {
            for (const LiveAllocation& a : m_Model.live)
                if (m_Rng.Chance(0.5))
                {
                    const bool ok = a.kind == Kind::Image && a.layoutKnown && m_Rng.Chance(0.5)
                                        ? allocator.MarkForDefragmentation(
                                              a.allocation, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL)
                                        : allocator.MarkForDefragmentation(a.allocation);
                    if (!ok)
                        return Fail()
                               << "MarkForDefragmentation of a live allocation failed" << Describe(capture);
                }
        }
        m_Notices.clear();
        if (m_Rng.Chance(0.5))
            for (int steps = 0; steps < 100000 && allocator.DefragmentStep(); ++steps)
            {
            }
        const DefragmentationStats stats = allocator.EndDefragmentation();
        if (auto r = ErrorLinesAre(capture, 0, "defragmentation"); !r)
            return r;
        if (stats.allocationsMoved != m_Notices.size() ||
            stats.buffersMoved + stats.imagesMoved != stats.allocationsMoved || stats.movesFailed != 0)
            return Fail() << "defragmentation stats: " << stats.allocationsMoved << " moved ("
                          << stats.buffersMoved << " buffers, " << stats.imagesMoved << " images), "
                          << stats.movesFailed << " failed; " << m_Notices.size() << " relocation notices";
        for (const RelocationNotice& n : m_Notices)
            if (auto r = m_Model.Relocated(n); !r)
                return r;
        m_Totals.defragMoves += stats.allocationsMoved;
        if (auto r = m_Model.CheckHandles(); !r)
            return r;
        return m_Model.VerifyAll(true);
    }

    // ------------------------------------------------------------------ bad operations
    /// Runs `call`, which must fail (return false), log exactly one error line and change nothing.
    template <class Call>
    Result ExpectRejected(const char* what, Call&& call)
    {
        ++m_Totals.badCalls;
        const VmaStatistics before = VmaTotals();
        LogCapture capture;
        if (call())
            return Fail() << what << " was accepted";
        if (auto r = ErrorLinesAre(capture, 1, what); !r)
            return r;
        const VmaStatistics after = VmaTotals();
        if (before.allocationCount != after.allocationCount ||
            before.allocationBytes != after.allocationBytes || before.blockCount != after.blockCount)
            return Fail() << what << " changed VMA's counters";
        return Ok();
    }

    Result BadOperation()
    {
        MemoryAllocator& allocator = m_Model.Alloc(PickInstance());
        const int any = PickLive();
        const int buffer = PickLive(Kind::Buffer);
        const int image = PickLive(Kind::Image);
        auto liveAt = [&](int i) -> LiveAllocation&
        {
            return m_Model.live[static_cast<size_t>(i)];
        };
        switch (m_Rng.Range(0, 21))
        {
        case 0: // double destroy: a freed handle
            if (m_Model.freed.empty())
                return Ok();
            else
            {
                const FreedHandle f = m_Model.freed[m_Rng.Index(m_Model.freed.size())];
                return ExpectRejected("destroy of a freed handle",
                                      [&]
                                      {
                                          return f.kind == Kind::Buffer
                                                     ? allocator.DestroyBuffer(
                                                           reinterpret_cast<VkBuffer>(f.handle), f.allocation)
                                                     : allocator.DestroyImage(
                                                           reinterpret_cast<VkImage>(f.handle), f.allocation);
                                      });
            }
        case 1: // a buffer and an allocation that do not belong together
        {
            const int other = PickLive(Kind::Buffer);
            if (buffer < 0 || other < 0 || other == buffer)
                return Ok();
            return ExpectRejected(
                "DestroyBuffer of a mismatched pair",
                [&] { return allocator.DestroyBuffer(liveAt(buffer).buffer, liveAt(other).allocation); });
        }
        case 2: // kinds mixed up
            if (buffer < 0 || image < 0)
                return Ok();
            return ExpectRejected(
                "DestroyImage with a buffer's allocation",
                [&] { return allocator.DestroyImage(liveAt(image).image, liveAt(buffer).allocation); });
        case 3: // null handles
            if (any < 0)
                return Ok();
            return ExpectRejected(
                "DestroyBuffer with a null buffer",
                [&] { return allocator.DestroyBuffer(VK_NULL_HANDLE, liveAt(any).allocation); });
        case 4:
            return ExpectRejected("Free(nullptr)", [&] { return allocator.Free(nullptr); });
        case 5:
        {
            const uint64_t size = m_Rng.Chance(0.5) ? 0 : (1ull << 40) + m_Rng.Range(0, 1000);
            return ExpectRejected("AllocateBuffer with a bad size",
                                  [&]
                                  {
                                      VkBuffer b = VK_NULL_HANDLE;
                                      return allocator.AllocateBuffer(
                                                 BufferInfo(size), VMA_MEMORY_USAGE_GPU_ONLY, b) != nullptr ||
                                             b != VK_NULL_HANDLE;
                                  });
        }
        case 6:
            return ExpectRejected("AllocateBuffer with usage 0",
                                  [&]
                                  {
                                      VkBuffer b = VK_NULL_HANDLE;
                                      return allocator.AllocateBuffer(BufferInfo(m_Rng.Range(1, 4096), 0),
                                                                      VMA_MEMORY_USAGE_AUTO, b) != nullptr;
                                  });
        case 7: // unmap without map
        {
            if (buffer < 0 || liveAt(buffer).mapCount != 0)
                return Ok();
            return ExpectRejected("UnmapMemory without MapMemory",
                                  [&] { return MemoryAllocator::UnmapMemory(liveAt(buffer).allocation); });
        }
        case 8: // an AUTO allocation without a host-access flag
        {
            const int i = PickLive(Kind::Buffer);
            if (i < 0 || liveAt(i).mappable)
                return Ok();
            return ExpectRejected("MapMemory of a non-mappable allocation",
                                  [&] { return allocator.MapMemory(liveAt(i).allocation) != nullptr; });
        }
        case 9: // upload past the end
        {
            if (buffer < 0)
                return Ok();
            const LiveAllocation& a = liveAt(buffer);
            std::vector<uint8_t> data(a.requested + 1);
            return ExpectRejected(
                "UploadToBuffer past the end",
                [&] { return allocator.UploadToBuffer(a.allocation, data.data(), data.size(), 0); });
        }
        case 10:
            if (any < 0)
                return Ok();
            return ExpectRejected("MarkForDefragmentation without a session",
                                  [&] { return allocator.MarkForDefragmentation(liveAt(any).allocation); });
        case 11:
            return ExpectRejected("EndDefragmentation without a session",
                                  [&]
                                  {
                                      const DefragmentationStats s = allocator.EndDefragmentation();
                                      return s.passes != 0 || s.allocationsMoved != 0;
                                  });
        case 12:
            return ExpectRejected("DefragmentStep without a session",
                                  [&] { return allocator.DefragmentStep(); });
        case 13:
            return ExpectRejected(
                "AllocateBufferBatch with a zero size",
                [&] {
                    return !allocator.AllocateBufferBatch({64, 0, 64}, BufferUsage::Vertex).empty();
                });
        case 14:
            if (m_Model.Frame() == 0)
                return Ok();
            return ExpectRejected("SetCurrentFrameIndex backwards",
                                  [&] { return MemoryAllocator::SetCurrentFrameIndex(m_Model.Frame() - 1); });
        case 15:
            if (buffer < 0)
                return Ok();
            return ExpectRejected("ReadbackImage of a buffer",
                                  [&]
                                  {
                                      std::vector<uint8_t> out;
                                      return allocator.ReadbackImage(liveAt(buffer).allocation, out);
                                  });
        case 16:
        {
            VkImageCreateInfo info = ImageInfo(16, 16, 1);
            if (m_Rng.Chance(0.5))
                info.extent.width = 0;
            else
                info.mipLevels = 6; // a 16x16 image has at most 5
            return ExpectRejected("AllocateImage with a bad extent or mip count",
                                  [&]
                                  {
                                      VkImage img = VK_NULL_HANDLE;
                                      return allocator.AllocateImage(info, VMA_MEMORY_USAGE_GPU_ONLY, img) !=
                                             nullptr;
                                  });
        }
        case 17:
            if (m_Model.freed.empty())
                return Ok();
            return ExpectRejected(
                "Free of a freed handle",
                [&] { return allocator.Free(m_Model.freed[m_Rng.Index(m_Model.freed.size())].allocation); });
        case 18:
            if (image < 0)
                return Ok();
            return ExpectRejected("UploadToImage of the wrong size",
                                  [&]
                                  {
                                      std::vector<uint8_t> data(liveAt(image).requested + 4);
                                      return allocator.UploadToImage(liveAt(image).allocation, data.data(),
                                                                     data.size());
                                  });
        case 19:
        {
            const VkDeviceSize before = allocator.GetBufferAlignment();
            const VkDeviceSize bad = m_Rng.Chance(0.5) ? 0 : 3;
            auto r = ExpectRejected("SetBufferAlignment(0 or 3)",
                                    [&] { return allocator.SetBufferAlignment(bad); });
            if (r && allocator.GetBufferAlignment() != before)
                return Fail() << "a rejected SetBufferAlignment changed the alignment";
            return r;
        }
        case 20:
        {
            const float before = allocator.GetMemoryUsageWarningThreshold();
            static constexpr float kBad[] = {std::numeric_limits<float>::quiet_NaN(), -0.5f, 0.0f, 1.5f};
            const float bad = kBad[m_Rng.Index(std::size(kBad))];
            auto r = ExpectRejected("SetMemoryUsageWarningThreshold out of (0, 1]",
                                    [&] { return allocator.SetMemoryUsageWarningThreshold(bad); });
            if (r && allocator.GetMemoryUsageWarningThreshold() != before)
                return Fail() << "a rejected threshold changed the threshold";
            return r;
        }
        case 21: // flush of an allocation that is not mapped
        {
            if (buffer < 0 || liveAt(buffer).mapCount != 0 || liveAt(buffer).persistent ||
                !liveAt(buffer).hostVisible)
                return Ok();
            return ExpectRejected("FlushAllocation of an unmapped allocation", [&]
                                  { return MemoryAllocator::FlushAllocation(liveAt(buffer).allocation); });
        }
        default:
            break;
        }
        return Ok();
    }

    /// After a failure: releases what the model holds, unchecked, so that Shutdown's leak report does
    /// not bury the failure.
    void Abandon()
    {
        for (const LiveAllocation& a : m_Model.live)
        {
            for (uint32_t i = 0; i < a.mapCount; ++i)
                MemoryAllocator::UnmapMemory(a.allocation);
            m_Model.Alloc(a.instance).Free(a.allocation);
        }
        m_Model.Clear();
    }

    // ------------------------------------------------------------------ checkpoints and the end
    bool Checkpoint()
    {
        ++m_Totals.checkpoints;
        m_OpName = "checkpoint";
        if (!Report(m_Model.CheckHandles()) || !Report(m_Model.VerifyAll(false, 6)) ||
            !Report(m_Model.CheckExact()))
            return false;
        m_Quiet.Truncate();
        const Ref<VulkanDevice>& device = ::SceneryEditorX::Test::Device();
        if (device->GetValidationErrorCount() + device->GetValidationWarningCount() != 0)
        {
            m_Quiet.Restore(true);
            ADD_FAILURE() << "operation #" << m_Op << ": the validation layer reported messages by now";
            return false;
        }
        return true;
    }

    Result Finish()
    {
        if (auto r = m_Model.CheckHandles(); !r)
            return r;
        if (auto r = m_Model.VerifyAll(true); !r)
            return r;
        for (const LiveAllocation& a : m_Model.live)
            m_Totals.bytesVerified += a.contents.Defined() ? a.requested : 0;
        while (!m_Model.live.empty())
        {
            LiveAllocation& a = m_Model.live.back();
            for (; a.mapCount > 0; --a.mapCount)
                if (!MemoryAllocator::UnmapMemory(a.allocation))
                    return Fail() << "UnmapMemory at the end failed";
            const bool deferred = m_Rng.Chance(0.5);
            MemoryAllocator& allocator = m_Model.Alloc(a.instance);
            const bool ok = a.kind == Kind::Buffer
                                ? (deferred ? allocator.DestroyBufferDeferred(a.buffer, a.allocation)
                                            : allocator.DestroyBuffer(a.buffer, a.allocation))
                                : (deferred ? allocator.DestroyImageDeferred(a.image, a.allocation)
                                            : allocator.DestroyImage(a.image, a.allocation));
            if (!ok)
                return Fail() << "destroying at the end failed";
            m_Model.Remove(m_Model.live.size() - 1, deferred);
        }
        const uint64_t frame = m_Model.Frame() + m_Spec.framesInFlight + 1;
        if (!MemoryAllocator::SetCurrentFrameIndex(frame))
            return Fail() << "the last SetCurrentFrameIndex failed";
        m_Model.AdvanceFrame(frame);
        if (m_Model.RetiredCount() != 0)
            return Fail() << "the model still holds retired entries";
        if (auto r = m_Model.CheckCounters(); !r)
            return r;
        return m_Model.CheckExact();
    }
};

TEST(ModelTest, RandomOperationsAgreeWithTheShadowModel)
{
    ASSERT_TRUE(::SceneryEditorX::Test::Device());
    const uint64_t seed = EnvU64("SEDX_MODEL_SEED", kDefaultSeed);
    const uint64_t ops = EnvU64("SEDX_MODEL_OPS", kDefaultOps);
    const bool verbose = EnvU64("SEDX_MODEL_VERBOSE", 0) != 0;
    std::fprintf(stderr,
                 "model test: seed %llu, %llu operations (SEDX_MODEL_SEED / SEDX_MODEL_OPS to change)\n",
                 static_cast<unsigned long long>(seed), static_cast<unsigned long long>(ops));
    SCOPED_TRACE("SEDX_MODEL_SEED=" + std::to_string(seed) + " SEDX_MODEL_OPS=" + std::to_string(ops));

    RunTotals totals;
    const auto start = std::chrono::steady_clock::now();
    for (size_t s = 0; s < kSegments.size(); ++s)
    {
        const SegmentSpec& spec = kSegments[s];
        SCOPED_TRACE(std::string("segment ") + std::to_string(s) + " (" + spec.name + ")");
        const uint64_t segmentOps = ops / kSegments.size() + (s < ops % kSegments.size() ? 1 : 0);
        AllocatorSettings settings;
        settings.framesInFlight = spec.framesInFlight;
        settings.forceGpuDefragmentationCopies = spec.forceGpuCopies;
        settings.stagingCacheBytes = spec.stagingCacheBytes;
        ASSERT_TRUE(MemoryAllocator::Init(::SceneryEditorX::Test::Device(), VK_API_VERSION_1_3, settings));
        bool ok = false;
        {
            ::SceneryEditorX::Test::ScopedLogLevel level(LogLevel::Warn);
            QuietStdout quiet(!verbose);
            ModelRun run(Mix64(seed + s), spec, s, totals, quiet);
            ok = run.Run(segmentOps);
        }
        LogCapture capture;
        EXPECT_TRUE(MemoryAllocator::Shutdown());
        EXPECT_EQ(capture.Count(LogLevel::Error), 0u)
            << "Shutdown reported errors (leaks?):" << Describe(capture);
        for (const TagStats& t : MemoryAllocator::GetAllTagStats())
            EXPECT_EQ(t.allocationCount, 0u) << "tag " << t.tag << " still counts allocations after Shutdown";
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::fprintf(stderr, "model test: segment %zu done (%llu operations so far, %.1f s)\n", s,
                     static_cast<unsigned long long>(totals.operations), seconds);
        if (!ok)
            break;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::ostringstream summary;
    summary << "model test: " << totals.operations << " operations in " << seconds << " s: ";
    for (uint32_t i = 0; i < kOpCount; ++i)
        summary << kOpNames[i] << " " << totals.perOp[i] << (i + 1 < kOpCount ? ", " : "");
    summary << "; " << totals.badCalls << " rejected calls checked, " << totals.defragMoves
            << " resources moved by defragmentation, " << totals.checkpoints << " checkpoints, "
            << totals.bytesVerified << " bytes verified";
    std::fprintf(stderr, "%s\n", summary.str().c_str());
    ::testing::Test::RecordProperty("operations", std::to_string(totals.operations));
    ::testing::Test::RecordProperty("rejected_calls", std::to_string(totals.badCalls));
    if (!::testing::Test::HasFailure())
    {
        EXPECT_EQ(totals.operations, ops);
    }
}

} // namespace
} // namespace SceneryEditorX::Reliability
