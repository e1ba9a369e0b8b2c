#pragma once
// Memory-map pictures of a VMA dump (SceneryEditorX/VmaDump/DumpModel.h): one bar per memory block
// and one per dedicated allocation, grouped by pool, allocations coloured by tag (the part of the name
// before ':'; unnamed allocations by VMA's suballocation type), free space in light grey, a legend.
// MemoryMapLayout.h says where things go; MemoryMapText.h holds the words both forms show.

#include "MemoryMapLayout.h"

#include <SceneryEditorX/VmaDump/DumpModel.h>

#include <string>

namespace SceneryEditorX::Tool
{
/// Writes the map as a PNG, 1200 pixels wide, as tall as the blocks need. Text is drawn with DejaVu
/// Sans; without the font the picture is still written (without text) and one warning is printed.
/// False, with `error` set, when the file cannot be written.
/// `moment`, when given, says when the dump was taken ("at frame 905, the last frame"); the summary
/// line ends with it.
bool WriteMemoryMapPng(const DumpModel& model, const std::string& path, std::string& error,
                       const std::string& moment = {});

/// Writes the map as one self-contained HTML file (inline CSS and JavaScript, no external URLs): the
/// same bars and legend, with a tooltip on every allocation and free range (tag, name, type, offset,
/// size, block, pool). `moment` as for WriteMemoryMapPng.
bool WriteMemoryMapHtml(const DumpModel& model, const std::string& path, std::string& error,
                        const std::string& moment = {});

/// The legend's header; then one row per legend entry (MemoryMapLegend: largest first): the key
/// (the tag, or "[TYPE]" for unnamed allocations; quoted as CSV where it needs to be), its bytes and
/// its allocations.
inline constexpr const char* kMemoryMapLegendCsvHeader = "tag,bytes,allocations";
bool WriteMemoryMapLegendCsv(const DumpModel& model, const std::string& path, std::string& error);
} // namespace SceneryEditorX::Tool
