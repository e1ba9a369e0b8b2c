#pragma once
// A model of VMA's JSON dump (vmaBuildStatsString with the detailed map): pools, blocks and the
// ranges inside each block. Parsing is separate from VMA so that any dump file can be read.
// The library target SceneryEditorX::VmaDump (libs/VmaDump), shared by the memory system (the
// fragmentation figure, the detailed report) and sedx-mem (the memory-map pictures). Not part of
// the memory system's user API: its headers are not installed.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace SceneryEditorX::detail
{
struct DumpRange
{
    uint64_t offset = 0;
    uint64_t size = 0;
    bool free = true;
    std::string type; // VMA's suballocation type ("FREE", "BUFFER", "IMAGE_OPTIMAL", ...)
    std::string name;
};

struct DumpBlock
{
    uint64_t totalBytes = 0;
    uint64_t unusedBytes = 0;
    uint64_t allocations = 0;
    std::vector<DumpRange> ranges; // in offset order
};

struct DumpPool
{
    std::string name; // "default" for VMA's default pools, else the custom pool's name
    uint32_t memoryType = 0;
    uint64_t preferredBlockSize = 0;
    bool custom = false;
    std::vector<DumpBlock> blocks;
    std::vector<DumpRange> dedicated; // dedicated allocations (their own memory, no free space)
};

struct DumpModel
{
    std::vector<DumpPool> pools;
    uint64_t totalBlockBytes = 0; // "Total" statistics of the dump
    uint64_t totalAllocationBytes = 0;
    uint64_t totalAllocationCount = 0;
    uint64_t totalBlockCount = 0;
};

/// Parses a dump. Returns nothing and sets `error` when the text is not a VMA dump.
std::optional<DumpModel> ParseVmaDump(const std::string& json, std::string& error);

/// Free bytes and largest free range of a pool, leaving out empty blocks (kept in reserve).
struct PoolFreeSpace
{
    uint64_t freeBytes = 0;
    uint64_t largestFreeRange = 0;
    uint64_t emptyBlocks = 0;
};
PoolFreeSpace FreeSpaceOf(const DumpPool& pool);
/// 1 - largest free range / free bytes (0 when nothing is free), over non-empty blocks.
float PoolFragmentation(const DumpPool& pool);
/// Over all pools: sum(free - largest) / sum(free); 0 when nothing is free.
float ExternalFragmentation(const std::vector<DumpPool>& pools);
} // namespace SceneryEditorX::detail
