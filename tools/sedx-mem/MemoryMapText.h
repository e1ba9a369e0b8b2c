#pragma once
// The words and figures of the memory map, shared by its PNG and HTML forms: the summary, pool
// titles and details, block usage, legend labels and notes, offset labels.

#include "MemoryMapLayout.h"

#include <SceneryEditorX/Memory/MemoryTypes.h>

#include <cstdint>
#include <string>

namespace SceneryEditorX::Tool
{
/// "12.5 MiB", "640 KiB", "3 B": binary units with up to one decimal.
std::string FormatBytes(uint64_t bytes);
/// Whether FormatBytes writes `bytes` without rounding.
bool FormatsExactly(uint64_t bytes);
/// A mark of the offset scale: "0", "512 KiB", "1.5 MiB".
std::string OffsetLabel(uint64_t offset);

/// The tag under which the memory system names and counts its own allocations (kInternalTag,
/// MemoryTypes.h): its staging buffers ("sedx:staging"). Its size-class pools carry the same prefix
/// ("sedx:small", "sedx:medium", "sedx:large"), but the buffers in them are the users'.
inline constexpr const char* kLibraryTag = SceneryEditorX::kInternalTag;

/// Pools, blocks, committed and used bytes, allocations and fragmentation of the whole dump.
/// `moment`, when not empty, is added at the end: when the dump was taken.
std::string MemoryMapSummary(const DumpModel& model, const std::string& moment = {});
/// "default pool · memory type 2", "pool “name” · memory type 1"; the library's size-class pools
/// say which buffer sizes they hold.
std::string PoolTitle(const DumpPool& pool);
/// The pool's blocks and their sizes ("3 blocks of 1 MiB to 4 MiB (preferred size 4 MiB)": VMA
/// starts a default pool with blocks of 1/8, 1/4 and 1/2 of its preferred size), dedicated
/// allocations, committed bytes, use and fragmentation.
std::string PoolDetails(const DumpPool& pool);
/// "50% used": the allocated part of a block.
std::string BlockUsage(const DumpBlock& block);
/// What the legend shows for a key (MemoryMapKey): the tag, "TYPE (unnamed)", or for kLibraryTag
/// "sedx (library: staging buffers)".
std::string LegendLabel(const std::string& key);
/// One line that explains a key: what the library's own tag holds. Empty for every other key.
std::string LegendNote(const std::string& key);
/// The legend's figures of a key: "2 MiB · 3 allocs".
std::string LegendFigures(uint64_t bytes, uint64_t count);

inline constexpr const char* kNoMemoryText = "no memory blocks in this dump";
} // namespace SceneryEditorX::Tool
