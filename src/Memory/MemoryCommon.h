#pragma once
// Vocabulary that every part of the memory system shares: the log tag, the kinds of resource, and
// how an allocation is named.

#include <SceneryEditorX/Memory/MemoryAllocator.h>

#include <cstdint>
#include <string>

namespace SceneryEditorX::detail
{

constexpr const char* kAllocTag = "VulkanAllocator";
/// VMA's name for a staging buffer: kInternalTag, then what it is.
constexpr const char* kInternalStagingName = "sedx:staging";

enum class ResourceKind : uint8_t
{
    Buffer,
    Image
};
const char* KindName(ResourceKind kind);

/// "tag:name" (or "tag"), as VMA, the logs and debug-utils object names get it; control characters
/// become '?' (VMA's JSON writer asserts on them).
std::string AllocationName(const std::string& tag, const std::string& name);

/// The VkDeviceMemory blocks VMA allocates and frees on this thread while a ScopedBlockTally is in
/// scope (VMA's device-memory callbacks). A defragmentation session counts what its own VMA calls
/// give back this way: exact whatever the block sizes, and blind to other threads' frees.
struct BlockTally
{
    uint64_t blocksAllocated = 0;
    uint64_t bytesAllocated = 0;
    uint64_t blocksFreed = 0;
    uint64_t bytesFreed = 0;
    /// Blocks and bytes given back net of blocks made meanwhile (0 when more was made).
    uint64_t NetBlocksFreed() const
    {
        return blocksFreed > blocksAllocated ? blocksFreed - blocksAllocated : 0;
    }
    uint64_t NetBytesFreed() const { return bytesFreed > bytesAllocated ? bytesFreed - bytesAllocated : 0; }
};
class ScopedBlockTally
{
public:
    explicit ScopedBlockTally(BlockTally& tally);
    ~ScopedBlockTally();
    ScopedBlockTally(const ScopedBlockTally&) = delete;
    ScopedBlockTally& operator=(const ScopedBlockTally&) = delete;

private:
    BlockTally* m_Previous;
};

} // namespace SceneryEditorX::detail
