// The debug-build check of the lock order (LockOrder.h).
#include "LockOrder.h"

#ifdef SEDX_DEBUG
#include <SceneryEditorX/Core/Assert.h>
#include <SceneryEditorX/Core/Log.h>

#include <array>

namespace SceneryEditorX::detail
{
namespace
{
// How many locks of each level this thread holds.
thread_local std::array<uint32_t, static_cast<size_t>(LockLevel::Count)> t_Held{};
} // namespace

void NoteLockAcquire(LockLevel level)
{
    for (size_t inner = static_cast<size_t>(level) + 1; inner < t_Held.size(); ++inner)
        if (t_Held[inner] != 0)
        {
            SEDX_CORE_ERROR_TAG("VulkanAllocator",
                                "lock order violated: level {} taken while level {} is held (LockOrder.h)",
                                static_cast<int>(level), inner);
            SEDX_CORE_ASSERT(false, "lock order violated");
        }
    ++t_Held[static_cast<size_t>(level)];
}

void NoteLockRelease(LockLevel level)
{
    --t_Held[static_cast<size_t>(level)];
}
} // namespace SceneryEditorX::detail
#endif
