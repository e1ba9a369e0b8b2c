#pragma once
// Where the memory map puts things and in which colour, shared by its PNG and HTML forms (and the
// tests): one legend entry and colour per tag, one bar per memory block and per dedicated allocation,
// grouped by pool.

#include <SceneryEditorX/VmaDump/DumpModel.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace SceneryEditorX::Tool
{
// The dump model's types (libs/VmaDump), by their short names.
using detail::DumpBlock;
using detail::DumpModel;
using detail::DumpPool;
using detail::DumpRange;

/// What colours an allocation: its tag (the part of its name before ':'), or "[TYPE]" for an
/// unnamed one.
std::string MemoryMapKey(const DumpRange& range);

struct MemoryMapLegendEntry
{
    std::string key;    // MemoryMapKey
    std::string label;  // what the legend shows
    uint32_t color = 0; // 0xRRGGBB
    uint64_t bytes = 0;
    uint64_t count = 0;
};
/// The legend: one entry per key, largest first. Colours depend only on the set of keys.
std::vector<MemoryMapLegendEntry> MemoryMapLegend(const DumpModel& model);
/// The colour of free space.
inline constexpr uint32_t kMemoryMapFreeColor = 0xDDDDDD;

/// The legend with a lookup from an allocation to its entry.
class MemoryMapPalette
{
public:
    explicit MemoryMapPalette(const DumpModel& model);

    const std::vector<MemoryMapLegendEntry>& Legend() const { return m_Legend; }
    /// The colour (0xRRGGBB) of an allocation's key.
    uint32_t ColorOf(const DumpRange& range) const;
    /// The index of an allocation's key in Legend().
    size_t IndexOf(const DumpRange& range) const;

private:
    std::vector<MemoryMapLegendEntry> m_Legend;
    std::map<std::string, size_t> m_IndexByKey;
};

/// Whether the pool has any memory (blocks or dedicated allocations): pools without are not drawn.
bool PoolHasMemory(const DumpPool& pool);
/// The bytes that the full bar width stands for in a pool: its largest block or dedicated
/// allocation (at least 1).
uint64_t PoolScale(const DumpPool& pool);

/// The PNG's fixed geometry, in pixels.
namespace MemoryMapPixels
{
inline constexpr int kWidth = 1200;
inline constexpr int kMargin = 24;
inline constexpr int kLegendTop = 74;
inline constexpr int kLegendColumns = 4;
inline constexpr int kLegendRow = 22;
inline constexpr int kPoolHeader = 30;
inline constexpr int kBarHeight = 22;
inline constexpr int kRowPitch = 30;
inline constexpr int kPoolGap = 14;
inline constexpr int kBarLeft = 150;
inline constexpr int kBarRight = kWidth - 104;
} // namespace MemoryMapPixels

/// One bar of the PNG: a block (`block` >= 0) or a dedicated allocation (`dedicated` >= 0) of
/// model.pools[pool]. [x, x + width) × [y, y + height) is the memory itself, `width` proportional to
/// its size relative to the largest block or dedicated allocation of its pool.
struct MemoryMapBar
{
    size_t pool = 0;
    int block = -1;
    int dedicated = -1;
    uint64_t bytes = 0;
    int x = 0;
    int y = 0;
    int width = 0;
    int height = 0;
};
struct MemoryMapLayout
{
    int width = 0;
    int height = 0;
    std::vector<MemoryMapBar> bars;
};
MemoryMapLayout LayoutMemoryMap(const DumpModel& model);
} // namespace SceneryEditorX::Tool
