#include <SceneryEditorX/Core/Log.h>
#include <SceneryEditorX/Vulkan/FaultInjection.h>
#include <SceneryEditorX/Vulkan/VulkanDevice.h>

#include <array>
#include <atomic>

namespace SceneryEditorX::FaultInjection
{
namespace
{
constexpr size_t kPoints = static_cast<size_t>(Point::Count);
struct State
{
    std::atomic<uint32_t> armedPoints{0}; // bit per point: the fast path reads only this
    std::array<std::atomic<uint64_t>, kPoints> calls{};
    std::array<std::atomic<uint64_t>, kPoints> failAt{};
    std::array<std::atomic<int32_t>, kPoints> result{};
    std::atomic<uint64_t> fired{0};
};
State& S()
{
    static State state;
    return state;
}
} // namespace

const char* PointName(Point point)
{
    static constexpr const char* kNames[] = {"vkAllocateMemory",   "vkCreateBuffer",    "vkCreateImage",
                                             "vkBindBufferMemory", "vkBindImageMemory", "vkQueueSubmit"};
    const auto i = static_cast<size_t>(point);
    return i < kPoints ? kNames[i] : "invalid";
}

void Arm(Point point, uint64_t nth, VkResult result)
{
    const auto i = static_cast<size_t>(point);
    if (i >= kPoints)
        return;
    State& s = S();
    s.calls[i].store(0);
    s.failAt[i].store(nth);
    s.result[i].store(result);
    if (nth)
        s.armedPoints.fetch_or(1u << i);
    else
        s.armedPoints.fetch_and(~(1u << i));
}

void Reset()
{
    State& s = S();
    s.armedPoints.store(0);
    for (size_t i = 0; i < kPoints; ++i)
    {
        s.calls[i].store(0);
        s.failAt[i].store(0);
    }
    s.fired.store(0);
}

uint64_t Calls(Point point)
{
    const auto i = static_cast<size_t>(point);
    return i < kPoints ? S().calls[i].load() : 0;
}

uint64_t Fired()
{
    return S().fired.load();
}

VkResult Check(Point point)
{
    State& s = S();
    const auto i = static_cast<size_t>(point);
    if (!(s.armedPoints.load(std::memory_order_relaxed) & (1u << i)))
        return VK_SUCCESS;
    const uint64_t n = s.calls[i].fetch_add(1) + 1;
    if (n != s.failAt[i].load())
        return VK_SUCCESS;
    s.armedPoints.fetch_and(~(1u << i));
    s.fired.fetch_add(1);
    const auto result = static_cast<VkResult>(s.result[i].load());
    SEDX_CORE_TRACE_TAG("FaultInjection", "{} call {} fails with {}", PointName(point), n,
                        VkResultName(result));
    return result;
}
} // namespace SceneryEditorX::FaultInjection
