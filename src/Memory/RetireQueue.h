#pragma once
// RetireQueue: GPU lifetime as a type. A resource that frames in flight may still use (a deferred
// destroy, the old handle of a moved allocation, a SpeedOptimized buffer on its way to the reuse
// cache) waits here, with the frame from which the GPU is done with it. Owns its queue and its lock.

#include "LockOrder.h"
#include "MemoryCommon.h"
#include "ReuseCache.h"

#include <deque>
#include <vector>

namespace SceneryEditorX::detail
{

/// A resource waiting for its frame to retire. `allocation` is null for the old handle of a moved
/// allocation (the memory moved with the allocation; only the handle is released).
struct RetiredResource
{
    uint64_t releaseFrame = 0; // released once SetCurrentFrameIndex reaches this frame
    ResourceKind kind = ResourceKind::Buffer;
    VkBuffer buffer = VK_NULL_HANDLE;
    VkImage image = VK_NULL_HANDLE;
    VmaAllocation allocation = nullptr;
    bool reusable = false; // goes to the reuse cache once released
    ReuseKey reuseKey;
    CachedBuffer cached;
    uint64_t sizeBytes = 0; // the allocation's bytes, held until released (0 for an old handle)
};

class RetireQueue
{
public:
    void Push(RetiredResource resource);
    /// Takes out, in order, every resource whose release frame is at or before `frame`.
    std::vector<RetiredResource> TakeReady(uint64_t frame);
    /// Takes out everything (Shutdown).
    std::vector<RetiredResource> TakeAll();

private:
    OrderedMutex<LockLevel::RetireQueue> m_Mutex;
    std::deque<RetiredResource> m_Queue; // in release-frame order: frames only go forward
};

} // namespace SceneryEditorX::detail
