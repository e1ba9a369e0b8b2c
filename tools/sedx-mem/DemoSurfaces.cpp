#include "DemoSurfaces.h"

#include "MemoryMapLayout.h"
#include "MemoryMapText.h"

#include <cstdio>
#include <map>

namespace SceneryEditorX::Tool
{
namespace
{
constexpr double kMiB = 1024.0 * 1024.0;

struct Figure
{
    uint64_t bytes = 0;
    uint64_t count = 0;
    bool operator==(const Figure&) const = default;
};

std::string Describe(const Figure& f)
{
    return fmt::format("{} bytes in {} allocations", f.bytes, f.count);
}
} // namespace

DemoFigures TakeDemoFigures(const MemoryAllocator& allocator, uint64_t frame)
{
    DemoFigures f;
    f.frame = frame;
    f.stats = allocator.GetStats();
    f.tags = MemoryAllocator::GetAllTagStats();
    f.json = MemoryAllocator::BuildStatsString(true);
    return f;
}

std::string DemoMoment(const DemoFigures& figures)
{
    return fmt::format("at frame {}, the last frame", figures.frame);
}

void PrintDemoFigures(const DemoFigures& figures)
{
    const AllocationStats& s = figures.stats;
    std::printf("\nmemory %s (streaming has stopped and the frames in flight have retired):\n",
                DemoMoment(figures).c_str());
    std::printf("  used %llu bytes (%.2f MiB) in %llu allocations, committed %llu bytes (%.2f MiB) in %llu "
                "blocks, peak used %llu bytes (%.2f MiB)\n",
                static_cast<unsigned long long>(s.usedBytes), s.usedBytes / kMiB,
                static_cast<unsigned long long>(s.allocationCount),
                static_cast<unsigned long long>(s.totalBytes), s.totalBytes / kMiB,
                static_cast<unsigned long long>(s.blockCount),
                static_cast<unsigned long long>(s.peakUsedBytes), s.peakUsedBytes / kMiB);
    if (s.reuseCacheCount > 0)
        std::printf(
            "  reuse cache %llu bytes in %llu buffers (freed SpeedOptimized buffers kept for reuse: in "
            "committed, not in used; the map shows them under their last owner's tag)\n",
            static_cast<unsigned long long>(s.reuseCacheBytes),
            static_cast<unsigned long long>(s.reuseCacheCount));
    std::printf("\ntags %s:\n%-16s %10s %12s %7s %8s %7s %10s %8s %8s\n", DemoMoment(figures).c_str(), "tag",
                "used MiB", "used bytes", "allocs", "buffers", "images", "peak MiB", "made", "freed");
    uint64_t bytes = 0, count = 0;
    bool internal = false;
    for (const TagStats& t : figures.tags)
    {
        std::printf(
            "%-16s %10.2f %12llu %7llu %8llu %7llu %10.2f %8llu %8llu\n", t.tag.c_str(), t.usedBytes / kMiB,
            static_cast<unsigned long long>(t.usedBytes), static_cast<unsigned long long>(t.allocationCount),
            static_cast<unsigned long long>(t.bufferCount), static_cast<unsigned long long>(t.imageCount),
            t.peakUsedBytes / kMiB, static_cast<unsigned long long>(t.totalAllocations),
            static_cast<unsigned long long>(t.totalFrees));
        bytes += t.usedBytes;
        count += t.allocationCount;
        internal = internal || t.tag == kInternalTag;
    }
    std::printf("%-16s %10.2f %12llu %7llu\n", "(all tags)", bytes / kMiB,
                static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(count));
    if (internal)
        std::printf("%s\n", LegendNote(kInternalTag).c_str());
}

std::vector<std::string> DemoSurfaceDisagreements(const DemoFigures& figures, const detail::DumpModel& model,
                                                  const std::vector<TimelineSample>& timeline)
{
    std::vector<std::string> out;
    const AllocationStats& s = figures.stats;
    const Figure used{s.usedBytes, s.allocationCount};

    std::map<std::string, Figure> tags;
    Figure sum;
    for (const TagStats& t : figures.tags)
    {
        sum.bytes += t.usedBytes;
        sum.count += t.allocationCount;
        if (t.allocationCount > 0 || t.usedBytes > 0)
            tags[t.tag] = Figure{t.usedBytes, t.allocationCount};
    }
    if (sum != used)
        out.push_back(
            fmt::format("the tags add up to {}, GetStats says used {}", Describe(sum), Describe(used)));

    // VMA's dump counts the reuse cache's buffers, which GetStats reports apart (reuseCacheBytes).
    const Figure dumped{model.totalAllocationBytes - std::min(model.totalAllocationBytes, s.reuseCacheBytes),
                        model.totalAllocationCount - std::min(model.totalAllocationCount, s.reuseCacheCount)};
    if (dumped != used)
        out.push_back(fmt::format("the JSON's Total (less the reuse cache) is {}, GetStats says used {}",
                                  Describe(dumped), Describe(used)));
    if (model.totalBlockBytes != s.totalBytes || model.totalBlockCount != s.blockCount)
        out.push_back(
            fmt::format("the JSON's Total commits {} bytes in {} blocks, GetStats {} bytes in {} blocks",
                        model.totalBlockBytes, model.totalBlockCount, s.totalBytes, s.blockCount));

    std::map<std::string, Figure> legend;
    for (const MemoryMapLegendEntry& e : MemoryMapLegend(model))
        legend[e.key] = Figure{e.bytes, e.count};
    // The reuse cache's buffers keep their last owner's name in the dump: with any cached, a tag's
    // legend entry may hold more than its counters, and all of them together the cache's more.
    const bool cached = s.reuseCacheCount > 0;
    Figure legendSum;
    for (const auto& [key, figure] : legend)
    {
        legendSum.bytes += figure.bytes;
        legendSum.count += figure.count;
        auto it = tags.find(key);
        const Figure counted = it != tags.end() ? it->second : Figure{};
        const bool agrees =
            cached ? figure.bytes >= counted.bytes && figure.count >= counted.count : figure == counted;
        if (!agrees)
            out.push_back(fmt::format("the map's legend shows '{}' with {}, its tag counts {}", key,
                                      Describe(figure), Describe(counted)));
    }
    const Figure expectedSum{sum.bytes + s.reuseCacheBytes, sum.count + s.reuseCacheCount};
    if (legendSum != expectedSum)
        out.push_back(fmt::format("the map's legend adds up to {}, the tags and the reuse cache to {}",
                                  Describe(legendSum), Describe(expectedSum)));
    for (const auto& [tag, figure] : tags)
        if (!legend.contains(tag))
            out.push_back(
                fmt::format("tag '{}' counts {}, the map's legend does not show it", tag, Describe(figure)));

    if (timeline.empty() || timeline.back().frame != figures.frame ||
        timeline.back().usedBytes != s.usedBytes || timeline.back().committedBytes != s.totalBytes ||
        timeline.back().peakUsedBytes != s.peakUsedBytes)
        out.push_back("the timeline does not end with the figures of the summary");
    uint64_t peak = 0;
    for (const TimelineSample& t : timeline)
    {
        if (t.peakUsedBytes < peak)
        {
            out.push_back(fmt::format("the peak falls from {} to {} bytes at frame {}", peak, t.peakUsedBytes,
                                      t.frame));
            break;
        }
        peak = t.peakUsedBytes;
    }
    for (const TimelineSample& t : timeline)
        if (t.usedBytes > s.peakUsedBytes)
        {
            out.push_back(
                fmt::format("the timeline's used reaches {} bytes at frame {}, above the peak of {} bytes",
                            t.usedBytes, t.frame, s.peakUsedBytes));
            break;
        }
    return out;
}
} // namespace SceneryEditorX::Tool
