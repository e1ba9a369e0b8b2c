#pragma once
// The demo's streaming under a memory budget (`sedx-mem demo --budget-mb N`, issue 16). The scenery
// registers what it holds as evictable (MemoryAllocator::RegisterEvictable): each texture, ranked by
// its tile's distance from the camera, and each tile of the outer ring as a whole. When an eviction
// round asks, a texture drops its top mips (a smaller image is made, the lower mips uploaded, the
// old image released) and an outer tile unloads; when there is room again, detail comes back. Loads
// go with WithinBudget | MakeRoom; a load that needs memory that a round released with a deferred
// destroy waits for the frame the round names. A tile of the inner 3x3 that cannot be loaded even
// then is a load failure: the budget is too small for the lowest detail.
#include "Scenery.h"

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace SceneryEditorX::Tool
{
struct BudgetCounters
{
    uint64_t reductions = 0;     ///< eviction answers that gave memory back (mip drops + tile unloads)
    uint64_t mipDrops = 0;       ///< textures that dropped top mips
    uint64_t tileUnloads = 0;    ///< outer tiles unloaded for the budget
    uint64_t restorations = 0;   ///< textures given their full chain again, outer tiles reloaded
    uint64_t postponedLoads = 0; ///< loads that waited for the frame a round named
    uint64_t refused = 0;        ///< eviction requests answered with nothing (lowest detail already)
    /// Allocations attempted because the heap's figures said they fit, refused all the same (the
    /// free bytes were not in one piece): each one error line of the library, each retried later.
    uint64_t attemptsRefused = 0;
    double lodSum = 0.0; ///< sum over frames of the mean dropped mips of resident textures
    uint64_t lodFrames = 0;
};

/// The staging buffer an upload or readback of `bytes` takes: the library rounds it up to a power
/// of two, 256 KiB at least. Where staging shares the budget's heap (lavapipe) it counts too.
VkDeviceSize StagingBytes(VkDeviceSize bytes);

/// What a planned load does now.
enum class LoadPlan
{
    Load, ///< there is room: load it
    Wait, ///< postponed to the frame a round named, or outer detail held back
    Try,  ///< no room by the figures and none to be made, but the live bytes fit: attempted as it is
    Fail, ///< an inner tile that waiting cannot help: the budget is too small for the lowest detail
};

class SceneryBudget
{
public:
    SceneryBudget(uint32_t heapIndex, uint64_t budgetBytes, int windowTiles);
    uint32_t HeapIndex() const { return m_Heap; }
    AllocationFlags LoadFlags() const { return AllocationFlags::WithinBudget | AllocationFlags::MakeRoom; }

    /// Hooks of Scenery.
    void Attach(std::map<std::pair<int, int>, TileResources>* tiles, uint64_t seed,
                std::function<uint64_t(std::pair<int, int>)> tileSeed, SceneryCounters* counters);
    /// The camera's tile; when it moved, ranks follow the distances.
    void SetCamera(int cx, int cy, uint64_t frame);
    /// Whether the tile may be loaded in `frame` (not waiting for a round, not held back).
    bool MayLoad(std::pair<int, int> tile, uint64_t frame) const;
    /// Before a load of `bytes` (the tile's resources and its largest staging buffer): loads only
    /// when the heap's live bytes plus `bytes` fit the budget; otherwise asks a round for the
    /// shortfall (none when rounds already under way bring it back) and postpones the tile.
    LoadPlan BeforeLoad(std::pair<int, int> tile, uint64_t frame, VkDeviceSize resources,
                        VkDeviceSize staging);
    /// No room: `shortfall` bytes missing (BeforeLoad's check, or a step of a load that stopped
    /// before creating what would not fit) for a tile of `bytes` (its resources): a round for the shortfall
    /// unless rounds under way bring it back, then Wait; Fail only when waiting cannot help.
    LoadPlan NoRoom(std::pair<int, int> tile, uint64_t frame, VkDeviceSize shortfall, VkDeviceSize bytes);
    /// A planned load failed all the same: true when it waits for a round's frame or is an outer
    /// tile held back (no failure).
    bool OnLoadFailed(std::pair<int, int> tile, uint64_t frame);
    /// Whether `resources` more bytes and a staging buffer of `staging` fit the budget now, by the
    /// heap's figures (GetHeapBudgets: live bytes and committed blocks).
    bool HasRoom(VkDeviceSize resources, VkDeviceSize staging) const;
    /// Bytes to give back so that they fit (0 when they do).
    VkDeviceSize Shortfall(VkDeviceSize resources, VkDeviceSize staging) const;
    /// MakeRoom on the budget's heap; the bytes its deferred releases bring back are remembered, so
    /// that later checks in the same frames do not ask for them again.
    EvictionRound MakeRoom(VkDeviceSize bytes);
    /// Prints why an inner tile's load failed (one line: its needs, the heap's figures, the last round).
    void ReportFailure(std::pair<int, int> tile, uint64_t frame, VkDeviceSize bytes) const;
    /// An allocation that the check let through failed (AttemptsRefused).
    void CountRefused() { ++m_Counters.attemptsRefused; }
    void OnTileLoaded(std::pair<int, int> tile);
    void OnTileUnloaded(std::pair<int, int> tile, TileResources& res);
    /// Once a frame, after the loads: gives detail back when there is room, counts the resident LOD.
    bool EndFrame(uint64_t frame); // true when detail was reduced in this frame

    const BudgetCounters& Counters() const { return m_Counters; }
    double MeanResidentLod() const
    {
        return m_Counters.lodFrames ? m_Counters.lodSum / m_Counters.lodFrames : 0.0;
    }

private:
    int Distance(std::pair<int, int> tile) const;
    bool IsOuter(std::pair<int, int> tile) const { return Distance(tile) > 1; }
    uint32_t TextureRank(std::pair<int, int> tile) const;
    uint32_t TileRank(std::pair<int, int> tile) const;
    void RegisterTexture(std::pair<int, int> tile, size_t index);
    EvictionResponse DropMips(std::pair<int, int> tile, size_t index, const EvictionRequest& request);
    EvictionResponse UnloadTile(std::pair<int, int> tile);
    bool ReplaceTexture(std::pair<int, int> tile, size_t index, uint32_t droppedMips, bool withinBudget);
    VkDeviceSize LiveBytes() const;
    /// The heap's committed bytes once `resources` and a staging buffer of `staging` are made,
    /// estimated: the resources fill the committed blocks' free bytes first; the staging buffer (a
    /// memory type of its own) takes fresh memory. `incoming`: bytes assumed already back.
    VkDeviceSize CommittedAfter(VkDeviceSize resources, VkDeviceSize staging,
                                VkDeviceSize incoming = 0) const;
    void NoteRound(const EvictionRound& round);
    /// Bytes that rounds released with deferred destroys not yet back in `frame`, and the frame
    /// when the last of them is.
    std::pair<VkDeviceSize, uint64_t> Incoming(uint64_t frame);

    uint32_t m_Heap;
    uint64_t m_Budget;
    int m_Half;
    bool m_StagingOnHeap; // staging buffers take memory of the budget's heap (one heap: lavapipe)
    int m_CameraX = 0;
    int m_CameraY = 0;
    std::map<std::pair<int, int>, TileResources>* m_Tiles = nullptr;
    std::function<uint64_t(std::pair<int, int>)> m_TileSeed;
    SceneryCounters* m_SceneryCounters = nullptr;
    std::map<std::pair<int, int>, uint64_t> m_WaitUntil; // a load waits for this frame
    std::map<std::pair<int, int>, uint32_t>
        m_BarrenAttempts;                       // inner tiles' failed loads with nothing released
    std::set<std::pair<int, int>> m_HeldBack;   // outer tiles unloaded or not loaded for the budget
    std::set<std::pair<int, int>> m_LastResort; // inner tiles attempted without room by the figures
    std::vector<std::pair<uint64_t, VkDeviceSize>> m_Incoming; // ready frame, bytes released
    uint64_t m_LastReductionFrame = 0;
    uint64_t m_ReductionsAtFrameStart = 0;
    BudgetCounters m_Counters;
};

} // namespace SceneryEditorX::Tool
