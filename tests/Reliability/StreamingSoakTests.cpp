// Scene-streaming soak (issue 7): a camera circles over a tiled terrain; tiles that come within
// range are loaded (vertex and index buffers, a mipmapped texture, all uploaded), tiles that leave
// are destroyed deferred, one frame at a time, with the DefragmentationManager running its policy.
// The lap repeats exactly, so after warm-up the committed memory (GetStats().totalBytes, VkDeviceMemory
// of all blocks) must stay flat: the peak of every later lap stays within a tolerance of the peak of
// the first lap after warm-up. Resident tiles are read back and compared along the way.
//
//   SEDX_SOAK_SECONDS=<n>  how long to stream (default 8 in CI; `make soak` runs 600)
#include "ShadowModel.h"

#include <SceneryEditorX/Memory/DefragmentationManager.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <numbers>

namespace SceneryEditorX::Reliability
{
namespace
{
namespace SxTest = ::SceneryEditorX::Test;

constexpr uint32_t kFramesPerLap = 240;
constexpr double kOrbitRadius = 6.0;    // tiles
constexpr double kResidentRadius = 2.5; // tiles around the camera
constexpr uint32_t kWarmUpLaps = 2;

struct Tile
{
    VkBuffer vertices = VK_NULL_HANDLE;
    VkBuffer indices = VK_NULL_HANDLE;
    VkImage texture = VK_NULL_HANDLE;
    VmaAllocation vertexAllocation = nullptr;
    VmaAllocation indexAllocation = nullptr;
    VmaAllocation textureAllocation = nullptr;
    VkDeviceSize vertexBytes = 0;
    VkDeviceSize indexBytes = 0;
    VkImageCreateInfo textureInfo{};
    uint64_t seed = 0;
};

class Streamer
{
public:
    Streamer()
        : m_Terrain(CreateRef<MemoryAllocator>("Soak.terrain")),
          m_Textures(CreateRef<MemoryAllocator>("Soak.textures"))
    {
    }

    ::testing::AssertionResult Frame(uint64_t frame)
    {
        const double angle =
            2.0 * std::numbers::pi * static_cast<double>(frame % kFramesPerLap) / kFramesPerLap;
        const double cx = kOrbitRadius * std::cos(angle);
        const double cy = kOrbitRadius * std::sin(angle);
        // Unload what left the range, load what entered it.
        for (auto it = m_Tiles.begin(); it != m_Tiles.end();)
        {
            const auto [i, j] = it->first;
            if (std::hypot(i + 0.5 - cx, j + 0.5 - cy) > kResidentRadius)
            {
                if (auto r = Unload(it->second); !r)
                    return r;
                it = m_Tiles.erase(it);
                ++m_Unloaded;
            }
            else
            {
                ++it;
            }
        }
        const int lo = static_cast<int>(std::floor(-kOrbitRadius - kResidentRadius)) - 1;
        const int hi = static_cast<int>(std::ceil(kOrbitRadius + kResidentRadius)) + 1;
        for (int i = lo; i <= hi; ++i)
            for (int j = lo; j <= hi; ++j)
                if (std::hypot(i + 0.5 - cx, j + 0.5 - cy) <= kResidentRadius && !m_Tiles.count({i, j}))
                {
                    Tile tile;
                    if (auto r = Load(i, j, tile); !r)
                        return r;
                    m_Tiles.emplace(std::make_pair(i, j), tile);
                    ++m_Loaded;
                }
        if (!MemoryAllocator::SetCurrentFrameIndex(frame))
            return ::testing::AssertionFailure() << "SetCurrentFrameIndex(" << frame << ") failed";
        if (auto stats = m_Manager->Update())
            m_DefragRuns += 1, m_DefragMoved += stats->allocationsMoved;
        // One resident tile read back every 32 frames.
        if (frame % 32 == 0 && !m_Tiles.empty())
        {
            auto it = m_Tiles.begin();
            std::advance(it, static_cast<std::ptrdiff_t>(frame / 32 % m_Tiles.size()));
            if (auto r = Verify(it->second); !r)
                return r;
        }
        return ::testing::AssertionSuccess();
    }

    ::testing::AssertionResult UnloadAll()
    {
        for (auto& [key, tile] : m_Tiles)
            if (auto r = Unload(tile); !r)
                return r;
        m_Tiles.clear();
        return ::testing::AssertionSuccess();
    }

    void Start()
    {
        DefragmentationPolicy policy;
        policy.fragmentationThreshold = 0.01f; // defragment about once per interval: the soak exercises it
        policy.minInterval = std::chrono::seconds(1);
        policy.options.maxAllocationsPerPass = 32;
        m_Manager = CreateRef<DefragmentationManager>(m_Terrain, policy);
    }
    void Stop() { m_Manager.Reset(); }

    uint64_t loaded() const { return m_Loaded; }
    uint64_t unloaded() const { return m_Unloaded; }
    uint64_t verified() const { return m_Verified; }
    uint64_t defragRuns() const { return m_DefragRuns; }
    uint64_t defragMoved() const { return m_DefragMoved; }
    size_t resident() const { return m_Tiles.size(); }

private:
    Ref<MemoryAllocator> m_Terrain;
    Ref<MemoryAllocator> m_Textures;
    Ref<DefragmentationManager> m_Manager;
    std::map<std::pair<int, int>, Tile> m_Tiles;
    std::vector<uint8_t> m_Data;
    uint64_t m_Loaded = 0, m_Unloaded = 0, m_Verified = 0, m_DefragRuns = 0, m_DefragMoved = 0;

    static uint64_t Hash(int i, int j)
    {
        return Mix64(static_cast<uint64_t>(static_cast<uint32_t>(i)) << 32 | static_cast<uint32_t>(j));
    }

    ::testing::AssertionResult Load(int i, int j, Tile& tile)
    {
        Rng rng(Hash(i, j)); // every tile is the same on every lap
        tile.seed = rng.Next();
        tile.vertexBytes = rng.LogRange(8 * KiB, 768 * KiB);
        tile.indexBytes = rng.LogRange(2 * KiB, 96 * KiB);
        const uint32_t size = 16u << rng.Range(0, 4); // 16..256 px, full mip chain
        tile.textureInfo = ImageInfo(size, size, static_cast<uint32_t>(std::bit_width(size)));
        tile.vertexAllocation =
            m_Terrain->AllocateBuffer(BufferInfo(tile.vertexBytes, VK_BUFFER_USAGE_VERTEX_BUFFER_BIT),
                                      VMA_MEMORY_USAGE_GPU_ONLY, tile.vertices);
        tile.indexAllocation =
            m_Terrain->AllocateBuffer(BufferInfo(tile.indexBytes, VK_BUFFER_USAGE_INDEX_BUFFER_BIT),
                                      VMA_MEMORY_USAGE_GPU_ONLY, tile.indices);
        tile.textureAllocation =
            m_Textures->AllocateImage(tile.textureInfo, VMA_MEMORY_USAGE_GPU_ONLY, tile.texture);
        if (!tile.vertexAllocation || !tile.indexAllocation || !tile.textureAllocation)
            return ::testing::AssertionFailure() << "loading tile " << i << "," << j << " failed";
        if (!Upload(m_Terrain, tile.vertexAllocation, tile.vertexBytes, tile.seed) ||
            !Upload(m_Terrain, tile.indexAllocation, tile.indexBytes, tile.seed + 1))
            return ::testing::AssertionFailure() << "uploading tile " << i << "," << j << " failed";
        m_Data.resize(MemoryAllocator::ImageDataSize(tile.textureInfo));
        FillPattern(m_Data.data(), 0, m_Data.size(), tile.seed + 2);
        if (!m_Textures->UploadToImage(tile.textureAllocation, m_Data.data(), m_Data.size()))
            return ::testing::AssertionFailure()
                   << "uploading the texture of tile " << i << "," << j << " failed";
        return ::testing::AssertionSuccess();
    }

    bool Upload(const Ref<MemoryAllocator>& allocator, VmaAllocation allocation, VkDeviceSize size,
                uint64_t seed)
    {
        m_Data.resize(size);
        FillPattern(m_Data.data(), 0, size, seed);
        return allocator->UploadToBuffer(allocation, m_Data.data(), size);
    }

    ::testing::AssertionResult Unload(Tile& tile)
    {
        // The handles may have moved: ask for the current ones.
        const bool ok = m_Terrain->DestroyBufferDeferred(MemoryAllocator::GetBuffer(tile.vertexAllocation),
                                                         tile.vertexAllocation) &&
                        m_Terrain->DestroyBufferDeferred(MemoryAllocator::GetBuffer(tile.indexAllocation),
                                                         tile.indexAllocation) &&
                        m_Textures->DestroyImageDeferred(MemoryAllocator::GetImage(tile.textureAllocation),
                                                         tile.textureAllocation);
        return ok ? ::testing::AssertionSuccess()
                  : ::testing::AssertionFailure() << "unloading a tile failed";
    }

    ::testing::AssertionResult Verify(const Tile& tile)
    {
        ++m_Verified;
        std::vector<uint8_t> back;
        const struct
        {
            VmaAllocation allocation;
            VkDeviceSize size;
            uint64_t seed;
        } buffers[] = {{tile.vertexAllocation, tile.vertexBytes, tile.seed},
                       {tile.indexAllocation, tile.indexBytes, tile.seed + 1}};
        for (const auto& b : buffers)
        {
            back.resize(b.size);
            m_Data.resize(b.size);
            FillPattern(m_Data.data(), 0, b.size, b.seed);
            if (!m_Terrain->ReadbackBuffer(b.allocation, back.data(), b.size) || back != m_Data)
                return ::testing::AssertionFailure() << "a streamed buffer lost its contents";
        }
        m_Data.resize(MemoryAllocator::ImageDataSize(tile.textureInfo));
        FillPattern(m_Data.data(), 0, m_Data.size(), tile.seed + 2);
        if (!m_Textures->ReadbackImage(tile.textureAllocation, back) || back != m_Data)
            return ::testing::AssertionFailure() << "a streamed texture lost its contents";
        return ::testing::AssertionSuccess();
    }
};

TEST(StreamingSoak, CommittedBytesStayFlatAfterWarmUp)
{
    ASSERT_TRUE(SxTest::Device());
    const uint64_t seconds = EnvU64("SEDX_SOAK_SECONDS", 8);
    SxTest::ScopedLogLevel level(LogLevel::Warn);
    ASSERT_TRUE(MemoryAllocator::Init(SxTest::Device(), VK_API_VERSION_1_3));
    std::vector<uint64_t> lapPeak; // committed bytes, peak per lap
    std::vector<uint64_t> lapMean;
    uint64_t frame = 0;
    uint64_t peakUsed = 0;
    {
        Streamer streamer;
        streamer.Start();
        MemoryAllocator probe("Soak.probe");
        const auto start = std::chrono::steady_clock::now();
        const auto deadline = start + std::chrono::seconds(seconds);
        uint64_t lapMax = 0, lapSum = 0;
        bool ok = true;
        // Whole laps only, at least warm-up + 2 laps.
        while (ok && (std::chrono::steady_clock::now() < deadline || lapPeak.size() < kWarmUpLaps + 2 ||
                      frame % kFramesPerLap != 0))
        {
            ++frame;
            const ::testing::AssertionResult r = streamer.Frame(frame);
            EXPECT_TRUE(r) << "frame " << frame;
            ok = static_cast<bool>(r);
            const AllocationStats stats = probe.GetStats();
            lapMax = std::max(lapMax, stats.totalBytes);
            lapSum += stats.totalBytes;
            peakUsed = std::max(peakUsed, stats.usedBytes);
            if (frame % kFramesPerLap == 0)
            {
                lapPeak.push_back(lapMax);
                lapMean.push_back(lapSum / kFramesPerLap);
                lapMax = lapSum = 0;
            }
        }
        EXPECT_TRUE(streamer.UnloadAll());
        streamer.Stop();
        MemoryAllocator::SetCurrentFrameIndex(frame + MemoryAllocator::GetSettings().framesInFlight + 1);
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        ASSERT_GE(lapPeak.size(), kWarmUpLaps + 2u);
        const uint64_t reference = lapPeak[kWarmUpLaps];
        const uint64_t last = lapPeak.back();
        const uint64_t worst = *std::max_element(lapPeak.begin() + kWarmUpLaps, lapPeak.end());
        const int64_t drift = static_cast<int64_t>(last) - static_cast<int64_t>(reference);
        const int64_t meanDrift =
            static_cast<int64_t>(lapMean.back()) - static_cast<int64_t>(lapMean[kWarmUpLaps]);
        std::fprintf(
            stderr,
            "streaming soak: %.0f s, %llu frames (%zu laps), %llu tiles loaded, %llu unloaded, %llu "
            "verified, %llu defragmentation runs (%llu moves); committed bytes: first lap after warm-up "
            "peak %llu, last lap peak %llu, worst lap peak %llu, drift of the lap peak %lld bytes, drift of "
            "the lap mean %lld bytes; peak used %llu\n",
            elapsed, static_cast<unsigned long long>(frame), lapPeak.size(),
            static_cast<unsigned long long>(streamer.loaded()),
            static_cast<unsigned long long>(streamer.unloaded()),
            static_cast<unsigned long long>(streamer.verified()),
            static_cast<unsigned long long>(streamer.defragRuns()),
            static_cast<unsigned long long>(streamer.defragMoved()),
            static_cast<unsigned long long>(reference), static_cast<unsigned long long>(last),
            static_cast<unsigned long long>(worst), static_cast<long long>(drift),
            static_cast<long long>(meanDrift), static_cast<unsigned long long>(peakUsed));
        RecordProperty("frames", std::to_string(frame));
        RecordProperty("committed_drift_bytes", std::to_string(drift));
        // Flat: no lap after warm-up commits more than the first one plus one block of the medium
        // size class (16 MiB) or 10 %, whichever is larger.
        const uint64_t tolerance = std::max<uint64_t>(16 * MiB, reference / 10);
        EXPECT_LE(worst, reference + tolerance) << "committed memory grows lap after lap";
        EXPECT_EQ(probe.GetStats().tag.allocationCount, 0u);
    }
    LogCapture capture;
    EXPECT_TRUE(MemoryAllocator::Shutdown());
    EXPECT_EQ(capture.Count(LogLevel::Error), 0u) << "Shutdown reported leaks:" << Describe(capture);
}

} // namespace
} // namespace SceneryEditorX::Reliability
