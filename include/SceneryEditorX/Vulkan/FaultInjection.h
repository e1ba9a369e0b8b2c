#pragma once
/// @file FaultInjection.h
/// A test hook, not part of the user API: make the N-th call of a Vulkan entry point fail with a
/// chosen result. The umbrella header Memory.h does not include it; the reliability tests and the
/// fuzzer include it directly. It is installed with the other headers, so that a user's own tests
/// can inject faults too (with `AllocatorSettings::enableFaultInjection`).
/// The memory system routes VMA's Vulkan calls through these hooks when
/// `AllocatorSettings::enableFaultInjection` is set, and its own calls (defragmentation's
/// vkCreateBuffer/vkCreateImage, every vkQueueSubmit of VulkanDevice) always check them. With no
/// fault armed a check is one relaxed atomic load.
///
/// Thread safety: all functions may be called from any thread. Counting is global.

#include <vulkan/vulkan.h>

#include <cstdint>

namespace SceneryEditorX::FaultInjection
{
enum class Point : uint32_t
{
    AllocateMemory,
    CreateBuffer,
    CreateImage,
    BindBufferMemory,
    BindImageMemory,
    QueueSubmit,
    Count
};
const char* PointName(Point point);

/// Arms `point`: its `nth` call from now on (1 = the next one) returns `result` instead of calling
/// Vulkan. One-shot: after firing, the point is disarmed. `nth` = 0 disarms it.
void Arm(Point point, uint64_t nth, VkResult result = VK_ERROR_OUT_OF_DEVICE_MEMORY);
/// Disarms every point and zeroes the counters.
void Reset();
/// Calls seen at `point` since the last Arm of that point or Reset.
uint64_t Calls(Point point);
/// Faults fired since the last Reset.
uint64_t Fired();

/// The check itself: counts the call and returns the injected result, or VK_SUCCESS to proceed.
VkResult Check(Point point);
} // namespace SceneryEditorX::FaultInjection
