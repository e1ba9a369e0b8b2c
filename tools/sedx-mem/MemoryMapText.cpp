#include "MemoryMapText.h"

#include <SceneryEditorX/Memory/MemoryTypes.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace SceneryEditorX::Tool
{
namespace
{
const std::string kDot = " \xC2\xB7 ";

struct PoolFigures
{
    uint64_t committed = 0;
    uint64_t used = 0;
};

uint64_t UsedBytes(const DumpBlock& block)
{
    uint64_t used = 0;
    for (const DumpRange& r : block.ranges)
        used += r.free ? 0 : r.size;
    return used;
}

PoolFigures FiguresOf(const DumpPool& pool)
{
    PoolFigures f;
    for (const DumpBlock& b : pool.blocks)
    {
        f.committed += b.totalBytes;
        f.used += UsedBytes(b);
    }
    for (const DumpRange& r : pool.dedicated)
    {
        f.committed += r.size;
        f.used += r.size;
    }
    return f;
}

double PercentOf(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

std::string Counted(uint64_t count, const char* one, const char* many)
{
    return std::to_string(count) + " " + (count == 1 ? one : many);
}

/// "2 blocks of 4 MiB", "3 blocks of 1 MiB to 4 MiB (preferred size 4 MiB)": what VMA really made,
/// and the preferred size when some block differs from it.
std::string BlockSizes(const DumpPool& pool)
{
    uint64_t smallest = std::numeric_limits<uint64_t>::max(), largest = 0;
    for (const DumpBlock& b : pool.blocks)
    {
        smallest = std::min(smallest, b.totalBytes);
        largest = std::max(largest, b.totalBytes);
    }
    std::string s = Counted(pool.blocks.size(), "block", "blocks") + " of " + FormatBytes(smallest);
    if (largest != smallest)
        s += " to " + FormatBytes(largest);
    if (pool.preferredBlockSize &&
        (smallest != pool.preferredBlockSize || largest != pool.preferredBlockSize))
        s += " (preferred size " + FormatBytes(pool.preferredBlockSize) + ")";
    return s;
}

/// The buffer sizes that one of the library's size-class pools holds, or nothing.
std::string SizeClassOf(const std::string& poolName)
{
    if (poolName == "sedx:small")
        return "buffers up to " + FormatBytes(SMALL_BUFFER_SIZE);
    if (poolName == "sedx:medium")
        return "buffers over " + FormatBytes(SMALL_BUFFER_SIZE) + " up to " + FormatBytes(MEDIUM_BUFFER_SIZE);
    if (poolName == "sedx:large")
        return "buffers over " + FormatBytes(MEDIUM_BUFFER_SIZE) + " up to " + FormatBytes(LARGE_BUFFER_SIZE);
    return {};
}
} // namespace

std::string FormatBytes(uint64_t bytes)
{
    static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1024.0 && unit < 4)
    {
        value /= 1024.0;
        ++unit;
    }
    char text[32];
    if (unit == 0 || value >= 100.0 || std::fabs(value - std::round(value)) < 0.05)
        std::snprintf(text, sizeof(text), "%.0f %s", value, units[unit]);
    else
        std::snprintf(text, sizeof(text), "%.1f %s", value, units[unit]);
    return text;
}

bool FormatsExactly(uint64_t bytes)
{
    uint64_t unit = 1;
    while (bytes / unit >= 1024 && unit < (uint64_t{1} << 40))
        unit *= 1024;
    // FormatBytes writes one decimal below 100 units, none from 100 on: x.0 and x.5 are exact.
    return unit == 1 || bytes % unit == 0 || (bytes / unit < 100 && bytes % (unit / 2) == 0);
}

std::string OffsetLabel(uint64_t offset)
{
    return offset ? FormatBytes(offset) : "0";
}

std::string MemoryMapSummary(const DumpModel& model, const std::string& moment)
{
    uint64_t blocks = 0, dedicated = 0, committed = 0, used = 0, allocations = 0;
    size_t pools = 0;
    for (const DumpPool& pool : model.pools)
    {
        if (!PoolHasMemory(pool))
            continue;
        ++pools;
        blocks += pool.blocks.size();
        dedicated += pool.dedicated.size();
        const PoolFigures f = FiguresOf(pool);
        committed += f.committed;
        used += f.used;
        for (const DumpBlock& b : pool.blocks)
            for (const DumpRange& r : b.ranges)
                allocations += r.free ? 0 : 1;
        allocations += pool.dedicated.size();
    }
    char frag[48];
    std::snprintf(frag, sizeof(frag), "fragmentation %.1f%%",
                  100.0 * static_cast<double>(detail::ExternalFragmentation(model.pools)));
    return Counted(pools, "pool", "pools") + kDot + Counted(blocks, "block", "blocks") +
           (dedicated ? " + " + std::to_string(dedicated) + " dedicated" : std::string()) + kDot +
           FormatBytes(committed) + " committed" + kDot + FormatBytes(used) + " in " +
           Counted(allocations, "allocation", "allocations") + kDot + frag +
           (moment.empty() ? std::string() : kDot + moment);
}

std::string PoolTitle(const DumpPool& pool)
{
    if (pool.custom)
    {
        const std::string sizeClass = SizeClassOf(pool.name);
        return (sizeClass.empty() ? "pool \xE2\x80\x9C" : "size-class pool \xE2\x80\x9C") + pool.name +
               "\xE2\x80\x9D" + (sizeClass.empty() ? "" : " (library: " + sizeClass + ")") + kDot +
               "memory type " + std::to_string(pool.memoryType);
    }
    return "default pool" + kDot + "memory type " + std::to_string(pool.memoryType);
}

std::string PoolDetails(const DumpPool& pool)
{
    const PoolFigures f = FiguresOf(pool);
    std::string s;
    if (!pool.blocks.empty())
        s += BlockSizes(pool);
    if (!pool.dedicated.empty())
        s += (s.empty() ? "" : kDot) + std::to_string(pool.dedicated.size()) + " dedicated";
    char pct[64];
    std::snprintf(pct, sizeof(pct), " \xC2\xB7 %.0f%% used \xC2\xB7 fragmentation %.0f%%",
                  PercentOf(f.used, f.committed),
                  100.0 * static_cast<double>(detail::PoolFragmentation(pool)));
    return s + kDot + FormatBytes(f.committed) + " committed" + pct;
}

std::string BlockUsage(const DumpBlock& block)
{
    char pct[32];
    std::snprintf(pct, sizeof(pct), "%.0f%% used", PercentOf(UsedBytes(block), block.totalBytes));
    return pct;
}

std::string LegendLabel(const std::string& key)
{
    if (key == kLibraryTag)
        return key + " (library: staging buffers)";
    return key.front() == '[' ? key.substr(1, key.size() - 2) + " (unnamed)" : key;
}

std::string LegendNote(const std::string& key)
{
    if (key != kLibraryTag)
        return {};
    return key + ": the memory system's own allocations, the staging buffers that uploads and readbacks "
                 "copy through (up to AllocatorSettings::stagingCacheBytes of them are kept for reuse)";
}

std::string LegendFigures(uint64_t bytes, uint64_t count)
{
    return FormatBytes(bytes) + kDot + Counted(count, "alloc", "allocs");
}
} // namespace SceneryEditorX::Tool
