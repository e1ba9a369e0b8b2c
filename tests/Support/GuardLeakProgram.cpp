// A test program that is meant to fail, twice over. The CTest entry sedx_guard_catches_leak_at_teardown
// passes only if it exits non-zero and its output shows both guards at work:
// - the listener fails a test during which the validation layer reported an error, and
// - the environment fails the run when the layer reports, at vkDestroyDevice, a buffer that was
//   never destroyed (something no single test can see).
#include "TestEnvironment.h"

namespace SceneryEditorX::Test
{
namespace
{
TEST(GuardLeakProgram, InvalidCallFailsTheTest)
{
    const Ref<VulkanDevice>& device = Device();
    ASSERT_TRUE(device);
    VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    info.size = 0; // invalid
    info.usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    VkBuffer buffer = VK_NULL_HANDLE;
    if (vkCreateBuffer(device->GetDevice(), &info, nullptr, &buffer) == VK_SUCCESS && buffer)
        vkDestroyBuffer(device->GetDevice(), buffer, nullptr);
    // No reset: the listener must turn the message into a failure of this test.
}

TEST(GuardLeakProgram, LeaksOneBufferThatOnlyTheTeardownCanSee)
{
    const Ref<VulkanDevice>& device = Device();
    ASSERT_TRUE(device);
    VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    info.size = 256;
    info.usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    VkBuffer buffer = VK_NULL_HANDLE;
    ASSERT_EQ(vkCreateBuffer(device->GetDevice(), &info, nullptr, &buffer), VK_SUCCESS);
    device->SetObjectName(VK_OBJECT_TYPE_BUFFER, reinterpret_cast<uint64_t>(buffer),
                          "deliberately-leaked-buffer");
    // Not destroyed on purpose.
}
} // namespace
} // namespace SceneryEditorX::Test
