#pragma once
// The streaming scenery of `sedx-mem demo`: a grid of tiles around a moving camera. Each tile that
// comes into range loads meshes (vertex and index buffers), textures (mip-mapped images) and a
// uniform buffer through tagged allocators that live in Modules; tiles that leave are unloaded.
// Every resource's contents derive from (seed, tile, resource), so they can be verified at any time.

#include <SceneryEditorX/Memory.h>

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace SceneryEditorX::Tool
{

/// The side of the square of resident tiles in a dense district and in a sparse one, for a window
/// of `windowTiles` (--tiles): districts of 8x8 tiles alternate like a checkerboard.
int DenseWindow(int windowTiles);
int SparseWindow(int windowTiles);

/// Deterministic bytes of one resource.
std::vector<uint8_t> ResourceBytes(uint64_t seed, VkDeviceSize size);

/// A Module that owns one tagged allocator (the spec's RenderModule shape).
class AllocatorModule : public Module
{
public:
    AllocatorModule(std::string name, MemoryAllocator::AllocationStrategy strategy);
    void OnAttach() override;
    void OnDetach() override;
    const Ref<MemoryAllocator>& Allocator() const { return m_Allocator; }

private:
    MemoryAllocator::AllocationStrategy m_Strategy;
    Ref<MemoryAllocator> m_Allocator;
};

struct TileResources
{
    Ref<GpuBuffer> vertices;
    Ref<GpuBuffer> indices;
    std::vector<Ref<GpuImage>> textures;
    Ref<GpuBuffer> uniforms;
    std::vector<uint64_t> seeds; // content seed of each resource, in the order above
    // Under a budget (SceneryBudget): each texture's full create info and the top mips it dropped
    // (0: full detail), and the evictable registrations (0: none).
    std::vector<VkImageCreateInfo> fullInfos;
    std::vector<uint32_t> droppedMips;
    std::vector<uint64_t> textureIds;
    uint64_t tileId = 0;
};
class SceneryBudget;

/// What a tile holds, drawn from its rng: the one source of the sizes that a load checks room for
/// and then allocates, so that the check and the load cannot disagree.
struct TilePlan
{
    VkDeviceSize vertexBytes = 0;
    VkDeviceSize indexBytes = 0;
    std::vector<VkImageCreateInfo> textures; // full mip chains
    VkDeviceSize uniformBytes = 0;
    /// Bytes of the tile's resources on the heap.
    VkDeviceSize ResourceBytes() const;
    /// The largest upload that goes through a staging buffer (vertices, indices, a texture).
    VkDeviceSize LargestStagedUpload() const;
};

struct SceneryCounters
{
    uint64_t tilesLoaded = 0;
    uint64_t tilesUnloaded = 0;
    uint64_t loadFailures = 0;
    uint64_t bytesUploaded = 0;
};

/// The world: the resident tiles and the modules that load them.
class Scenery
{
public:
    Scenery(uint64_t seed, int windowTiles, MemoryAllocator::AllocationStrategy strategy);
    ~Scenery();

    /// Moves the camera one frame and loads/unloads tiles.
    void Update(uint64_t frame);
    /// Reads every resident resource back and compares it with its expected bytes. Returns mismatches.
    uint64_t Verify(uint64_t* resourcesChecked = nullptr);
    /// Under a budget, a resource whose readback found no room for its staging buffer is checked
    /// again later: here, once room is back. `last`: whatever still cannot be read is a mismatch.
    uint64_t VerifyPending(uint64_t* resourcesChecked, bool last);
    size_t PendingChecks() const { return m_PendingChecks.size(); }
    void UnloadAll();
    /// Streams under `budget` from now on (sedx-mem demo --budget-mb; SceneryBudget.h).
    void EnableBudget(SceneryBudget* budget);

    size_t ResidentTiles() const { return m_Tiles.size(); }
    const SceneryCounters& Counters() const { return m_Counters; }
    std::vector<Ref<AllocatorModule>>& Modules() { return m_Modules; }
    const Ref<MemoryAllocator>& MeshAllocator() const { return m_Meshes->Allocator(); }

private:
    enum class Check
    {
        Ok,
        Mismatch,
        Unreadable, // under a budget only: no room for the staging buffer now
    };
    Check VerifyResource(std::pair<int, int> tile, const TileResources& res, size_t index);
    TilePlan PlanTile(std::pair<int, int> tile) const;
    bool LoadTile(std::pair<int, int> tile, const TilePlan& plan);
    /// Under a budget, before each step of a load: room for `resource` bytes and, when `staged` is
    /// not 0, the staging buffer of an upload of `staged` bytes. False stops the load (m_LoadStopped).
    bool RoomToLoad(VkDeviceSize resource, VkDeviceSize staged);
    /// Under a budget, a readback checks room for its staging buffer first (a round when there is
    /// none, using only what comes back now); false when there is no room now.
    bool RoomForReadback(VkDeviceSize bytes);
    /// Under a budget, a readback that found no room for its staging buffer: one round; true when
    /// memory came back now.
    bool MakeRoomForReadback(VkDeviceSize bytes);
    /// Reads a whole buffer back into `out` (sized): at once, or under a budget in pieces.
    bool ReadBuffer(const GpuBuffer& buffer, std::vector<uint8_t>& out);
    Ref<GpuBuffer> LoadBuffer(const Ref<MemoryAllocator>& allocator, VkDeviceSize size,
                              VkBufferUsageFlags usage, const AllocationCreateInfo& createInfo,
                              uint64_t contentSeed, const std::string& name);

    uint64_t m_Seed;
    int m_Window;
    std::mt19937_64 m_Rng;
    double m_CameraX = 0.0;
    double m_CameraY = 0.0;
    int m_DirX = 1;
    int m_DirY = 0;
    Ref<AllocatorModule> m_Meshes;
    Ref<AllocatorModule> m_Textures;
    Ref<AllocatorModule> m_Uniforms;
    std::vector<Ref<AllocatorModule>> m_Modules;
    std::map<std::pair<int, int>, TileResources> m_Tiles;
    std::map<std::pair<int, int>, bool> m_Failed; // not retried while in range
    SceneryCounters m_Counters;
    SceneryBudget* m_Budget = nullptr;
    bool m_LoadStopped = false;       // the last LoadTile stopped before an allocation that would not fit
    VkDeviceSize m_StopShortfall = 0; // the bytes that step was missing
    bool m_StepChecks = true;         // false for a last-resort attempt (LoadPlan::Try)
    std::vector<std::pair<std::pair<int, int>, size_t>> m_PendingChecks; // tile, resource index
};

} // namespace SceneryEditorX::Tool
