#include "TestEnvironment.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <sstream>

namespace SceneryEditorX::Test
{
namespace
{
std::mutex g_DeviceMutex;
Ref<VulkanDevice> g_Device;
const Ref<VulkanDevice> g_NoDevice;
bool g_CreationAttempted = false; // guarded by g_DeviceMutex
std::atomic<bool> g_DeviceReady{false};
std::atomic<bool> g_TeardownFailed{false};

std::string DescribeMessages(const VulkanDevice& device)
{
    std::ostringstream out;
    out << device.GetValidationErrorCount() << " error(s) and " << device.GetValidationWarningCount()
        << " warning(s) from the validation layer";
    const std::vector<std::string> messages = device.GetValidationMessages();
    if (!messages.empty())
        out << " (last " << messages.size() << " shown):";
    for (const std::string& message : messages)
        out << "\n  - " << message;
    return out.str();
}

uint32_t PendingMessages(const VulkanDevice& device)
{
    return device.GetValidationErrorCount() + device.GetValidationWarningCount();
}

/// Owns the end of the device's life: destroys it after the last test and turns every validation
/// message reported during that (typically: objects that were never destroyed) into a failed run.
class VulkanTestEnvironment final : public ::testing::Environment
{
public:
    void TearDown() override
    {
        Ref<VulkanDevice> device;
        {
            std::lock_guard lock(g_DeviceMutex);
            g_DeviceReady.store(false, std::memory_order_release);
            device = std::move(g_Device);
        }
        if (!device)
            return;

        if (PendingMessages(*device) != 0)
        {
            g_TeardownFailed = true;
            ADD_FAILURE() << "validation messages reported after the last test ended: "
                          << DescribeMessages(*device);
            device->ResetValidationCounts();
        }
        if (const uint32_t refs = device->GetRefCount(); refs != 1)
        {
            g_TeardownFailed = true;
            ADD_FAILURE() << "the test device is still referenced " << refs - 1
                          << " more time(s) at the end of the run, so it cannot be destroyed and checked "
                             "for leaked Vulkan objects";
            return;
        }

        // The messenger forwards each message to the log (tag "Validation"); capture them while the
        // device goes away, with the level low enough that warnings are not filtered out.
        std::optional<ScopedLogLevel> level;
        if (Log::GetLevel() > LogLevel::Warn)
            level.emplace(LogLevel::Warn);
        Log::SetTagEnabled("Validation", true);
        LogCapture capture;
        device.Reset();
        std::vector<std::string> messages;
        for (const LogRecord& record : capture.Records())
            if (record.tag == "Validation" &&
                (record.level == LogLevel::Warn || record.level == LogLevel::Error))
                messages.push_back(record.message);
        if (!messages.empty())
        {
            g_TeardownFailed = true;
            std::ostringstream out;
            out << "the validation layer reported " << messages.size()
                << " message(s) while the test device was destroyed (Vulkan objects never destroyed?):";
            for (const std::string& message : messages)
                out << "\n  - " << message;
            ADD_FAILURE() << out.str();
        }
    }
};

/// Fails each test during which the validation layer reported an error or a warning.
class ValidationListener final : public ::testing::EmptyTestEventListener
{
public:
    void OnTestEnd(const ::testing::TestInfo&) override
    {
        const Ref<VulkanDevice>& device = DeviceIfCreated();
        if (!device || PendingMessages(*device) == 0)
            return;
        ADD_FAILURE() << "the test provoked " << DescribeMessages(*device);
        device->ResetValidationCounts();
    }
};
} // namespace

const Ref<VulkanDevice>& Device()
{
    if (g_DeviceReady.load(std::memory_order_acquire))
        return g_Device;
    std::lock_guard lock(g_DeviceMutex);
    if (!g_CreationAttempted)
    {
        g_CreationAttempted = true;
        VulkanDeviceOptions options;
        options.applicationName = "sedx-tests";
        options.enableValidation = true;
        g_Device = VulkanDevice::Create(options);
        if (g_Device)
            g_DeviceReady.store(true, std::memory_order_release);
        else
            ADD_FAILURE() << "VulkanDevice::Create with validation failed (see the log above)";
    }
    return g_Device ? g_Device : g_NoDevice;
}

const Ref<VulkanDevice>& DeviceIfCreated()
{
    if (g_DeviceReady.load(std::memory_order_acquire))
        return g_Device;
    return g_NoDevice;
}

uint32_t CountValidationMessages(const std::function<void()>& provoke)
{
    const Ref<VulkanDevice>& device = Device();
    if (!device)
    {
        ADD_FAILURE() << "no test device: cannot count validation messages";
        return 0;
    }
    if (PendingMessages(*device) != 0)
    {
        ADD_FAILURE() << "before the provoking call, the test had already provoked "
                      << DescribeMessages(*device);
        device->ResetValidationCounts();
    }
    provoke();
    const uint32_t count = PendingMessages(*device);
    device->ResetValidationCounts();
    return count;
}

uint32_t ExpectValidationMessage(const std::function<void()>& provoke)
{
    const uint32_t count = CountValidationMessages(provoke);
    EXPECT_GT(count, 0u)
        << "the call was expected to provoke a validation message, but the layer stayed silent";
    return count;
}

std::optional<uint32_t> FindMemoryType(const VkPhysicalDeviceMemoryProperties& properties, uint32_t typeBits,
                                       VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred)
{
    std::optional<uint32_t> found;
    for (uint32_t i = 0; i < properties.memoryTypeCount; ++i)
    {
        const VkMemoryPropertyFlags flags = properties.memoryTypes[i].propertyFlags;
        if (!(typeBits & (1u << i)) || (flags & required) != required)
            continue;
        if ((flags & preferred) == preferred)
            return i;
        if (!found)
            found = i;
    }
    return found;
}

ScopedEnv::ScopedEnv(std::string name, const std::optional<std::string>& value) : m_Name(std::move(name))
{
    if (const char* previous = std::getenv(m_Name.c_str()))
        m_Previous = previous;
    if (value)
        setenv(m_Name.c_str(), value->c_str(), 1);
    else
        unsetenv(m_Name.c_str());
}

ScopedEnv::~ScopedEnv()
{
    if (m_Previous)
        setenv(m_Name.c_str(), m_Previous->c_str(), 1);
    else
        unsetenv(m_Name.c_str());
}

std::optional<LogLevel> ParseLogLevel(const std::string& text)
{
    std::string lower = text;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "trace")
        return LogLevel::Trace;
    if (lower == "info")
        return LogLevel::Info;
    if (lower == "warn" || lower == "warning")
        return LogLevel::Warn;
    if (lower == "error")
        return LogLevel::Error;
    if (lower == "off")
        return LogLevel::Off;
    return std::nullopt;
}

void InstallTestEnvironment()
{
    ::testing::AddGlobalTestEnvironment(new VulkanTestEnvironment); // gtest takes ownership
    ::testing::UnitTest::GetInstance()->listeners().Append(new ValidationListener);
}

bool TeardownFailed()
{
    return g_TeardownFailed.load();
}

} // namespace SceneryEditorX::Test
