#include <SceneryEditorX/VmaDump/DumpModel.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string_view>

namespace SceneryEditorX::detail
{
namespace
{
using nlohmann::json;

uint64_t U64(const json& j, const char* key)
{
    auto it = j.find(key);
    return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

// VMA writes a custom pool's "Name" as "<index>" or "<index> - <name>": keep the pool's own name.
std::string PoolName(const std::string& written)
{
    const size_t dash = written.find(" - ");
    const bool indexed =
        dash != std::string::npos && dash > 0 && written.find_first_not_of("0123456789") == dash;
    if (indexed)
        return written.substr(dash + 3);
    return written.empty() || written.find_first_not_of("0123456789") == std::string::npos ? "unnamed"
                                                                                           : written;
}

uint32_t TypeIndexOf(std::string_view key)
{
    // Keys are "Type N".
    const size_t space = key.find(' ');
    if (space == std::string_view::npos)
        return 0;
    uint32_t value = 0;
    for (char c : key.substr(space + 1))
        if (c >= '0' && c <= '9')
            value = value * 10 + static_cast<uint32_t>(c - '0');
    return value;
}

void ParseBlocks(const json& poolJson, DumpPool& pool)
{
    pool.preferredBlockSize = U64(poolJson, "PreferredBlockSize");
    if (auto blocks = poolJson.find("Blocks"); blocks != poolJson.end() && blocks->is_object())
    {
        for (const auto& [index, blockJson] : blocks->items())
        {
            DumpBlock block;
            block.totalBytes = U64(blockJson, "TotalBytes");
            block.unusedBytes = U64(blockJson, "UnusedBytes");
            block.allocations = U64(blockJson, "Allocations");
            if (auto subs = blockJson.find("Suballocations"); subs != blockJson.end() && subs->is_array())
                for (const json& s : *subs)
                {
                    DumpRange r;
                    r.offset = U64(s, "Offset");
                    r.size = U64(s, "Size");
                    r.type = s.value("Type", std::string());
                    r.free = r.type == "FREE";
                    r.name = s.value("Name", std::string());
                    block.ranges.push_back(std::move(r));
                }
            std::sort(block.ranges.begin(), block.ranges.end(),
                      [](const DumpRange& a, const DumpRange& b) { return a.offset < b.offset; });
            pool.blocks.push_back(std::move(block));
        }
    }
    if (auto dedicated = poolJson.find("DedicatedAllocations");
        dedicated != poolJson.end() && dedicated->is_array())
        for (const json& s : *dedicated)
        {
            DumpRange r;
            r.size = U64(s, "Size");
            r.type = s.value("Type", std::string());
            r.free = false;
            r.name = s.value("Name", std::string());
            pool.dedicated.push_back(std::move(r));
        }
}
} // namespace

static std::optional<DumpModel> ParseVmaDumpOrThrow(const std::string& text, std::string& error);

std::optional<DumpModel> ParseVmaDump(const std::string& text, std::string& error)
{
    try
    {
        return ParseVmaDumpOrThrow(text, error);
    }
    catch (const nlohmann::json::exception& e)
    {
        // VMA's keys with other types: not a dump we can read.
        error = std::string("not a VMA statistics dump (") + e.what() + ")";
        return std::nullopt;
    }
}

static std::optional<DumpModel> ParseVmaDumpOrThrow(const std::string& text, std::string& error)
{
    json root = json::parse(text, nullptr, false);
    if (root.is_discarded())
    {
        error = "not valid JSON";
        return std::nullopt;
    }
    if (!root.is_object() || !root.contains("Total") || !root.contains("DefaultPools"))
    {
        error = "not a VMA statistics dump (no \"Total\" or \"DefaultPools\")";
        return std::nullopt;
    }
    DumpModel model;
    const json& total = root["Total"];
    model.totalBlockBytes = U64(total, "BlockBytes");
    model.totalAllocationBytes = U64(total, "AllocationBytes");
    model.totalAllocationCount = U64(total, "AllocationCount");
    model.totalBlockCount = U64(total, "BlockCount");
    for (const auto& [key, poolJson] : root["DefaultPools"].items())
    {
        DumpPool pool;
        pool.name = "default";
        pool.memoryType = TypeIndexOf(key);
        ParseBlocks(poolJson, pool);
        model.pools.push_back(std::move(pool));
    }
    if (auto custom = root.find("CustomPools"); custom != root.end() && custom->is_object())
        for (const auto& [key, list] : custom->items())
            for (const json& poolJson : list)
            {
                DumpPool pool;
                pool.custom = true;
                pool.name = PoolName(poolJson.value("Name", std::string()));
                pool.memoryType = TypeIndexOf(key);
                ParseBlocks(poolJson, pool);
                model.pools.push_back(std::move(pool));
            }
    return model;
}

PoolFreeSpace FreeSpaceOf(const DumpPool& pool)
{
    PoolFreeSpace out;
    for (const DumpBlock& block : pool.blocks)
    {
        if (block.allocations == 0)
        {
            ++out.emptyBlocks;
            continue;
        }
        for (const DumpRange& r : block.ranges)
            if (r.free)
            {
                out.freeBytes += r.size;
                out.largestFreeRange = std::max(out.largestFreeRange, r.size);
            }
    }
    return out;
}

float PoolFragmentation(const DumpPool& pool)
{
    const PoolFreeSpace f = FreeSpaceOf(pool);
    if (f.freeBytes == 0)
        return 0.0f;
    return static_cast<float>(1.0 -
                              static_cast<double>(f.largestFreeRange) / static_cast<double>(f.freeBytes));
}

float ExternalFragmentation(const std::vector<DumpPool>& pools)
{
    uint64_t free = 0;
    uint64_t scattered = 0;
    for (const DumpPool& pool : pools)
    {
        const PoolFreeSpace f = FreeSpaceOf(pool);
        free += f.freeBytes;
        scattered += f.freeBytes - f.largestFreeRange;
    }
    return free ? static_cast<float>(static_cast<double>(scattered) / static_cast<double>(free)) : 0.0f;
}
} // namespace SceneryEditorX::detail
