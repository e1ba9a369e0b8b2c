#pragma once
// Memory-map pictures of a VMA dump (SceneryEditorX/VmaDump/DumpModel.h): one bar per memory block
// and one per dedicated allocation, grouped by pool, allocations coloured by tag (the part of the name
// before ':'; unnamed allocations by VMA's suballocation type), free space in light grey, a legend.

#include <SceneryEditorX/VmaDump/DumpModel.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace SceneryEditorX::Tool
{
/// Writes the map as a PNG, 1200 pixels wide, as tall as the blocks need. Text is drawn with DejaVu
/// Sans; without the font the picture is still written (without text) and one warning is printed.
/// False, with `error` set, when the file cannot be written.
bool WriteMemoryMapPng(const detail::DumpModel& model, const std::string& path, std::string& error);

/// Writes the map as one self-contained HTML file (inline CSS and JavaScript, no external URLs): the
/// same bars and legend, with a tooltip on every allocation and free range (tag, name, type, offset,
/// size, block, pool).
bool WriteMemoryMapHtml(const detail::DumpModel& model, const std::string& path, std::string& error);

// ---------------------------------------------------------------- layout (shared with the tests)

/// What colours an allocation: its tag, or "[TYPE]" for an unnamed one.
std::string MemoryMapKey(const detail::DumpRange& range);

struct MemoryMapLegendEntry
{
    std::string key;    // MemoryMapKey
    std::string label;  // what the legend shows
    uint32_t color = 0; // 0xRRGGBB
    uint64_t bytes = 0;
    uint64_t count = 0;
};
/// The legend: one entry per key, largest first. Colours depend only on the set of keys.
std::vector<MemoryMapLegendEntry> MemoryMapLegend(const detail::DumpModel& model);
/// The colour of free space.
inline constexpr uint32_t kMemoryMapFreeColor = 0xDDDDDD;

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
MemoryMapLayout LayoutMemoryMap(const detail::DumpModel& model);
} // namespace SceneryEditorX::Tool
