#pragma once
// Where the memory map puts things and in which colour, shared by its PNG and HTML forms (and the
// tests): one legend entry and colour per tag, one bar per memory block and per dedicated allocation,
// grouped by pool, and under each pool a scale of offsets.

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
    std::string note;   // what the tag is, for the library's own tag (LegendNote); else empty
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
inline constexpr int kNoteRow = 18; // one legend note
inline constexpr int kPoolHeader = 30;
inline constexpr int kBarHeight = 22;
inline constexpr int kRowPitch = 30;
inline constexpr int kAxisHeight = 20; // the offset scale under a pool's bars
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
/// One mark of an offset scale: `offset` bytes from the start of every bar above it, at x.
struct MemoryMapTick
{
    uint64_t offset = 0;
    int x = 0;
};
/// The offset scale under the bars of model.pools[pool]: marks every `step` bytes from 0 to the
/// pool's PoolScale, `step` a power of two whose multiples FormatBytes writes exactly, at most 8
/// steps. The marks hang from `y`; their labels (OffsetLabel) sit under them.
struct MemoryMapAxis
{
    size_t pool = 0;
    int y = 0;
    uint64_t step = 0;
    std::vector<MemoryMapTick> ticks;
};
struct MemoryMapLayout
{
    int width = 0;
    int height = 0;
    int notesTop = 0; // the top of the first legend note's row
    std::vector<MemoryMapBar> bars;
    std::vector<MemoryMapAxis> axes; // one per pool that has bars, in the bars' order
};
MemoryMapLayout LayoutMemoryMap(const DumpModel& model);
} // namespace SceneryEditorX::Tool
