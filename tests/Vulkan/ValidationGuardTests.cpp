// The guard can fail: a deliberately invalid Vulkan call is caught by the validation counters. (That
// the listener then fails the test, and that leaks fail the run at teardown, is shown by the CTest
// entry sedx_guard_catches_leak_at_teardown, which runs Support/GuardLeakProgram.cpp.)
#include "Support/TestEnvironment.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace SceneryEditorX
{
namespace
{
using ::SceneryEditorX::Test::CountValidationMessages;
using ::SceneryEditorX::Test::DeviceTest;
using ::SceneryEditorX::Test::ExpectValidationMessage;

class ValidationGuard : public DeviceTest
{
protected:
    /// vkCreateBuffer with size 0, which the specification forbids (VUID-VkBufferCreateInfo-size-00912).
    static void CreateZeroSizedBuffer()
    {
        VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
        info.size = 0;
        info.usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT;
        info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
        VkBuffer buffer = VK_NULL_HANDLE;
        const VkResult result = vkCreateBuffer(GetVkDevice(), &info, nullptr, &buffer);
        if (result == VK_SUCCESS && buffer != VK_NULL_HANDLE)
            vkDestroyBuffer(GetVkDevice(), buffer, nullptr);
    }
};

TEST_F(ValidationGuard, InvalidCallRaisesTheErrorCounter)
{
    VulkanDevice& device = GetDevice();
    ASSERT_EQ(device.GetValidationErrorCount(), 0u);
    {
        LogCapture capture;
        CreateZeroSizedBuffer();
        EXPECT_GT(device.GetValidationErrorCount(), 0u);
        const std::vector<std::string> messages = device.GetValidationMessages();
        ASSERT_FALSE(messages.empty());
        bool namesTheRule = false;
        for (const std::string& message : messages)
            namesTheRule = namesTheRule || message.find("VUID-VkBufferCreateInfo-size") != std::string::npos;
        EXPECT_TRUE(namesTheRule) << messages.front();
        EXPECT_GE(capture.Count(LogLevel::Error, "VUID-VkBufferCreateInfo-size", "Validation"), 1u)
            << "validation errors are forwarded to the log";
    }
    device.ResetValidationCounts(); // so that the listener does not fail this test
    EXPECT_EQ(device.GetValidationErrorCount(), 0u);
    EXPECT_EQ(device.GetValidationWarningCount(), 0u);
    EXPECT_TRUE(device.GetValidationMessages().empty());
}

TEST_F(ValidationGuard, ExpectValidationMessageCountsAndClearsWhatTheCallProvoked)
{
    EXPECT_GE(ExpectValidationMessage(&CreateZeroSizedBuffer), 1u);
    EXPECT_EQ(GetDevice().GetValidationErrorCount(), 0u);
    EXPECT_EQ(CountValidationMessages([] {}), 0u) << "a valid (empty) call provokes nothing";
}

TEST_F(ValidationGuard, MessageListKeepsOnlyTheNewest32)
{
    Log::SetTagEnabled("Validation", false); // 34 identical lines in the log would say nothing more
    const uint32_t count = CountValidationMessages(
        [&]
        {
            for (int i = 0; i < 34; ++i)
                CreateZeroSizedBuffer();
            EXPECT_EQ(GetDevice().GetValidationMessages().size(), 32u);
        });
    Log::SetTagEnabled("Validation", true);
    EXPECT_GE(count, 34u);
}
} // namespace
} // namespace SceneryEditorX
