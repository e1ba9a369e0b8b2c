#pragma once
// Shared pieces of the defragmentation tests: the fixture that initializes the allocator for one
// copy path, seeded byte patterns for buffers and images, a recorder of relocation notices and a
// per-pool view of VMA's detailed dump.
#include "Support/TestEnvironment.h"
#include "Testing/Builders.h"

#include <SceneryEditorX/Core/Log.h>
#include <SceneryEditorX/Memory/MemoryAllocator.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace SceneryEditorX::DefragTest
{

/// How defragmentation copies host-visible buffers: always on the GPU, or by memcpy where it may.
enum class CopyPath
{
    GpuCopy,
    MemcpyAllowed,
};
std::string CopyPathName(const ::testing::TestParamInfo<CopyPath>& info);
/// Both copy paths: each acceptance test runs once with each (`::testing::ValuesIn(kCopyPaths)`).
constexpr CopyPath kCopyPaths[] = {CopyPath::GpuCopy, CopyPath::MemcpyAllowed};

/// Initializes the allocator for the parameter's copy path in SetUp and shuts it down in TearDown,
/// failing the test if the shutdown reports a leak. Tests that shut down themselves may do so.
class AllocatorTest : public Test::DeviceTest, public ::testing::WithParamInterface<CopyPath>
{
protected:
    void SetUp() override;
    void TearDown() override;
    /// Settings of this test before Init. Default: the parameter's copy path, and no staging cache,
    /// so that no staging buffer sits in the default pools (where the images are) when they are
    /// packed or measured.
    virtual void ConfigureSettings(AllocatorSettings& settings);

    bool IsGpuCopyForced() const { return GetParam() == CopyPath::GpuCopy; }
    MemoryAllocator& Allocator() { return *m_Allocator; }

    Ref<MemoryAllocator> m_Allocator;
};

// ---------------------------------------------------------------- patterns
/// `size` bytes that depend on `seed` and on the byte's index.
std::vector<uint8_t> MakePattern(uint32_t seed, size_t size);

/// The defragmentation tests' buffers: storage buffers, unless a test says otherwise.
constexpr VkBufferUsageFlags kStorageUsage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
using Test::BufferInfo;
using Test::CreateForeignBuffer;
using Test::FullMipCount;
/// An optimal-tiling RGBA8 2D image, sampled, with the full mip chain.
VkImageCreateInfo MippedImageInfo(uint32_t width, uint32_t height);

/// A buffer of the test with what it should hold.
struct TrackedBuffer
{
    VmaAllocation allocation = nullptr;
    VkBuffer originalBuffer = VK_NULL_HANDLE;
    VkDeviceSize size = 0;
    uint32_t seed = 0;
};

/// An image of the test with what every mip level should hold.
struct TrackedImage
{
    VmaAllocation allocation = nullptr;
    VkImage originalImage = VK_NULL_HANDLE;
    VkImageCreateInfo info{};
    uint32_t seed = 0;
};

/// Allocates a buffer (GPU_ONLY) and uploads its pattern. Adds a test failure and returns false on error.
bool CreateFilledBuffer(MemoryAllocator& allocator, VkDeviceSize size, uint32_t seed, TrackedBuffer& out,
                        VkBufferUsageFlags usage = kStorageUsage);
/// Allocates an image (GPU_ONLY) and uploads its pattern into every mip level.
bool CreateFilledImage(MemoryAllocator& allocator, uint32_t width, uint32_t height, uint32_t seed,
                       TrackedImage& out);
/// Reads the buffer back through its allocation and compares it with its pattern.
::testing::AssertionResult HoldsPattern(MemoryAllocator& allocator, const TrackedBuffer& buffer);
/// Reads every mip level back and compares it with the pattern; names the first mip that differs.
::testing::AssertionResult HoldsPattern(MemoryAllocator& allocator, const TrackedImage& image);
/// Destroys through the current handle (which may differ from the original after a move).
void Destroy(MemoryAllocator& allocator, const TrackedBuffer& buffer);
void Destroy(MemoryAllocator& allocator, const TrackedImage& image);
/// Expects each buffer and each image to hold its pattern.
void ExpectHoldPatterns(MemoryAllocator& allocator, const std::vector<TrackedBuffer>& buffers,
                        const std::vector<TrackedImage>& images = {});
/// Marks each buffer and each image for defragmentation, expecting each mark to be accepted.
void ExpectMarked(MemoryAllocator& allocator, const std::vector<TrackedBuffer>& buffers,
                  const std::vector<TrackedImage>& images = {});
/// Destroys each buffer and each image (Destroy, which expects success).
void DestroyAll(MemoryAllocator& allocator, const std::vector<TrackedBuffer>& buffers,
                const std::vector<TrackedImage>& images = {});

/// The place of an allocation in memory.
struct Placement
{
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkDeviceSize offset = 0;
    bool operator==(const Placement&) const = default;
};
Placement PlacementOf(VmaAllocation allocation);

// ---------------------------------------------------------------- relocation notices
/// Registers a relocation callback for its lifetime and keeps every notice (thread safe).
class RelocationRecorder
{
public:
    RelocationRecorder();
    ~RelocationRecorder();
    RelocationRecorder(const RelocationRecorder&) = delete;
    RelocationRecorder& operator=(const RelocationRecorder&) = delete;

    std::vector<RelocationNotice> Notices() const;
    size_t Count() const;
    /// The notices of each moved allocation, in the order they came.
    std::map<VmaAllocation, std::vector<RelocationNotice>> ByAllocation() const;
    void Clear();

private:
    mutable std::mutex m_Mutex;
    std::vector<RelocationNotice> m_Notices;
    uint64_t m_Id = 0;
};

// ---------------------------------------------------------------- pools
/// One pool of VMA's detailed dump, as the tests measure it.
struct PoolReport
{
    std::string name;
    uint32_t memoryType = 0;
    bool custom = false;
    size_t blockCount = 0;
    size_t emptyBlocks = 0;
    uint64_t liveBytes = 0; ///< bytes of the allocations in the pool
    uint64_t blockSize = 0; ///< custom pools: their block size; default pools: their largest block
    uint64_t freeBytes = 0; ///< free bytes in non-empty blocks
    uint64_t largestFreeRange = 0;
    float fragmentation = 0; ///< PoolFragmentation: 1 - largest free range / free bytes (non-empty blocks)
};
/// Every pool that holds at least one block.
std::vector<PoolReport> PoolReports();
void PrintPools(const std::string& title, const std::vector<PoolReport>& pools);
/// The pool whose name ends with `name` ("sedx:small", "default"), or null.
const PoolReport* FindPool(const std::vector<PoolReport>& pools, const std::string& name);

/// Allocates `count` buffers of `size` bytes (in one size-class pool) and frees every other one,
/// which leaves holes of `size` bytes between the survivors. Returns the survivors.
std::vector<TrackedBuffer> MakeFragmentedBuffers(MemoryAllocator& allocator, size_t count, VkDeviceSize size,
                                                 uint32_t firstSeed, bool fill);

/// Number of "VulkanAllocator" errors in a capture.
size_t AllocatorErrors(const LogCapture& capture);

} // namespace SceneryEditorX::DefragTest
