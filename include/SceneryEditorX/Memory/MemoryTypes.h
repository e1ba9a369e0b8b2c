#pragma once
/// @file MemoryTypes.h
/// Value types of the memory system: size classes, buffer-usage flags, settings, create infos,
/// statistics and budgets. Plain data; no thread-safety concerns of their own.

#include <vk_mem_alloc.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace SceneryEditorX
{

/// Size classes of the buffer pools. A buffer whose memory requirement is at most the class size
/// goes into that class's pool on its memory type; larger ones go outside the pools.
constexpr VkDeviceSize SMALL_BUFFER_SIZE = 1024 * 256;       // 256 KiB
constexpr VkDeviceSize MEDIUM_BUFFER_SIZE = 1024 * 1024;     // 1 MiB
constexpr VkDeviceSize LARGE_BUFFER_SIZE = 1024 * 16 * 1024; // 16 MiB

/// Buffer usages that combine with `|`. The values are the Vulkan bits.
enum class BufferUsage : uint32_t
{
    None = 0,
    TransferSrc = VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
    TransferDst = VK_BUFFER_USAGE_TRANSFER_DST_BIT,
    UniformTexel = VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT,
    StorageTexel = VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT,
    Uniform = VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT,
    Storage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
    Index = VK_BUFFER_USAGE_INDEX_BUFFER_BIT,
    Vertex = VK_BUFFER_USAGE_VERTEX_BUFFER_BIT,
    Indirect = VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT,
    ShaderDeviceAddress = VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT,
};
using BufferUsageFlags = BufferUsage;

constexpr BufferUsage operator|(BufferUsage a, BufferUsage b)
{
    return static_cast<BufferUsage>(static_cast<uint32_t>(a) | static_cast<uint32_t>(b));
}
constexpr BufferUsage operator&(BufferUsage a, BufferUsage b)
{
    return static_cast<BufferUsage>(static_cast<uint32_t>(a) & static_cast<uint32_t>(b));
}
constexpr BufferUsage& operator|=(BufferUsage& a, BufferUsage b)
{
    return a = a | b;
}
constexpr VkBufferUsageFlags ToVkBufferUsage(BufferUsage usage)
{
    return static_cast<VkBufferUsageFlags>(usage);
}

/// Per-allocation options beyond the memory usage (the create-info overloads).
enum class AllocationFlags : uint32_t
{
    None = 0,
    /// Persistently mapped (VMA_ALLOCATION_CREATE_MAPPED_BIT). With an AUTO usage it needs a host-access
    /// flag.
    Mapped = 1u << 0,
    /// The CPU writes sequentially (memcpy); makes AUTO* allocations mappable.
    HostAccessSequentialWrite = 1u << 1,
    /// The CPU reads or writes randomly; makes AUTO* allocations mappable.
    HostAccessRandom = 1u << 2,
    /// Fail rather than exceed the heap's budget (VMA_ALLOCATION_CREATE_WITHIN_BUDGET_BIT). Like VMA,
    /// the allocation tries every memory type the request allows before it fails: GPU_ONLY and the
    /// AUTO usages only prefer DEVICE_LOCAL, so on a device with a host heap an over-budget request
    /// can land there. To hold a resource to the device-local heap's budget, also set
    /// AllocationCreateInfo::requiredFlags = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT.
    WithinBudget = 1u << 3,
    /// Own VkDeviceMemory (outside the size-class pools).
    Dedicated = 1u << 4,
    /// When the allocation fails for lack of memory (or budget, with WithinBudget), run one eviction
    /// round on its heap (MemoryAllocator::MakeRoom, up to `evictionRankLimit`) and try once more
    /// when the memory released comes back now. GetLastEvictionRound tells in which frame it does
    /// when it comes back later (deferred destroys).
    MakeRoom = 1u << 5,
};
constexpr AllocationFlags operator|(AllocationFlags a, AllocationFlags b)
{
    return static_cast<AllocationFlags>(static_cast<uint32_t>(a) | static_cast<uint32_t>(b));
}
constexpr bool HasFlag(AllocationFlags set, AllocationFlags bit)
{
    return (static_cast<uint32_t>(set) & static_cast<uint32_t>(bit)) != 0;
}

/// Create info for the overloads of AllocateBuffer/AllocateImage.
struct AllocationCreateInfo
{
    VmaMemoryUsage usage = VMA_MEMORY_USAGE_AUTO;
    AllocationFlags flags = AllocationFlags::None;
    /// Memory priority in [0, 1] (VK_EXT_memory_priority). A value other than 0.5 makes the
    /// allocation dedicated, because VMA applies per-allocation priorities only to dedicated memory.
    float priority = 0.5f;
    /// Optional name; the allocation is named "tag:name" (or "tag" when empty).
    std::string name;
    VkMemoryPropertyFlags requiredFlags = 0;
    VkMemoryPropertyFlags preferredFlags = 0;
    /// With AllocationFlags::MakeRoom: only evictable resources of this rank or lower are asked.
    uint32_t evictionRankLimit = UINT32_MAX;
};

/// Global settings, fixed at `MemoryAllocator::Init`.
struct AllocatorSettings
{
    /// Per-heap size limits in bytes (VMA's pHeapSizeLimit); 0 or missing entries mean no limit.
    std::vector<VkDeviceSize> heapSizeLimits;
    /// Block size of the VMA default pools (0: VMA's default, 256 MiB).
    VkDeviceSize preferredLargeHeapBlockSize = 0;
    /// Block sizes of the size-class pools (small, medium, large). Each must be at least its class size.
    std::array<VkDeviceSize, 3> poolBlockSizes{4 * 1024 * 1024, 16 * 1024 * 1024, 64 * 1024 * 1024};
    /// Frames the GPU may still be working on; deferred destroys wait this many frames.
    uint32_t framesInFlight = 2;
    /// Add TRANSFER_SRC|TRANSFER_DST to created buffers and images, so that they can be uploaded,
    /// read back and moved by defragmentation.
    bool addTransferUsage = true;
    /// Bytes of staging buffers kept for reuse by uploads and readbacks.
    VkDeviceSize stagingCacheBytes = 64ull * 1024 * 1024;
    /// Bytes of freed SpeedOptimized buffers kept, with their memory, for reuse by later requests of
    /// the same usage, flags and size class (0: no reuse). The memory stays committed and counts in
    /// the budget; MemoryAllocator::ReleaseReuseCache frees it, and so does crossing a warning threshold
    /// (while an instance stays above its threshold, nothing is cached). Each thread frees into its
    /// own part of the cache, which reserves the cap in chunks of 1/64: with many threads freeing,
    /// caching can stop up to a quarter of the cap early (docs/ARCHITECTURE.md).
    VkDeviceSize bufferReuseCacheBytes = 64ull * 1024 * 1024;
    /// No effect; kept so that code setting it still compiles. It made SetCurrentFrameIndex
    /// recompute the fragmentation ratio every so many frames, a walk over every allocation (0.6 s
    /// at 100,000 allocations) on a frame. The ratio is now computed only by CalculateStats and
    /// PrintDetailedStats, at the cost of VMA's own walk; GetStats returns the latest one with its
    /// age (AllocationStats::fragmentationAgeFrames). To have it refreshed, call CalculateStats
    /// where a frame can afford it (docs/PERFORMANCE.md: about 1-2 ms at 100,000 on lavapipe).
    /// Not [[deprecated]]: GCC and Clang then warn in every copy of AllocatorSettings (the implicit
    /// copy and move members touch it), which breaks builds with -Werror that never name it.
    uint32_t fragmentationRefreshFrames = 60;
    /// Defragmentation copies every moved resource on the GPU (vkCmdCopyBuffer/vkCmdCopyImage) even
    /// where a memcpy would do (host-visible buffers). Tests on lavapipe, where all memory is
    /// host-visible, use it to exercise the GPU path.
    bool forceGpuDefragmentationCopies = false;

    // Debug switches.
    /// VMA corruption-detection margin in bytes (0: off). Needs a debug margin build of VMA to take effect.
    uint32_t corruptionDetectionMargin = 0;
    /// Name every allocation "tag:name" in VMA (shown in dumps and leak reports).
    bool allocationNames = true;
    /// Report leaked allocations at Shutdown.
    bool reportLeaks = true;
    /// Record the call site (std::source_location) of each allocation for leak reports.
    bool recordCallSites = true;
    /// Tests only: route VMA's vkAllocateMemory/vkCreateBuffer/vkCreateImage/vkBind*Memory through
    /// FaultInjection (see Vulkan/FaultInjection.h). Off: VMA calls the driver directly.
    bool enableFaultInjection = false;
    /// Called on every vkAllocateMemory (allocated = true) and vkFreeMemory that VMA makes, with the
    /// heap, the memory type and the size, on the allocating thread, inside VMA: it must not call
    /// into the allocator. Staging buffers, defragmentation and new mip chains all pass here.
    std::function<void(uint32_t heapIndex, uint32_t memoryTypeIndex, VkDeviceSize size, bool allocated)>
        deviceMemoryCallback;
    /// Present a memory budget of one's own to VMA through the allocator's Vulkan function table:
    /// usage = VMA's VkDeviceMemory bytes on the heap, budget = 80 % of the heap until
    /// MemoryAllocator::SetSimulatedHeapBudget sets it. It replaces the driver's figures where the
    /// device has VK_EXT_memory_budget (whose usage covers the whole process); without the
    /// extension it gives VMA a budget that can fall at run time. For tests and for a budget the
    /// program chooses itself (sedx-mem demo --budget-mb).
    bool simulateMemoryBudget = false;
};

/// The tag of the memory system's own allocations: the staging buffers that uploads and readbacks
/// copy through (VMA names them "sedx:staging"; up to AllocatorSettings::stagingCacheBytes of them
/// are kept between transfers). They are counted from their creation to their destruction, so that
/// GetAllTagStats' tags add up to VMA's live allocations (GetStats' usedBytes) whenever no deferred
/// destroy is waiting for its frame. GetAllTagStats lists the tag once the first staging buffer is
/// made. Not in it: buffers in the SpeedOptimized reuse cache (AllocationStats::reuseCacheBytes),
/// which are outside usedBytes. Reserved: a MemoryAllocator constructed with it is tagged
/// "Untagged" instead, with one error line.
inline constexpr const char* kInternalTag = "sedx";

/// Counters of one tag (all MemoryAllocator instances with that tag together).
struct TagStats
{
    std::string tag;
    uint64_t usedBytes = 0;       ///< bytes of the tag's live allocations (in the registry)
    uint64_t allocationCount = 0; ///< live allocations
    uint64_t bufferCount = 0;
    uint64_t imageCount = 0;
    /// Highest usedBytes seen since Init or ResetStats. Exact when one live thread makes all
    /// allocations and frees; otherwise it can be off by less than 1 MiB per other live thread.
    uint64_t peakUsedBytes = 0;
    uint64_t totalAllocations = 0; ///< allocations made since Init or ResetStats
    uint64_t totalFrees = 0;
};

/// The figures of `GetStats` and `CalculateStats`. Every figure but the fragmentation ratio and
/// reclaimableBytes is exact and current in both (GetStats reads counters, CalculateStats walks
/// VMA's blocks; the two agree exactly when nothing changes between the calls). The ratio is
/// current only in CalculateStats; reclaimableBytes is current in both, exact for the size-class
/// pools and an estimate for VMA's default pools (see there).
struct AllocationStats
{
    uint64_t totalBytes = 0; ///< bytes of VkDeviceMemory committed (blocks + dedicated), all heaps
    /// "Used": bytes of the VMA allocations that exist, all heaps, less the reuse cache's (see
    /// reuseCacheBytes). That is the live allocations of every tag, deferred destroys whose frames
    /// have not retired yet (their memory is still taken), frees held until a defragmentation pass
    /// ends, the system's own staging buffers, and allocations made directly through
    /// MemoryAllocator::GetAllocator(). One definition for every surface: it is what occupies the
    /// blocks, VMA keeps it exactly per heap, and CalculateStats' walk gives the same figure. The
    /// tags' TagStats::usedBytes count their live allocations only (a deferred destroy leaves its
    /// tag at once), so the tags add up to usedBytes when nothing else is allocated.
    uint64_t usedBytes = 0;
    uint64_t allocationCount = 0; ///< the allocations that usedBytes counts
    uint64_t blockCount = 0;
    /// External fragmentation of the pools' free space, in [0, 1]. Per pool (each size-class pool,
    /// and VMA's default pool of each memory type), over its blocks that hold at least one
    /// allocation: free = the block bytes that no allocation takes, largest = the pool's largest
    /// free range; the ratio is sum(free - largest) / sum(free) over all pools, 0 when nothing is
    /// free. Left out: empty blocks (the one VMA keeps per pool, or one a defragmentation emptied:
    /// reserve, not fragmentation) and dedicated allocations (no free space). 0 means each pool's
    /// free space is one range. The same definition as libs/VmaDump's ExternalFragmentation over
    /// VMA's detailed JSON dump. Computed only by a walk (CalculateStats, PrintDetailedStats): in
    /// GetStats it is the latest walk's figure, fragmentationAgeFrames old (0 and frames since Init
    /// before the first walk).
    float fragmentationRatio = 0.0f;
    uint64_t fragmentationAgeFrames = 0; ///< frames since the ratio was computed (0 in CalculateStats)
    /// Highest usedBytes and allocationCount since Init or ResetStats; they never go down otherwise.
    /// They follow every allocation the system makes, including staging buffers and an allocation
    /// made while a deferred destroy waits for its frame; allocations made directly through
    /// GetAllocator() raise them when a GetStats or CalculateStats reads them. Exact when one live
    /// thread makes all allocations and frees; otherwise a peak can be off by less than 1 MiB (64
    /// allocations) per other live thread.
    uint64_t peakUsedBytes = 0;
    uint64_t peakAllocationCount = 0;
    /// Freed SpeedOptimized buffers kept for reuse: their bytes and count. They are not in
    /// usedBytes or allocationCount, but their memory is in totalBytes.
    uint64_t reuseCacheBytes = 0;
    uint64_t reuseCacheCount = 0;
    /// What a full compaction would give back: committed bytes less the blocks the live bytes need.
    /// Per buffer or image size-class pool, floor(free bytes / block size) whole blocks; for VMA's
    /// default pools (resources above LARGE_BUFFER_SIZE, staging buffers), their free bytes in whole
    /// blocks of the smallest size those pools make (an eighth of VMA's preferred block size for the
    /// heap): exact for the empty blocks VMA keeps, an estimate for holes between large resources.
    /// Current in GetStats (one vmaGetPoolStatistics per size-class pool: O(their blocks), no walk
    /// over allocations); DefragmentationPolicy can trigger on it.
    uint64_t reclaimableBytes = 0;
    TagStats tag; ///< the calling instance's tag
};

/// What MemoryAllocator::ReleaseEmptyBlocks gave back.
struct ReleasedMemory
{
    uint32_t blocks = 0; ///< VkDeviceMemory blocks freed
    uint64_t bytes = 0;  ///< their bytes
};

/// Budget of one heap.
struct HeapBudget
{
    uint32_t heapIndex = 0;
    VkMemoryHeapFlags flags = 0;
    uint64_t heapSizeBytes = 0;   ///< size as the allocator sees it (after a heap size limit)
    uint64_t budgetBytes = 0;     ///< VK_EXT_memory_budget's budget, or VMA's estimate (80 % of the heap)
    uint64_t usageBytes = 0;      ///< usage by this process (extension) or committed blocks (estimate)
    uint64_t blockBytes = 0;      ///< VkDeviceMemory committed by VMA
    uint64_t allocationBytes = 0; ///< bytes in live allocations
};

/// Budget of device-local memory (all device-local heaps together).
struct MemoryBudget
{
    uint64_t totalBytes = 0; ///< the budget
    uint64_t usedBytes = 0;  ///< the usage
    uint64_t heapSizeBytes = 0;
    float usagePercentage = 0.0f;         ///< usedBytes / totalBytes (a fraction: 0.85 means 85 %)
    bool isOverBudget = false;            ///< usedBytes > totalBytes
    bool isAboveWarningThreshold = false; ///< usagePercentage > the instance's warning threshold
    bool fromBudgetExtension = false;     ///< true when VK_EXT_memory_budget supplied the figures
};

/// Called when the usage crosses an instance's warning threshold, either way.
using BudgetCallback = std::function<void(const MemoryBudget& budget, bool isAboveThreshold)>;

/// Why the memory system asks holders to give memory back.
enum class PressureReason : uint8_t
{
    AllocationFailed, ///< an allocation with AllocationFlags::MakeRoom did not fit
    Threshold,        ///< an instance's usage crossed its warning threshold
    BudgetFell,       ///< the heap's budget fell below its usage (SetCurrentFrameIndex saw it)
    Explicit,         ///< MemoryAllocator::MakeRoom
};

/// What the system asks of one evictable resource's owner.
struct EvictionRequest
{
    uint64_t id = 0; ///< RegisterEvictable's id
    VmaAllocation allocation = nullptr;
    uint32_t heapIndex = 0;
    VkDeviceSize bytesWanted = 0; ///< bytes of the heap still wanted in this round
    uint64_t frame = 0;           ///< the current frame
    PressureReason reason = PressureReason::Explicit;
};

/// The owner's answer. `bytes` 0 refuses: the registration stays. Any other value says the owner
/// released (or shrank) its resource: the registration ends, and the owner registers what it keeps
/// (a smaller mip chain, say) again. `deferred`: released with a deferred destroy, so that the memory
/// comes back only when the frame retires (frame + framesInFlight).
struct EvictionResponse
{
    VkDeviceSize bytes = 0;
    bool deferred = false;
};
using EvictionCallback = std::function<EvictionResponse(const EvictionRequest& request)>;

/// One eviction round (MemoryAllocator::MakeRoom, GetLastEvictionRound).
struct EvictionRound
{
    uint64_t frame = 0; ///< the frame the round ran in
    uint32_t heapIndex = 0;
    PressureReason reason = PressureReason::Explicit;
    VkDeviceSize bytesWanted = 0;
    /// By the library itself, first: its caches (staging, reuse) and the empty blocks VMA keeps.
    /// A round empties them on every heap, but counts only what that gave back on its own heap (the
    /// larger fall of the heap's allocation and block bytes): staging buffers in a host heap make
    /// no room on the device-local one.
    VkDeviceSize cacheBytesReleased = 0;
    VkDeviceSize bytesReleased = 0; ///< by owners (cache bytes not included)
    uint32_t ownersAsked = 0;
    uint32_t ownersReleased = 0;
    uint32_t ownersRefused = 0;
    /// The frame from which the released memory is back: `frame` when every owner released now,
    /// frame + framesInFlight when any released with a deferred destroy. A request that needs the
    /// room succeeds in that frame (once SetCurrentFrameIndex reached it).
    uint64_t readyFrame = 0;
    bool satisfied = false; ///< cacheBytesReleased + bytesReleased >= bytesWanted
};

/// Limits of one defragmentation session (see MemoryAllocator::BeginDefragmentation).
struct DefragmentationOptions
{
    /// VMA's algorithm bit (VMA_DEFRAGMENTATION_FLAG_ALGORITHM_*); at most one.
    VmaDefragmentationFlags flags = VMA_DEFRAGMENTATION_FLAG_ALGORITHM_BALANCED_BIT;
    /// Bytes and allocations moved per pass at most (0: no limit), per pool: one DefragmentStep()
    /// is one pass over every pool at once (one submission), and each pool's part of it keeps to
    /// these limits, so a step moves at most (pools x limit).
    VkDeviceSize maxBytesPerPass = 0;
    uint32_t maxAllocationsPerPass = 0;
    /// Time bound of one DefragmentStep() (0: unbounded; negative is refused by BeginDefragmentation).
    /// Applied when the step is planned, through VMA's break callback: planning stops once the time
    /// spent plus the copies already planned (at the copy rate measured in this session's earlier
    /// steps) reach the bound; a planned pass is never stopped half-way, since that pins its blocks.
    /// A step always plans at least one move, so that a session ends.
    std::chrono::microseconds maxPassDuration{0};
    /// The clock of the time bound (null: std::chrono::steady_clock::now). Tests inject one.
    std::function<std::chrono::steady_clock::time_point()> clock;
    /// Called by a step once its GPU copies are submitted, before it waits for them; no lock of the
    /// registry is held then, so other threads allocate and free meanwhile (null: none). Tests order
    /// other threads' calls against a pass by it.
    std::function<void()> onCopiesInFlight;
    /// EndDefragmentation then frees the empty blocks VMA keeps (ReleaseEmptyBlocks), so that the
    /// blocks a run emptied are given back. Off: the one empty block per pool that VMA keeps stays.
    bool releaseEmptyBlocks = true;
};

/// What one defragmentation session did.
struct DefragmentationStats
{
    uint64_t bytesMoved = 0; ///< bytes copied to new places
    uint64_t bytesFreed = 0; ///< bytes of VkDeviceMemory released
    uint32_t allocationsMoved = 0;
    uint32_t buffersMoved = 0;
    uint32_t imagesMoved = 0;
    uint32_t blocksFreed = 0; ///< VkDeviceMemory blocks released (by VMA's passes and the final release)
    /// The part of blocksFreed/bytesFreed freed by the release of empty blocks at the end of the
    /// run (DefragmentationOptions::releaseEmptyBlocks).
    uint32_t emptyBlocksReleased = 0;
    uint64_t emptyBytesReleased = 0;
    uint32_t allocationsRefused =
        0; ///< marked, proposed by VMA, but not movable (no transfer usage, pNext, unknown layout)
    uint32_t movesFailed =
        0; ///< moves abandoned because a Vulkan call failed (the resource stayed where it was)
    uint32_t passes = 0;
    std::chrono::nanoseconds duration{0}; ///< wall time of the passes (DefragmentStep/EndDefragmentation)
    /// Parts of `duration`: the copies (recording, submitting and waiting for the GPU copies, and the
    /// memcpy moves), and the calls into VMA (beginning and ending its contexts and passes, which
    /// includes freeing emptied blocks). The rest is ours: recreating and binding resources,
    /// retiring old handles, relocation notices.
    std::chrono::nanoseconds copyDuration{0};
    std::chrono::nanoseconds vmaDuration{0};
    /// Also part of `duration`, apart from vmaDuration: vkFreeMemory of the blocks VMA emptied
    /// (deferred out of VMA's calls and done after the pass's locks are released), and the release
    /// of empty blocks at the end of the run (DefragmentationOptions::releaseEmptyBlocks).
    std::chrono::nanoseconds releaseDuration{0};
};

/// Sent after a defragmentation pass moved a resource. The VmaAllocation stays the same; the Vulkan
/// handle changed. Holders rewrite descriptors and re-record command buffers that used
/// `oldBuffer`/`oldImage`.
struct RelocationNotice
{
    VmaAllocation allocation = nullptr;
    std::string tag;
    VkBuffer oldBuffer = VK_NULL_HANDLE;
    VkBuffer newBuffer = VK_NULL_HANDLE;
    VkImage oldImage = VK_NULL_HANDLE;
    VkImage newImage = VK_NULL_HANDLE;
    VkDeviceAddress newDeviceAddress = 0; ///< buffers created with SHADER_DEVICE_ADDRESS usage
    void* newMappedData = nullptr;        ///< the new pointer when the allocation is mapped
};
using RelocationCallback = std::function<void(const RelocationNotice& notice)>;

/// One buffer of a batch (compat names).
struct BatchBufferAllocation
{
    VkBuffer buffer = VK_NULL_HANDLE;
    VmaAllocation allocation = nullptr;
    VkDeviceSize size = 0; ///< the requested size
};

} // namespace SceneryEditorX
