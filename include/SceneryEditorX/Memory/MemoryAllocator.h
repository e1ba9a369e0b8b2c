#pragma once
/// @file MemoryAllocator.h
/// `MemoryAllocator`: the tagged front of the one global VMA allocator.
///
/// Ownership: the global allocator (`Init`/`Shutdown`) is owned by the application. Each tagged
/// instance owns nothing but its settings; resources belong to the caller until destroyed.
/// Destroying an instance never shuts the global allocator down.
///
/// Thread safety: every call below may be made from any number of threads at once, after `Init` and
/// before `Shutdown`, unless its comment says otherwise. Calls that race with `Init` or `Shutdown`
/// are misuse (undefined): shut down only after every other thread has stopped using the system.
///
/// Errors: nothing throws. A failing call returns null/false/VK_NULL_HANDLE/0, changes nothing, and
/// writes one error line tagged "VulkanAllocator" that names the tag, what was asked and why it
/// failed. Every call made before `Init` or after `Shutdown` fails that way ("called before Init or
/// after Shutdown").
///
/// Handles: a `VmaAllocation` returned here is owned by the caller until it is passed to one of the
/// destroy calls (or to FreeBufferBatch); the buffer or image bound to it is destroyed with it. A
/// handle may be null wherever a call takes one: the call fails cleanly. `Shutdown` releases (and
/// reports) whatever is still live.
///
/// Static or member: a call is a member when it acts for the instance (creates or destroys under its
/// tag, reads or writes its settings, logs under its tag); a call that reads or changes the one global
/// system and needs no instance is static.

#include <SceneryEditorX/Core/Ref.h>
#include <SceneryEditorX/Memory/MemoryTypes.h>
#include <SceneryEditorX/Vulkan/VulkanDevice.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <source_location>
#include <span>
#include <string>
#include <vector>

namespace SceneryEditorX
{

namespace detail
{
struct AllocatorInstance;
}

class MemoryAllocator : public RefCounted
{
public:
    enum class AllocationStrategy
    {
        Default,         ///< VMA decides
        SpeedOptimized,  ///< VMA_ALLOCATION_CREATE_STRATEGY_MIN_TIME_BIT
        MemoryOptimized, ///< VMA_ALLOCATION_CREATE_STRATEGY_MIN_MEMORY_BIT
    };

    /// A tagged instance. The tag names allocations ("tag:..."), prefixes log lines and keys the
    /// per-tag counters; instances with the same tag share counters. May be created before `Init`.
    /// An empty tag becomes "Untagged"; so does kInternalTag ("sedx", the library's own
    /// allocations), with one error line.
    explicit MemoryAllocator(std::string tag);
    ~MemoryAllocator() override;
    MemoryAllocator(const MemoryAllocator&) = delete;
    MemoryAllocator& operator=(const MemoryAllocator&) = delete;

    // ------------------------------------------------------------------ lifecycle (global)
    /// Creates the global allocator on `device` (kept referenced until Shutdown). `apiVersion` is
    /// clamped to the device's version. Returns false (and changes nothing) when already initialized,
    /// for a null or uncreated device, bad settings, or when VMA fails. Not concurrently with any
    /// other call of this class.
    static bool Init(const Ref<VulkanDevice>& device, uint32_t apiVersion);
    static bool Init(const Ref<VulkanDevice>& device, uint32_t apiVersion, const AllocatorSettings& settings);
    /// Waits for the device, releases every retired and deferred resource, reports and frees each
    /// leaked allocation (tag, name, kind, size, call site), destroys the pools and the allocator.
    /// Returns false without doing anything when not initialized. Not concurrently with any other
    /// call of this class. Safe from a static destructor (the logger outlives every static).
    static bool Shutdown();
    static bool IsInitialized();
    /// The raw VMA allocator (compat escape hatch), or null before Init. Memory allocated through it
    /// directly is not counted per tag, is not in the registry and is never moved by defragmentation.
    static VmaAllocator GetAllocator();
    /// The device given to Init, or null (no error line) when not initialized.
    static Ref<VulkanDevice> GetDevice();
    /// A copy of the settings given to Init; the defaults when not initialized (no error line). A
    /// copy, so that it stays valid after Shutdown.
    static AllocatorSettings GetSettings();

    /// Advances the frame counter: feeds VMA's budget refresh (vmaSetCurrentFrameIndex) and releases
    /// deferred destroys whose frame has retired (destroyed at frame F, released at F + framesInFlight).
    /// Returns false when not initialized or when the index goes backwards. Call it from one thread
    /// (the frame loop); other threads may allocate and free meanwhile.
    static bool SetCurrentFrameIndex(uint64_t frameIndex);
    /// The last frame index set; 0 when not initialized (no error line).
    static uint64_t GetCurrentFrameIndex();

    // ------------------------------------------------------------------ buffers and images
    /// Creates a buffer and binds memory of `usage` to it. Returns its allocation and sets `outBuffer`,
    /// or returns null with `outBuffer` = VK_NULL_HANDLE (nothing is left allocated). The caller owns
    /// both and destroys them with DestroyBuffer, DestroyBufferDeferred or Free. `bufferInfo` is
    /// copied (pNext chains are passed to the driver but make the buffer immovable).
    VmaAllocation AllocateBuffer(const VkBufferCreateInfo& bufferInfo, VmaMemoryUsage usage,
                                 VkBuffer& outBuffer,
                                 std::source_location where = std::source_location::current());
    VmaAllocation AllocateBuffer(const VkBufferCreateInfo& bufferInfo, const AllocationCreateInfo& createInfo,
                                 VkBuffer& outBuffer,
                                 std::source_location where = std::source_location::current());
    /// Creates an image and binds memory to it. `allocatedSize` (may be null) receives the
    /// allocation's size, 0 on failure. Ownership and failure as for AllocateBuffer.
    VmaAllocation AllocateImage(const VkImageCreateInfo& imageInfo, VmaMemoryUsage usage, VkImage& outImage,
                                VkDeviceSize* allocatedSize = nullptr,
                                std::source_location where = std::source_location::current());
    VmaAllocation AllocateImage(const VkImageCreateInfo& imageInfo, const AllocationCreateInfo& createInfo,
                                VkImage& outImage, VkDeviceSize* allocatedSize = nullptr,
                                std::source_location where = std::source_location::current());

    /// Destroys the buffer and frees its memory now; the caller knows the GPU is done with it.
    /// `buffer` must be the allocation's current buffer, or the one it had before its latest
    /// defragmentation move (a thread may have read it just before another thread's pass moved it).
    /// Returns false for a bad pair.
    bool DestroyBuffer(VkBuffer buffer, VmaAllocation allocation);
    bool DestroyImage(VkImage image, VmaAllocation allocation);
    /// Destroys the resource bound to `allocation` (if any) and frees it (compat).
    bool Free(VmaAllocation allocation);
    /// Like DestroyBuffer/DestroyImage, but released only once the frames in flight have retired.
    /// The allocation stops being live (ContainsAllocation is false) at once.
    bool DestroyBufferDeferred(VkBuffer buffer, VmaAllocation allocation);
    bool DestroyImageDeferred(VkImage image, VmaAllocation allocation);

    /// The current buffer/image bound to `allocation` (VK_NULL_HANDLE if not live or of the other
    /// kind, with no error line; an error line before Init). Defragmentation can change it: read it
    /// again after a RelocationNotice.
    static VkBuffer GetBuffer(VmaAllocation allocation);
    static VkImage GetImage(VmaAllocation allocation);

    // ------------------------------------------------------------------ batches
    /// The editor's nested name for one buffer of a batch: the same type as the namespace-level
    /// `SceneryEditorX::BatchBufferAllocation`.
    using BatchBufferAllocation = ::SceneryEditorX::BatchBufferAllocation;

    /// Allocates one buffer per size, all with `usage`, all or nothing: on failure returns an empty
    /// vector and leaves nothing allocated. The caller owns the buffers (FreeBufferBatch or
    /// DestroyBuffer each).
    std::vector<BatchBufferAllocation>
    AllocateBufferBatch(const std::vector<VkDeviceSize>& sizes, BufferUsageFlags usage,
                        VmaMemoryUsage memoryUsage = VMA_MEMORY_USAGE_AUTO,
                        std::source_location where = std::source_location::current())
    {
        return AllocateBufferBatch(sizes, ToVkBufferUsage(usage), memoryUsage, where);
    }
    /// The same with raw `VkBufferUsageFlags` bits (the editor's `BufferUsageFlags` is a `uint32_t`).
    /// 0, or a bit that is not a core buffer usage of the device, is refused like any bad usage.
    std::vector<BatchBufferAllocation>
    AllocateBufferBatch(const std::vector<VkDeviceSize>& sizes, VkBufferUsageFlags usage,
                        VmaMemoryUsage memoryUsage = VMA_MEMORY_USAGE_AUTO,
                        std::source_location where = std::source_location::current());
    /// Destroys the buffer of every entry and frees its memory now (as DestroyBuffer does for each).
    /// Takes any contiguous range, a `const std::vector<BatchBufferAllocation>&` included, and does
    /// not change it: afterwards the caller's entries are dangling handles, to be dropped (clear
    /// the vector). Freeing them again frees nothing and returns false with one error line per entry
    /// ("not live"), as long as VMA has not reused a handle for a newer allocation, which cannot be
    /// told apart (as with DestroyBuffer). Returns false if any entry was not a live buffer and
    /// allocation pair; the valid entries are still freed. An empty range returns true.
    bool FreeBufferBatch(std::span<const BatchBufferAllocation> batch);

    // ------------------------------------------------------------------ mapping
    /// Maps the allocation (nesting: each map needs one unmap). Returns null, with an error, when the
    /// memory is not host-visible, or for an AUTO* allocation made without a host-access flag. The
    /// pointer is valid until the matching UnmapMemory or the allocation's destruction, and moves
    /// with a defragmentation move (RelocationNotice::newMappedData). Several threads may map one
    /// allocation; writing the same bytes from two threads is the caller's race.
    template <class T = void>
    T* MapMemory(VmaAllocation allocation)
    {
        return static_cast<T*>(MapMemoryRaw(allocation));
    }
    void* MapMemoryRaw(VmaAllocation allocation);
    /// Undoes one MapMemory. Returns false (with an error) when the allocation is not mapped.
    static bool UnmapMemory(VmaAllocation allocation);
    /// Flushes/invalidates [offset, offset+size) of a mapped allocation, rounded outward to
    /// nonCoherentAtomSize. No-ops (returning true) on coherent memory.
    static bool FlushAllocation(VmaAllocation allocation, VkDeviceSize offset = 0,
                                VkDeviceSize size = VK_WHOLE_SIZE);
    static bool InvalidateAllocation(VmaAllocation allocation, VkDeviceSize offset = 0,
                                     VkDeviceSize size = VK_WHOLE_SIZE);

    // ------------------------------------------------------------------ uploads and readback
    /// Writes `size` bytes at `offset` into a buffer through a system-owned staging buffer and the
    /// device's locked submit; waits for the copy. Works for device-local memory that cannot be mapped.
    /// `data` must not be null. False (nothing written) for a range outside the buffer, a buffer
    /// without TRANSFER_DST usage, or a failed submission. The caller keeps GPU work on the buffer
    /// from overlapping the copy.
    bool UploadToBuffer(VmaAllocation allocation, const void* data, VkDeviceSize size,
                        VkDeviceSize offset = 0);
    /// Writes every mip level and layer of an image. `data` holds the levels one after the other,
    /// each level's layers tightly packed. Leaves the image in `finalLayout` and records that layout.
    bool UploadToImage(VmaAllocation allocation, const void* data, VkDeviceSize size,
                       VkImageLayout finalLayout = VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL);
    /// Reads buffer bytes back through a staging buffer into `out` (not null, `size` bytes); waits.
    /// False (nothing written to `out`) as for UploadToBuffer, with TRANSFER_SRC usage.
    bool ReadbackBuffer(VmaAllocation allocation, void* out, VkDeviceSize size, VkDeviceSize offset = 0);
    /// Reads back every mip level and layer of an image (same packing as UploadToImage) into `out`,
    /// which is resized. False (with `out` unchanged) when the layout is unknown or UNDEFINED.
    bool ReadbackImage(VmaAllocation allocation, std::vector<uint8_t>& out);
    /// Tightly packed byte size of all mips and layers of an image create info (0 for formats that
    /// the upload path does not know, such as compressed ones).
    static VkDeviceSize ImageDataSize(const VkImageCreateInfo& imageInfo);
    /// The layout the system last recorded for an image (UNDEFINED until uploaded or set).
    static VkImageLayout GetImageLayout(VmaAllocation allocation);
    /// Tells the system the layout the caller left an image in.
    static bool SetImageLayout(VmaAllocation allocation, VkImageLayout layout);

    // ------------------------------------------------------------------ settings (per instance)
    void SetAllocationStrategy(AllocationStrategy strategy);
    AllocationStrategy GetAllocationStrategy() const;
    /// Minimum alignment of this instance's buffers (on top of what the device requires). It must be
    /// a power of two from 1 to 1 GiB: any other value (0, 48, 3 GiB) is refused: false, one error
    /// line, the alignment unchanged. It is not rounded up (the editor rounds up) because Vulkan
    /// and VMA only know power-of-two alignments, and a silently different alignment than the one
    /// asked for would hide the caller's mistake; to round up, pass `std::bit_ceil(value)`.
    bool SetBufferAlignment(VkDeviceSize alignment);
    VkDeviceSize GetBufferAlignment() const;
    /// Warning threshold as a fraction of the budget, in (0, 1]. False (unchanged) otherwise.
    bool SetMemoryUsageWarningThreshold(float fraction);
    float GetMemoryUsageWarningThreshold() const;
    /// Called when this instance sees the usage cross its threshold (either way), on the thread
    /// whose call saw it, with no lock of ours held; it may call into the allocator. An empty
    /// callback removes it. The callback is copied.
    void SetBudgetCallback(BudgetCallback callback);
    /// Block size of the LARGE size-class pools created from now on (existing pools keep theirs).
    /// Checked against LARGE_BUFFER_SIZE, maxMemoryAllocationSize and the heap sizes of `device`;
    /// false (unchanged) otherwise. Works before Init; holds until Shutdown.
    static bool SetCustomBufferSize(VkDeviceSize size, const VulkanDevice& device);
    /// The block size of new LARGE pools: the custom size, else the settings' (the defaults' before
    /// Init).
    static VkDeviceSize GetCustomBufferSize();

    // ------------------------------------------------------------------ tracking
    /// True exactly for allocations live in the registry. A freed handle is false; a stale handle
    /// that VMA has since reused for a new allocation cannot be told apart (use the RAII types).
    static bool ContainsAllocation(VmaAllocation allocation);
    /// Renames an allocation ("tag:name", the allocation's own tag) and its buffer/image (debug
    /// utils). False if not live. `name` is copied.
    bool SetAllocationName(VmaAllocation allocation, const std::string& name);
    const std::string& GetTag() const;

    // ------------------------------------------------------------------ defragmentation
    /// Opens the (one, global) defragmentation session. `flags` are VMA defragmentation flags (one
    /// algorithm bit), never allocation flags. False when a session is already open or flags are bad.
    bool
    BeginDefragmentation(VmaDefragmentationFlags flags = VMA_DEFRAGMENTATION_FLAG_ALGORITHM_BALANCED_BIT);
    bool BeginDefragmentation(const DefragmentationOptions& options);
    /// Marks a live allocation as movable in this session. The caller promises not to use the
    /// allocation's old buffer/image in NEW GPU work once it has moved (see RelocationNotice), and
    /// that GPU work already submitted is finished before the session ends or the frames in flight
    /// retire. Images move only if their layout is known: from this overload, from the system's own
    /// uploads, or from SetImageLayout.
    bool MarkForDefragmentation(VmaAllocation allocation);
    bool MarkForDefragmentation(VmaAllocation allocation, VkImageLayout currentLayout);
    /// Marks every live allocation (all tags): VMA moves whole pools best, since a proposed move it
    /// must skip pins the whole source block for that pass. Returns how many were marked.
    size_t MarkAllForDefragmentation();
    /// Runs one pass over every pool at once, its copies in one submission (bounded per pool by
    /// maxBytesPerPass/maxAllocationsPerPass, and in time by maxPassDuration). True while work
    /// remains. Other threads' allocations and frees go on while the copies run (they wait only
    /// while the pass plans and commits); uploads and readbacks wait for the pass; the session's
    /// own calls (Begin, Mark, Step, End) are serialized.
    bool DefragmentStep();
    /// Runs the remaining passes, closes the session, frees the empty blocks (unless
    /// DefragmentationOptions::releaseEmptyBlocks is off) and returns what it did. Without an open
    /// session: an error and empty stats.
    DefragmentationStats EndDefragmentation();
    /// Frees the empty VkDeviceMemory blocks that VMA keeps (one per pool and memory type, a
    /// hysteresis against allocating a block back and forth), in every size-class pool and VMA's
    /// default pools. Safe at any time, from any thread; a block holding any allocation stays.
    /// Returns what it freed (zeros, with an error line, before Init).
    static ReleasedMemory ReleaseEmptyBlocks();
    static bool IsDefragmenting();
    /// Registers a callback for every moved resource; returns an id for RemoveRelocationCallback.
    /// Callbacks run on the thread that runs the pass, after the pass, with no lock of ours held, and
    /// may call into the allocator. Returns 0 (and registers nothing) for an empty callback. The
    /// callback list is process-wide: it outlives Shutdown.
    static uint64_t AddRelocationCallback(RelocationCallback callback);
    static bool RemoveRelocationCallback(uint64_t id);
    /// The mapped pointer of an allocation (persistent or from MapMemory), or null (no error line)
    /// when it is not mapped, not live, or not initialized.
    static void* GetMappedData(VmaAllocation allocation);

    // ------------------------------------------------------------------ statistics and budget
    /// Cheap, for every frame (no walk over allocations; O(heaps + the size-class pools' blocks)):
    /// VMA's per-heap counters, the pools' statistics, our peaks and tag counters, exact and current,
    /// the reclaimable bytes (exact for the size-class pools, an estimate for VMA's default pools:
    /// AllocationStats::reclaimableBytes), and the latest walk's fragmentation ratio with its age. Any
    /// thread. Zeros (and an error line) before Init.
    AllocationStats GetStats() const;
    /// Exact, by one walk over VMA's blocks (vmaCalculateStatisticsWithBlocks: as dear as
    /// vmaCalculateStatistics, about 1-2 ms at 100,000 allocations on lavapipe; docs/PERFORMANCE.md):
    /// the same figures as GetStats (from the walk) and the fragmentation ratio now, which GetStats
    /// returns from then on. No JSON. For checkpoints and reports; any thread.
    AllocationStats CalculateStats() const;
    /// VMA's JSON statistics dump (vmaBuildStatsString; with `detailedMap`, every block's
    /// suballocations), taken consistently while other threads allocate. Empty before Init.
    static std::string BuildStatsString(bool detailedMap = true);
    /// Every tag's counters (tags live for the process; an unused tag reads zeros). Works before Init.
    static std::vector<TagStats> GetAllTagStats();
    /// Resets peaks and cumulative counters to the current live values (compat). Peaks never go down
    /// otherwise.
    static void ResetStats();
    /// Logs per heap, memory type, pool and tag: bytes, blocks, allocations, fragmentation, peak, budget.
    void PrintDetailedStats() const;
    /// Device-local budget (see MemoryBudget), read now. Crossing this instance's threshold logs one
    /// warning and calls the budget callback. All zeros when not initialized.
    MemoryBudget GetMemoryBudget();
    /// Every heap's budget, read now; empty when not initialized.
    static std::vector<HeapBudget> GetHeapBudgets();
    /// Destroys every buffer that the SpeedOptimized reuse cache holds and frees its memory.
    /// Returns how many were released.
    static size_t ReleaseReuseCache();

    // ------------------------------------------------------------------ residency (the budget acts)
    /// Registers a live allocation as evictable: under memory pressure on its heap the system asks
    /// `release` to give it back. Rank: lower is asked first (0 = least valuable). Within a rank,
    /// the least recently used (TouchEvictable's frame; the current frame at registration) first,
    /// then the earliest registered. Nothing is destroyed behind the owner's back: the callback
    /// releases (or shrinks) its own resource and answers what it gave back (EvictionResponse). It
    /// runs on the thread that needs the room, with no lock of ours held; it may call into the
    /// allocator (a MakeRoom from inside a callback asks nobody). Returns the id, or 0 (one error
    /// line) before Init, for a null or not live allocation or an empty callback.
    static uint64_t RegisterEvictable(VmaAllocation allocation, uint32_t rank, EvictionCallback release);
    /// The owner used the resource in `frame`. False (one error line) for an unknown id.
    static bool TouchEvictable(uint64_t id, uint64_t frame);
    static bool SetEvictableRank(uint64_t id, uint32_t rank);
    /// Ends a registration (the owner destroys the resource itself). False for an unknown id.
    static bool UnregisterEvictable(uint64_t id);
    /// Registered evictables now.
    static size_t GetEvictableCount();
    /// One eviction round on `heapIndex`: the library's caches shrink first (staging, reuse, the
    /// empty blocks VMA keeps), then
    /// owners are asked in eviction order, up to `rankLimit`, until `bytes` came back. Rounds on
    /// several threads ask disjoint owners. Returns the round (also GetLastEvictionRound); a round
    /// with zeros and an error line before Init or for a bad heap.
    static EvictionRound MakeRoom(uint32_t heapIndex, VkDeviceSize bytes, uint32_t rankLimit = UINT32_MAX);
    /// The latest round of any reason (MakeRoom, a failed MakeRoom allocation, a threshold crossed,
    /// a falling budget). Zeros before the first.
    static EvictionRound GetLastEvictionRound();
    /// The heap an allocation lives in; -1 (one error line) when not live.
    static int GetHeapIndex(VmaAllocation allocation);
    /// The heap the system's staging buffers (uploads, readbacks) take memory from: host memory
    /// where the device has a host heap (discrete GPUs), the one heap on lavapipe. A budget on a
    /// device-local heap counts them only when this is that heap. -1 (one error line) before Init.
    static int GetStagingHeapIndex();
    /// With AllocatorSettings::simulateMemoryBudget: sets the budget VMA sees for `heapIndex` (0:
    /// back to 80 % of the heap). It takes effect at the next SetCurrentFrameIndex, like the budget
    /// of VK_EXT_memory_budget; a budget below the usage then starts a round (PressureReason::
    /// BudgetFell). False (one error line) without the setting or for a bad heap.
    static bool SetSimulatedHeapBudget(uint32_t heapIndex, VkDeviceSize bytes);

private:
    // The instance's tag, counters, settings and budget watch (src/Memory/AllocatorInstance.h).
    std::unique_ptr<detail::AllocatorInstance> m_Instance;
};

} // namespace SceneryEditorX
