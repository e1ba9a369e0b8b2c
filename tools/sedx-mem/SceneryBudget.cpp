#include "SceneryBudget.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>

namespace SceneryEditorX::Tool
{
namespace
{
constexpr uint32_t kMinSide = 64;     // the lowest LOD keeps a 64x64 top level
constexpr double kReduceAbove = 0.75; // of the budget, live bytes: ask holders to give back...
constexpr double kReduceTo = 0.65;    // ...down to this
constexpr double kRestoreBelow = 0.6; // detail comes back while the live bytes stay below this
constexpr uint64_t kQuietFramesBeforeRestore = 20;
constexpr uint32_t kTextureSeedBase = 2; // seeds: vertices, indices, then the textures
// Frames an inner tile waits, when no round released anything, before its load counts as failed:
// longer than any deferred destroy takes to come back (framesInFlight is 2 by default).
constexpr uint32_t kPatienceFrames = 8;
// The chain of `full` without its top `droppedMips` levels.
VkImageCreateInfo Reduced(const VkImageCreateInfo& full, uint32_t droppedMips)
{
    VkImageCreateInfo info = full;
    info.extent.width = full.extent.width >> droppedMips;
    info.extent.height = full.extent.height >> droppedMips;
    info.mipLevels = full.mipLevels - droppedMips;
    return info;
}
} // namespace

VkDeviceSize StagingBytes(VkDeviceSize bytes)
{
    return std::max<VkDeviceSize>(std::bit_ceil(bytes), 256 * 1024);
}

SceneryBudget::SceneryBudget(uint32_t heapIndex, uint64_t budgetBytes, int windowTiles)
    : m_Heap(heapIndex), m_Budget(budgetBytes), m_Half(std::max(1, windowTiles) / 2),
      m_StagingOnHeap(MemoryAllocator::GetStagingHeapIndex() == static_cast<int>(heapIndex))
{
}

void SceneryBudget::Attach(std::map<std::pair<int, int>, TileResources>* tiles, uint64_t,
                           std::function<uint64_t(std::pair<int, int>)> tileSeed, SceneryCounters* counters)
{
    m_Tiles = tiles;
    m_TileSeed = std::move(tileSeed);
    m_SceneryCounters = counters;
}

int SceneryBudget::Distance(std::pair<int, int> tile) const
{
    return std::max(std::abs(tile.first - m_CameraX), std::abs(tile.second - m_CameraY));
}

uint32_t SceneryBudget::TextureRank(std::pair<int, int> tile) const
{
    return static_cast<uint32_t>(2 * std::max(0, m_Half + 1 - Distance(tile)));
}

uint32_t SceneryBudget::TileRank(std::pair<int, int> tile) const
{
    return TextureRank(tile) + 1; // after the textures of its distance
}

VkDeviceSize SceneryBudget::LiveBytes() const
{
    const std::vector<HeapBudget> heaps = MemoryAllocator::GetHeapBudgets();
    return m_Heap < heaps.size() ? heaps[m_Heap].allocationBytes : 0;
}

bool SceneryBudget::MayLoad(std::pair<int, int> tile, uint64_t frame) const
{
    if (m_HeldBack.count(tile))
        return false;
    auto it = m_WaitUntil.find(tile);
    return it == m_WaitUntil.end() || frame >= it->second;
}

VkDeviceSize SceneryBudget::CommittedAfter(VkDeviceSize resources, VkDeviceSize staging,
                                           VkDeviceSize incoming) const
{
    // The resources fill the free bytes of the committed blocks first; the staging buffer lives in
    // another memory type (host-visible) and takes memory of its own on top of that, on this heap
    // only where staging has no heap of its own (lavapipe; a discrete GPU stages in host memory).
    const std::vector<HeapBudget> heaps = MemoryAllocator::GetHeapBudgets();
    if (m_Heap >= heaps.size())
        return 0;
    const VkDeviceSize live =
        heaps[m_Heap].allocationBytes - std::min(heaps[m_Heap].allocationBytes, incoming);
    const VkDeviceSize blocks = heaps[m_Heap].blockBytes - std::min(heaps[m_Heap].blockBytes, incoming);
    return std::max(blocks, live + resources) + (m_StagingOnHeap ? staging : 0);
}

bool SceneryBudget::HasRoom(VkDeviceSize resources, VkDeviceSize staging) const
{
    return CommittedAfter(resources, staging) <= m_Budget;
}

VkDeviceSize SceneryBudget::Shortfall(VkDeviceSize resources, VkDeviceSize staging) const
{
    const VkDeviceSize wanted = CommittedAfter(resources, staging);
    return wanted > m_Budget ? wanted - m_Budget : 0;
}

void SceneryBudget::NoteRound(const EvictionRound& round)
{
    // The owners here release with deferred destroys: their bytes are still live until readyFrame.
    if (round.bytesReleased && round.readyFrame > round.frame)
        m_Incoming.emplace_back(round.readyFrame, round.bytesReleased);
}

EvictionRound SceneryBudget::MakeRoom(VkDeviceSize bytes)
{
    const EvictionRound round = MemoryAllocator::MakeRoom(m_Heap, bytes);
    NoteRound(round);
    return round;
}

std::pair<VkDeviceSize, uint64_t> SceneryBudget::Incoming(uint64_t frame)
{
    std::erase_if(m_Incoming, [&](const auto& entry) { return entry.first <= frame; });
    VkDeviceSize bytes = 0;
    uint64_t ready = frame;
    for (const auto& [readyFrame, released] : m_Incoming)
    {
        bytes += released;
        ready = std::max(ready, readyFrame);
    }
    return {bytes, ready};
}

LoadPlan SceneryBudget::BeforeLoad(std::pair<int, int> tile, uint64_t frame, VkDeviceSize resources,
                                   VkDeviceSize staging)
{
    if (m_LastResort.erase(tile))
        return LoadPlan::Try;
    const VkDeviceSize shortfall = Shortfall(resources, staging);
    return shortfall ? NoRoom(tile, frame, shortfall, resources) : LoadPlan::Load;
}

LoadPlan SceneryBudget::NoRoom(std::pair<int, int> tile, uint64_t frame, VkDeviceSize shortfall,
                               VkDeviceSize bytes)
{
    // Memory that earlier rounds released is on its way back: wait for it rather than ask again.
    const auto [incoming, ready] = Incoming(frame);
    if (incoming >= shortfall)
    {
        m_WaitUntil[tile] = std::max(ready, frame + 1);
        ++m_Counters.postponedLoads;
        return LoadPlan::Wait;
    }
    const EvictionRound round = MakeRoom(shortfall - incoming);
    if (round.cacheBytesReleased + round.bytesReleased != 0)
    {
        m_WaitUntil[tile] = std::max(round.readyFrame, frame + 1);
        ++m_Counters.postponedLoads;
        return LoadPlan::Wait;
    }
    if (IsOuter(tile))
    {
        m_HeldBack.insert(tile); // outer detail waits for room
        return LoadPlan::Wait;
    }
    // An inner tile: memory released with deferred destroys in the last frames is still coming
    // back; only when waiting for all of it did not help is it a failure.
    if (++m_BarrenAttempts[tile] <= kPatienceFrames)
    {
        m_WaitUntil[tile] = frame + 1;
        ++m_Counters.postponedLoads;
        return LoadPlan::Wait;
    }
    // Nothing comes back and nobody can give more: the free bytes inside the committed blocks are
    // what is left. Where the live bytes say the tile's resources fit (its staging buffer may be
    // one the library's cache holds, counted in the live bytes already), it is attempted once as it
    // is: it may find its pieces, or be refused with one error line, counted. Otherwise it fails.
    if (LiveBytes() + bytes <= m_Budget)
    {
        m_LastResort.insert(tile);
        m_WaitUntil[tile] = frame + 1;
        return LoadPlan::Wait;
    }
    return LoadPlan::Fail; // nothing left to give back: the budget is too small for the lowest detail
}

bool SceneryBudget::OnLoadFailed(std::pair<int, int> tile, uint64_t frame)
{
    EvictionRound round = MemoryAllocator::GetLastEvictionRound();
    if (round.frame == frame && round.reason == PressureReason::AllocationFailed)
        NoteRound(round); // the failed allocation's own round (AllocationFlags::MakeRoom)
    if (round.frame != frame || round.cacheBytesReleased + round.bytesReleased == 0)
        round = MakeRoom(2ull * 1024 * 1024); // a staging buffer, say
    if (round.cacheBytesReleased + round.bytesReleased != 0)
    {
        m_WaitUntil[tile] = std::max(round.readyFrame, frame + 1);
        ++m_Counters.postponedLoads;
        return true;
    }
    if (IsOuter(tile))
    {
        m_HeldBack.insert(tile); // outer detail waits for room
        return true;
    }
    if (++m_BarrenAttempts[tile] <= kPatienceFrames)
    {
        m_WaitUntil[tile] = frame + 1;
        ++m_Counters.postponedLoads;
        return true;
    }
    return false; // nothing left to give back: the budget is too small for the lowest detail
}

void SceneryBudget::ReportFailure(std::pair<int, int> tile, uint64_t frame, VkDeviceSize bytes) const
{
    // One line with the figures the decision was made on: what the tile needs, what the heap holds,
    // and what the last round could get back.
    constexpr double kMiB = 1024.0 * 1024.0;
    const std::vector<HeapBudget> heaps = MemoryAllocator::GetHeapBudgets();
    const HeapBudget heap = m_Heap < heaps.size() ? heaps[m_Heap] : HeapBudget{};
    const EvictionRound round = MemoryAllocator::GetLastEvictionRound();
    std::printf("frame %llu: tile (%d, %d) not loaded: it needs %.2f MiB; heap %u holds %.2f MiB live in "
                "%.2f MiB of blocks, budget %.2f MiB; last round (frame %llu) asked %u owners, %u "
                "refused, %.2f MiB back (caches %.2f MiB); %zu evictable\n",
                static_cast<unsigned long long>(frame), tile.first, tile.second,
                static_cast<double>(bytes) / kMiB, m_Heap, static_cast<double>(heap.allocationBytes) / kMiB,
                static_cast<double>(heap.blockBytes) / kMiB, static_cast<double>(m_Budget) / kMiB,
                static_cast<unsigned long long>(round.frame), round.ownersAsked, round.ownersRefused,
                static_cast<double>(round.bytesReleased + round.cacheBytesReleased) / kMiB,
                static_cast<double>(round.cacheBytesReleased) / kMiB, MemoryAllocator::GetEvictableCount());
}

void SceneryBudget::RegisterTexture(std::pair<int, int> tile, size_t index)
{
    auto it = m_Tiles->find(tile);
    if (it == m_Tiles->end())
        return; // unloaded by a round meanwhile (ReplaceTexture)
    TileResources& res = it->second;
    if ((res.fullInfos[index].extent.width >> res.droppedMips[index]) <= kMinSide)
        return; // already the lowest LOD: nothing to give
    res.textureIds[index] = MemoryAllocator::RegisterEvictable(
        res.textures[index]->GetAllocation(), TextureRank(tile),
        [this, tile, index](const EvictionRequest& request) { return DropMips(tile, index, request); });
}

void SceneryBudget::OnTileLoaded(std::pair<int, int> tile)
{
    m_WaitUntil.erase(tile);
    m_BarrenAttempts.erase(tile);
    m_LastResort.erase(tile);
    TileResources& res = m_Tiles->at(tile);
    for (size_t i = 0; i < res.textures.size(); ++i)
        RegisterTexture(tile, i);
    if (IsOuter(tile))
        res.tileId = MemoryAllocator::RegisterEvictable(res.vertices->GetAllocation(), TileRank(tile),
                                                        [this, tile](const EvictionRequest&)
                                                        { return UnloadTile(tile); });
}

void SceneryBudget::OnTileUnloaded(std::pair<int, int>, TileResources& res)
{
    for (uint64_t& id : res.textureIds)
        if (id)
            MemoryAllocator::UnregisterEvictable(std::exchange(id, 0));
    if (res.tileId)
        MemoryAllocator::UnregisterEvictable(std::exchange(res.tileId, 0));
}

bool SceneryBudget::ReplaceTexture(std::pair<int, int> tile, size_t index, uint32_t droppedMips,
                                   bool withinBudget)
{
    // The tile is looked up again after each allocation: outside an owner's callback an allocation
    // can start a round (a warning threshold crossed) whose owners unload tiles, this one included,
    // and a reference held across it would dangle.
    auto find = [&]() -> TileResources*
    {
        auto it = m_Tiles->find(tile);
        return it == m_Tiles->end() ? nullptr : &it->second;
    };
    TileResources* found = find();
    if (!found)
        return false;
    const VkImageCreateInfo full = found->fullInfos[index];
    const uint64_t seed = found->seeds[kTextureSeedBase + index];
    Ref<MemoryAllocator> allocator = found->textures[index]->GetAllocator();
    const VkImageCreateInfo info = Reduced(full, droppedMips);
    AllocationCreateInfo createInfo;
    createInfo.usage = VMA_MEMORY_USAGE_GPU_ONLY;
    createInfo.requiredFlags = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT; // Scenery.cpp: the budget's heap
    createInfo.name = "texture LOD " + std::to_string(droppedMips);
    if (withinBudget)
        createInfo.flags = AllocationFlags::WithinBudget;
    Ref<GpuImage> image = GpuImage::Create(allocator, info, createInfo);
    if (!image)
    {
        ++m_Counters.attemptsRefused; // the callers checked room: not in one piece
        return false;
    }
    // The chain without its top mips is the tail of the full chain's bytes (levels are packed in order).
    const std::vector<uint8_t> bytes = ResourceBytes(seed, MemoryAllocator::ImageDataSize(full));
    const VkDeviceSize size = MemoryAllocator::ImageDataSize(info);
    if (!image->Upload(bytes.data() + (bytes.size() - size), size))
    {
        ++m_Counters.attemptsRefused; // no staging buffer in one piece
        return false;
    }
    m_SceneryCounters->bytesUploaded += size;
    TileResources* res = find();
    if (!res)
        return false;             // unloaded meanwhile: the new image goes with it
    res->textures[index] = image; // the old image goes with a deferred destroy
    res->droppedMips[index] = droppedMips;
    return true;
}

EvictionResponse SceneryBudget::DropMips(std::pair<int, int> tile, size_t index,
                                         const EvictionRequest& request)
{
    auto it = m_Tiles->find(tile);
    if (it == m_Tiles->end() || index >= it->second.textures.size())
        return {};
    TileResources& res = it->second;
    const uint32_t dropped = res.droppedMips[index];
    const uint32_t side = res.fullInfos[index].extent.width >> dropped;
    const VkDeviceSize oldSize = res.textures[index]->GetAllocatedSize();
    // Drop as many top mips as the request needs (each drop quarters the chain), down to the lowest LOD.
    uint32_t k = 1;
    while ((side >> k) > kMinSide && oldSize - oldSize / (VkDeviceSize{1} << (2 * k)) < request.bytesWanted)
        ++k;
    const uint64_t id = std::exchange(res.textureIds[index], 0);
    uint32_t lowest = 0;
    while ((side >> (lowest + 1)) >= kMinSide)
        ++lowest;
    // The smaller chain and its staging buffer are made while the old chain still lives: only
    // where they fit the budget. No room for it: the lowest LOD needs the least.
    auto fits = [&](uint32_t droppedMips)
    {
        const VkDeviceSize size = MemoryAllocator::ImageDataSize(Reduced(res.fullInfos[index], droppedMips));
        return HasRoom(size, StagingBytes(size));
    };
    const bool replaced =
        (fits(dropped + k) && ReplaceTexture(tile, index, dropped + k, false)) ||
        (k != lowest && fits(dropped + lowest) && ReplaceTexture(tile, index, dropped + lowest, false));
    if (!replaced)
    {
        res.textureIds[index] = id; // refused: the registration stays
        ++m_Counters.refused;
        return {};
    }
    // `res` is still the tile's: this runs inside an owner's callback, where the rounds that its
    // allocations may start ask no owners, so nothing unloads a tile meanwhile.
    const VkDeviceSize newSize = res.textures[index]->GetAllocatedSize();
    ++m_Counters.mipDrops;
    ++m_Counters.reductions;
    RegisterTexture(tile, index); // the smaller chain, while it can give more
    return {oldSize > newSize ? oldSize - newSize : 1, true};
}

EvictionResponse SceneryBudget::UnloadTile(std::pair<int, int> tile)
{
    auto it = m_Tiles->find(tile);
    if (it == m_Tiles->end())
        return {};
    TileResources& res = it->second;
    VkDeviceSize bytes = res.vertices->GetSize() + res.indices->GetSize() + res.uniforms->GetSize();
    for (const Ref<GpuImage>& image : res.textures)
        bytes += image->GetAllocatedSize();
    res.tileId = 0; // ends with this answer
    OnTileUnloaded(tile, res);
    m_Tiles->erase(it); // the Refs release through the deferred path
    ++m_SceneryCounters->tilesUnloaded;
    m_HeldBack.insert(tile);
    ++m_Counters.tileUnloads;
    ++m_Counters.reductions;
    return {bytes, true};
}

void SceneryBudget::SetCamera(int cx, int cy, uint64_t frame)
{
    const bool moved = cx != m_CameraX || cy != m_CameraY;
    m_CameraX = cx;
    m_CameraY = cy;
    if (!moved)
        return;
    std::erase_if(m_HeldBack, [&](const auto& tile) { return Distance(tile) > m_Half; });
    std::erase_if(m_WaitUntil, [&](const auto& entry) { return Distance(entry.first) > m_Half; });
    std::erase_if(m_BarrenAttempts, [&](const auto& entry) { return Distance(entry.first) > m_Half; });
    std::erase_if(m_LastResort, [&](const auto& tile) { return Distance(tile) > m_Half; });
    // Ranks follow the distance; a tile that came into the inner 3x3 is no longer given up whole.
    for (auto& [tile, res] : *m_Tiles)
    {
        if (Distance(tile) > m_Half)
            continue; // leaves this frame
        for (uint64_t id : res.textureIds)
            if (id)
            {
                MemoryAllocator::SetEvictableRank(id, TextureRank(tile));
                MemoryAllocator::TouchEvictable(id, frame);
            }
        if (res.tileId && !IsOuter(tile))
            MemoryAllocator::UnregisterEvictable(std::exchange(res.tileId, 0));
        else if (res.tileId)
            MemoryAllocator::SetEvictableRank(res.tileId, TileRank(tile));
        else if (IsOuter(tile))
        {
            const std::pair<int, int> t = tile;
            res.tileId = MemoryAllocator::RegisterEvictable(res.vertices->GetAllocation(), TileRank(tile),
                                                            [this, t](const EvictionRequest&)
                                                            { return UnloadTile(t); });
        }
    }
}

bool SceneryBudget::EndFrame(uint64_t frame)
{
    // Ahead of the next loads: holders give back down to kReduceTo (released memory comes back when
    // its frame retires, so the room has to be made before it is needed).
    const VkDeviceSize live = LiveBytes();
    if (live > static_cast<VkDeviceSize>(kReduceAbove * static_cast<double>(m_Budget)))
        MakeRoom(live - static_cast<VkDeviceSize>(kReduceTo * static_cast<double>(m_Budget)));

    const bool reduced = m_Counters.reductions != m_ReductionsAtFrameStart;
    m_ReductionsAtFrameStart = m_Counters.reductions;
    if (reduced)
        m_LastReductionFrame = frame;

    // Detail comes back, one step a frame, nearest first, while there is room and nothing was
    // reduced lately.
    else if (frame >= m_LastReductionFrame + kQuietFramesBeforeRestore &&
             LiveBytes() < static_cast<VkDeviceSize>(kRestoreBelow * static_cast<double>(m_Budget)))
    {
        if (!m_HeldBack.empty())
        {
            m_HeldBack.erase(m_HeldBack.begin()); // Scenery loads it in the next frame
            ++m_Counters.restorations;
        }
        else
        {
            std::pair<int, int> best{};
            size_t bestIndex = 0;
            int bestDistance = -1;
            for (auto& [tile, res] : *m_Tiles)
                for (size_t i = 0; i < res.textures.size(); ++i)
                    if (res.droppedMips[i] && (bestDistance < 0 || Distance(tile) < bestDistance))
                    {
                        best = tile;
                        bestIndex = i;
                        bestDistance = Distance(tile);
                    }
            if (bestDistance >= 0)
            {
                TileResources& res = m_Tiles->at(best);
                // The full chain and its staging buffer are made while the reduced chain lives.
                const VkDeviceSize cost = MemoryAllocator::ImageDataSize(res.fullInfos[bestIndex]);
                if (LiveBytes() + cost <
                        static_cast<VkDeviceSize>(kRestoreBelow * static_cast<double>(m_Budget)) &&
                    HasRoom(cost, StagingBytes(cost)))
                {
                    if (res.textureIds[bestIndex])
                        MemoryAllocator::UnregisterEvictable(std::exchange(res.textureIds[bestIndex], 0));
                    if (ReplaceTexture(best, bestIndex, 0, true))
                        ++m_Counters.restorations;
                    RegisterTexture(best, bestIndex);
                }
            }
        }
    }

    // The mean resident LOD: dropped mips per resident texture, this frame.
    uint64_t textures = 0, dropped = 0;
    for (const auto& [tile, res] : *m_Tiles)
        for (uint32_t d : res.droppedMips)
        {
            ++textures;
            dropped += d;
        }
    if (textures)
    {
        m_Counters.lodSum += static_cast<double>(dropped) / static_cast<double>(textures);
        ++m_Counters.lodFrames;
    }
    return reduced;
}

} // namespace SceneryEditorX::Tool
