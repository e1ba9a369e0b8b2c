#include "Scenery.h"

#include "SceneryBudget.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace SceneryEditorX::Tool
{
namespace
{
uint64_t Mix(uint64_t a, uint64_t b)
{
    uint64_t x = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull + (a << 6) + (a >> 2));
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    return x;
}

uint64_t TileSeed(uint64_t seed, std::pair<int, int> tile)
{
    return Mix(Mix(seed, static_cast<uint64_t>(static_cast<uint32_t>(tile.first))),
               static_cast<uint64_t>(static_cast<uint32_t>(tile.second)));
}

// The world's districts, kDistrictTiles tiles a side, alternate like a checkerboard between dense
// ones (the editor keeps a wider square of tiles around the camera) and sparse ones: crossing into a
// sparse district unloads a ring of tiles at once and leaves the survivors scattered over the
// blocks, which is how a streaming editor fragments memory across blocks.
constexpr int kDistrictTiles = 8;

int FloorDiv(int a, int b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

std::string TileName(std::pair<int, int> tile, const char* what)
{
    return fmt::format("tile {},{} {}", tile.first, tile.second, what);
}
} // namespace

int DenseWindow(int windowTiles)
{
    return windowTiles + 2;
}

int SparseWindow(int windowTiles)
{
    return std::max(1, windowTiles - 2);
}

std::vector<uint8_t> ResourceBytes(uint64_t seed, VkDeviceSize size)
{
    std::vector<uint8_t> bytes(size);
    uint64_t state = seed | 1;
    size_t i = 0;
    for (; i + 8 <= bytes.size(); i += 8)
    {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        std::memcpy(bytes.data() + i, &state, 8);
    }
    for (; i < bytes.size(); ++i)
        bytes[i] = static_cast<uint8_t>(state >> (8 * (i % 8)));
    return bytes;
}

AllocatorModule::AllocatorModule(std::string name, MemoryAllocator::AllocationStrategy strategy)
    : Module(std::move(name)), m_Strategy(strategy)
{
}

void AllocatorModule::OnAttach()
{
    m_Allocator = CreateRef<MemoryAllocator>(GetName());
    m_Allocator->SetAllocationStrategy(m_Strategy);
}

void AllocatorModule::OnDetach()
{
    m_Allocator.Reset();
}

Scenery::Scenery(uint64_t seed, int windowTiles, MemoryAllocator::AllocationStrategy strategy)
    : m_Seed(seed), m_Window(std::max(1, windowTiles)), m_Rng(seed)
{
    m_Meshes = CreateRef<AllocatorModule>("Mesh Renderer", strategy);
    m_Textures = CreateRef<AllocatorModule>("TextureManager", strategy);
    m_Uniforms = CreateRef<AllocatorModule>("Uniforms", strategy);
    m_Modules = {m_Meshes, m_Textures, m_Uniforms};
    for (auto& module : m_Modules)
        module->OnAttach();
}

Scenery::~Scenery()
{
    UnloadAll();
    for (auto& module : m_Modules)
        module->OnDetach();
}

Ref<GpuBuffer> Scenery::LoadBuffer(const Ref<MemoryAllocator>& allocator, VkDeviceSize size,
                                   VkBufferUsageFlags usage, const AllocationCreateInfo& createInfo,
                                   uint64_t contentSeed, const std::string& name)
{
    VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    info.size = size;
    info.usage = usage | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    AllocationCreateInfo named = createInfo;
    named.name = name;
    const bool mappable = HasFlag(createInfo.flags, AllocationFlags::Mapped);
    if (!RoomToLoad(size, mappable ? 0 : size))
        return nullptr;
    Ref<GpuBuffer> buffer = GpuBuffer::Create(allocator, info, named);
    if (!buffer)
        return nullptr;
    const std::vector<uint8_t> bytes = ResourceBytes(contentSeed, size);
    if (void* mapped = MemoryAllocator::GetMappedData(buffer->GetAllocation()))
    {
        std::memcpy(mapped, bytes.data(), bytes.size());
        MemoryAllocator::FlushAllocation(buffer->GetAllocation());
    }
    else if (!RoomToLoad(0, size) || !buffer->Upload(bytes.data(), size))
        return nullptr;
    m_Counters.bytesUploaded += size;
    return buffer;
}

VkDeviceSize TilePlan::ResourceBytes() const
{
    VkDeviceSize bytes = vertexBytes + indexBytes + uniformBytes;
    for (const VkImageCreateInfo& info : textures)
        bytes += MemoryAllocator::ImageDataSize(info);
    return bytes;
}

VkDeviceSize TilePlan::LargestStagedUpload() const
{
    VkDeviceSize largest = std::max(vertexBytes, indexBytes);
    for (const VkImageCreateInfo& info : textures)
        largest = std::max(largest, MemoryAllocator::ImageDataSize(info));
    return largest;
}

TilePlan Scenery::PlanTile(std::pair<int, int> tile) const
{
    // The draws, in this order, are the tile's: the contents come from the seeds (Mix), not from here.
    std::mt19937_64 rng(TileSeed(m_Seed, tile));
    TilePlan plan;
    plan.vertexBytes = 64 * (256 + rng() % 12000); // 16 KiB .. 768 KiB
    plan.indexBytes = 64 * (64 + rng() % 3000);    // 4 KiB .. 196 KiB
    const int textureCount = 1 + static_cast<int>(rng() % 2);
    for (int t = 0; t < textureCount; ++t)
    {
        const uint32_t side = 64u << (rng() % 4); // 64 .. 512
        VkImageCreateInfo info{VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
        info.imageType = VK_IMAGE_TYPE_2D;
        info.format = VK_FORMAT_R8G8B8A8_UNORM;
        info.extent = {side, side, 1};
        info.mipLevels = static_cast<uint32_t>(std::log2(side)) + 1;
        info.arrayLayers = 1;
        info.samples = VK_SAMPLE_COUNT_1_BIT;
        info.tiling = VK_IMAGE_TILING_OPTIMAL;
        info.usage = VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT;
        info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
        info.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED;
        plan.textures.push_back(info);
    }
    plan.uniformBytes = 256 * (1 + rng() % 8);
    return plan;
}

bool Scenery::RoomToLoad(VkDeviceSize resource, VkDeviceSize staged)
{
    // The tile's check counted its needs before the load; the figures move as it goes (a new
    // block for an image, say), so each step looks again before it creates anything.
    if (!m_Budget || !m_StepChecks)
        return true;
    m_StopShortfall = m_Budget->Shortfall(resource, staged ? StagingBytes(staged) : 0);
    m_LoadStopped = m_StopShortfall != 0;
    return !m_LoadStopped;
}

bool Scenery::LoadTile(std::pair<int, int> tile, const TilePlan& plan)
{
    m_LoadStopped = false;
    const uint64_t tileSeed = TileSeed(m_Seed, tile);
    TileResources res;
    auto nextSeed = [&]
    {
        res.seeds.push_back(Mix(tileSeed, res.seeds.size() + 1));
        return res.seeds.back();
    };
    AllocationCreateInfo deviceLocal;
    deviceLocal.usage = VMA_MEMORY_USAGE_GPU_ONLY;
    if (m_Budget)
    {
        // Under a budget the heap is the device-local one: required, so that a request over the
        // budget fails (and the budget acts) instead of VMA placing it in the host heap.
        deviceLocal.flags = m_Budget->LoadFlags();
        deviceLocal.requiredFlags = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
    }

    // Meshes: vertex and index buffers written through staging. The first failure ends the load
    // (one error line), the rest is not attempted.
    res.vertices = LoadBuffer(m_Meshes->Allocator(), plan.vertexBytes, VK_BUFFER_USAGE_VERTEX_BUFFER_BIT,
                              deviceLocal, nextSeed(), TileName(tile, "vertices"));
    if (!res.vertices)
        return false;
    res.indices = LoadBuffer(m_Meshes->Allocator(), plan.indexBytes, VK_BUFFER_USAGE_INDEX_BUFFER_BIT,
                             deviceLocal, nextSeed(), TileName(tile, "indices"));
    if (!res.indices)
        return false;

    // Textures: one or two mip-mapped images, uploaded.
    for (const VkImageCreateInfo& info : plan.textures)
    {
        AllocationCreateInfo named = deviceLocal;
        named.name = TileName(tile, "texture");
        const VkDeviceSize size = MemoryAllocator::ImageDataSize(info);
        if (!RoomToLoad(size, size))
            return false;
        Ref<GpuImage> image = GpuImage::Create(m_Textures->Allocator(), info, named);
        if (!image)
            return false;
        const std::vector<uint8_t> texels = ResourceBytes(nextSeed(), size);
        if (!RoomToLoad(0, size) || !image->Upload(texels.data(), texels.size()))
            return false;
        m_Counters.bytesUploaded += texels.size();
        res.textures.push_back(image);
        res.fullInfos.push_back(info);
        res.droppedMips.push_back(0);
        res.textureIds.push_back(0);
    }

    // Uniforms: written by the CPU through a persistent mapping where the memory allows it.
    AllocationCreateInfo uniformInfo;
    uniformInfo.usage = VMA_MEMORY_USAGE_AUTO;
    uniformInfo.flags = AllocationFlags::Mapped | AllocationFlags::HostAccessSequentialWrite;
    if (m_Budget)
        uniformInfo.flags = uniformInfo.flags | m_Budget->LoadFlags();
    res.uniforms = LoadBuffer(m_Uniforms->Allocator(), plan.uniformBytes, VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT,
                              uniformInfo, nextSeed(), TileName(tile, "uniforms"));
    if (!res.uniforms)
        return false;
    m_Tiles.emplace(tile, std::move(res));
    ++m_Counters.tilesLoaded;
    if (m_Budget)
        m_Budget->OnTileLoaded(tile);
    return true;
}

void Scenery::Update(uint64_t frame)
{
    // The camera drives on, turning now and then: 0.05 tiles a frame.
    if (frame % 150 == 149)
    {
        const int turn = static_cast<int>(m_Rng() % 3); // left, straight, right
        if (turn != 1)
        {
            const int dx = m_DirX;
            m_DirX = turn == 0 ? -m_DirY : m_DirY;
            m_DirY = turn == 0 ? dx : -dx;
        }
    }
    m_CameraX += 0.05 * m_DirX;
    m_CameraY += 0.05 * m_DirY;
    const int cx = static_cast<int>(std::floor(m_CameraX));
    const int cy = static_cast<int>(std::floor(m_CameraY));
    const bool dense = (FloorDiv(cx, kDistrictTiles) + FloorDiv(cy, kDistrictTiles)) % 2 == 0;
    const int half = (dense ? DenseWindow(m_Window) : SparseWindow(m_Window)) / 2;
    if (m_Budget)
        m_Budget->SetCamera(cx, cy, frame);

    for (auto it = m_Tiles.begin(); it != m_Tiles.end();)
    {
        const auto [tx, ty] = it->first;
        if (std::abs(tx - cx) > half || std::abs(ty - cy) > half)
        {
            if (m_Budget)
                m_Budget->OnTileUnloaded(it->first, it->second);
            it = m_Tiles.erase(it); // the Refs release through the deferred path
            ++m_Counters.tilesUnloaded;
        }
        else
            ++it;
    }
    std::erase_if(
        m_Failed, [&](const auto& entry)
        { return std::abs(entry.first.first - cx) > half || std::abs(entry.first.second - cy) > half; });
    for (int y = cy - half; y <= cy + half; ++y)
        for (int x = cx - half; x <= cx + half; ++x)
        {
            const std::pair<int, int> tile{x, y};
            if (m_Tiles.count(tile) || m_Failed.count(tile) || (m_Budget && !m_Budget->MayLoad(tile, frame)))
                continue;
            const TilePlan plan = PlanTile(tile);
            // A tile that cannot be loaded: one line of figures under a budget, counted, not retried.
            const auto fail = [&]
            {
                if (m_Budget)
                    m_Budget->ReportFailure(tile, frame, plan.ResourceBytes());
                ++m_Counters.loadFailures;
                m_Failed[tile] = true;
            };
            if (m_Budget)
            {
                // Under a budget the load is planned first: what the tile needs, with the largest
                // staging buffer its uploads take (on a single heap it counts too), must fit.
                m_StepChecks = true;
                switch (m_Budget->BeforeLoad(tile, frame, plan.ResourceBytes(),
                                             StagingBytes(plan.LargestStagedUpload())))
                {
                case LoadPlan::Load:
                    break;
                case LoadPlan::Try:
                    m_StepChecks = false;
                    break;
                case LoadPlan::Wait:
                    continue; // waits for the room a round made, or is outer detail held back
                case LoadPlan::Fail:
                    fail();
                    continue;
                }
            }
            if (LoadTile(tile, plan))
                continue;
            if (m_Budget && m_LoadStopped)
            {
                // A step found no room (the figures moved during the load): nothing was refused.
                if (m_Budget->NoRoom(tile, frame, m_StopShortfall, plan.ResourceBytes()) != LoadPlan::Fail)
                    continue;
            }
            else if (m_Budget)
            {
                m_Budget->CountRefused(); // room in total, but not in one piece (fragmentation)
                if (m_Budget->OnLoadFailed(tile, frame))
                    continue;
            }
            fail();
        }
}

Scenery::Check Scenery::VerifyResource(std::pair<int, int> tile, const TileResources& res, size_t index)
{
    // index: 0 vertices, 1 indices, then the textures, then the uniforms (the order of the seeds).
    const size_t textures = res.textures.size();
    std::vector<uint8_t> expected, actual;
    bool read = false;
    if (index < 2 || index == 2 + textures)
    {
        const GpuBuffer& buffer = index == 0 ? *res.vertices : index == 1 ? *res.indices : *res.uniforms;
        expected = ResourceBytes(res.seeds[index], buffer.GetSize());
        actual.resize(expected.size());
        read = ReadBuffer(buffer, actual);
    }
    else
    {
        // A texture that dropped its top mips holds the tail of its full chain's bytes.
        const size_t t = index - 2;
        const std::vector<uint8_t> full =
            ResourceBytes(res.seeds[index], MemoryAllocator::ImageDataSize(res.fullInfos[t]));
        const VkDeviceSize size = MemoryAllocator::ImageDataSize(res.textures[t]->GetCreateInfo());
        expected.assign(full.end() - static_cast<std::ptrdiff_t>(size), full.end());
        if (RoomForReadback(size))
        {
            read = res.textures[t]->Readback(actual);
            if (!read && m_Budget) // room in total, but not in one piece: checked again later
                m_Budget->CountRefused();
        }
    }
    if (!read)
    {
        if (m_Budget)
            return Check::Unreadable; // checked again once the room a round made is back
        std::fprintf(stderr, "mismatch: tile %d,%d resource %zu could not be read back\n", tile.first,
                     tile.second, index);
        return Check::Mismatch;
    }
    if (actual != expected)
    {
        std::fprintf(stderr, "mismatch: tile %d,%d resource %zu\n", tile.first, tile.second, index);
        return Check::Mismatch;
    }
    return Check::Ok;
}

uint64_t Scenery::Verify(uint64_t* resourcesChecked)
{
    uint64_t mismatches = 0;
    uint64_t checked = 0;
    // Under a budget a readback may start a round that unloads tiles or drops mips: the walk goes
    // over the tiles' names, and each tile's resources are held (a copy of its Refs) while it is read.
    std::vector<std::pair<int, int>> tiles;
    for (const auto& entry : m_Tiles)
        tiles.push_back(entry.first);
    for (const std::pair<int, int>& tile : tiles)
    {
        auto it = m_Tiles.find(tile);
        if (it == m_Tiles.end())
            continue; // unloaded by a round meanwhile
        const TileResources res = it->second;
        for (size_t index = 0; index < 3 + res.textures.size(); ++index)
            switch (VerifyResource(tile, res, index))
            {
            case Check::Ok:
                ++checked;
                break;
            case Check::Mismatch:
                ++checked;
                ++mismatches;
                break;
            case Check::Unreadable:
                m_PendingChecks.emplace_back(tile, index);
                break;
            }
    }
    if (resourcesChecked)
        *resourcesChecked = checked;
    return mismatches;
}

uint64_t Scenery::VerifyPending(uint64_t* resourcesChecked, bool last)
{
    uint64_t mismatches = 0;
    uint64_t checked = 0;
    std::vector<std::pair<std::pair<int, int>, size_t>> still;
    for (const auto& [tile, index] : m_PendingChecks)
    {
        auto it = m_Tiles.find(tile);
        if (it == m_Tiles.end())
            continue;                         // unloaded meanwhile: nothing left to check
        const TileResources res = it->second; // held while read (see Verify)
        if (index >= 3 + res.textures.size())
            continue;
        switch (VerifyResource(tile, res, index))
        {
        case Check::Ok:
            ++checked;
            break;
        case Check::Mismatch:
            ++checked;
            ++mismatches;
            break;
        case Check::Unreadable:
            if (last)
            {
                std::fprintf(stderr, "mismatch: tile %d,%d resource %zu could not be read back\n", tile.first,
                             tile.second, index);
                ++checked;
                ++mismatches;
            }
            else
                still.emplace_back(tile, index);
            break;
        }
    }
    m_PendingChecks = std::move(still);
    if (resourcesChecked)
        *resourcesChecked = checked;
    return mismatches;
}

void Scenery::UnloadAll()
{
    m_Counters.tilesUnloaded += m_Tiles.size();
    if (m_Budget)
        for (auto& [tile, res] : m_Tiles)
            m_Budget->OnTileUnloaded(tile, res);
    m_Tiles.clear();
}

bool Scenery::ReadBuffer(const GpuBuffer& buffer, std::vector<uint8_t>& out)
{
    if (!m_Budget)
        return buffer.Readback(out.data(), out.size());
    // Under a budget, in pieces: a small staging buffer finds room where a large one may not.
    constexpr VkDeviceSize kPiece = 64 * 1024;
    for (VkDeviceSize offset = 0; offset < out.size(); offset += kPiece)
    {
        const VkDeviceSize size = std::min<VkDeviceSize>(kPiece, out.size() - offset);
        if (!RoomForReadback(size))
            return false;
        if (!buffer.Readback(out.data() + offset, size, offset))
        {
            m_Budget->CountRefused(); // room in total, but not in one piece: checked again later
            return false;
        }
    }
    return true;
}

bool Scenery::RoomForReadback(VkDeviceSize bytes)
{
    if (!m_Budget)
        return true;
    const VkDeviceSize staging = StagingBytes(bytes);
    if (m_Budget->HasRoom(0, staging))
        return true;
    return MakeRoomForReadback(staging) && m_Budget->HasRoom(0, staging);
}

bool Scenery::MakeRoomForReadback(VkDeviceSize bytes)
{
    // Only what comes back now helps a readback made now.
    const EvictionRound round = m_Budget->MakeRoom(m_Budget->Shortfall(0, bytes));
    return round.cacheBytesReleased + round.bytesReleased != 0 && round.readyFrame == round.frame;
}

void Scenery::EnableBudget(SceneryBudget* budget)
{
    m_Budget = budget;
    if (m_Budget)
        m_Budget->Attach(
            &m_Tiles, m_Seed, [this](std::pair<int, int> tile) { return TileSeed(m_Seed, tile); },
            &m_Counters);
}

} // namespace SceneryEditorX::Tool
