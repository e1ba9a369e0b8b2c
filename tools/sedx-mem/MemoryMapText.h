#pragma once
// The words and figures of the memory map, shared by its PNG and HTML forms: the summary, pool
// titles and details, block usage, legend labels.

#include "MemoryMapLayout.h"

#include <cstdint>
#include <string>

namespace SceneryEditorX::Tool
{
/// "12.5 MiB", "640 KiB", "3 B": binary units with up to one decimal.
std::string FormatBytes(uint64_t bytes);

/// Pools, blocks, committed and used bytes, allocations and fragmentation of the whole dump.
std::string MemoryMapSummary(const DumpModel& model);
/// "default pool · memory type 2", "pool “name” · memory type 1".
std::string PoolTitle(const DumpPool& pool);
/// The pool's blocks, dedicated allocations, committed bytes, use and fragmentation.
std::string PoolDetails(const DumpPool& pool);
/// "50% used": the allocated part of a block.
std::string BlockUsage(const DumpBlock& block);
/// What the legend shows for a key (MemoryMapKey): the tag, or "TYPE (unnamed)".
std::string LegendLabel(const std::string& key);
/// The legend's figures of a key: "2 MiB · 3 allocs".
std::string LegendFigures(uint64_t bytes, uint64_t count);

inline constexpr const char* kNoMemoryText = "no memory blocks in this dump";
} // namespace SceneryEditorX::Tool
