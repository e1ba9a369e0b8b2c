// sedx-examples: runs every non-defragmentation example of the spec on one Vulkan device with the
// Khronos validation layer on. An example fails when its own checks fail, when it leaks, or when
// the validation layer reports any error or warning while it runs. Prints one line per example
// and ends with "N passed, M failed"; the exit code is non-zero on any failure.
#include "SpecExamples.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace
{
using namespace SceneryEditorX;

/// Problems the log shows that an example's own checks do not: leaks reported at Shutdown (ours or
/// VMA's) and internal assertions.
std::vector<std::string> ProblemsInLog(const LogCapture& capture)
{
    std::vector<std::string> problems;
    for (const LogRecord& record : capture.Records())
    {
        const bool leak = record.tag == "VulkanAllocator" && record.level == LogLevel::Error &&
                          record.message.find("leak") != std::string::npos;
        if (leak || record.tag == "VMA" || record.tag == "Assert")
            problems.push_back(record.tag + ": " + record.message);
    }
    return problems;
}

void PrintValidationMessages(const VulkanDevice& device)
{
    std::printf("    %u validation error(s), %u warning(s):\n", device.GetValidationErrorCount(),
                device.GetValidationWarningCount());
    for (const std::string& message : device.GetValidationMessages())
        std::printf("    - %s\n", message.c_str());
}

/// Runs one example (with Init/Shutdown around it unless it does that itself). True when it passed.
bool RunExample(const Examples::SpecExample& example, const Ref<VulkanDevice>& device)
{
    device->ResetValidationCounts();
    LogCapture capture;
    const auto start = std::chrono::steady_clock::now();

    std::vector<std::string> failures;
    if (!example.initializesAllocator && !MemoryAllocator::Init(device, VK_API_VERSION_1_3))
    {
        failures.emplace_back("MemoryAllocator::Init failed");
    }
    else
    {
        if (!example.run(device))
            failures.emplace_back("its checks failed (see the \"Examples\" log line above)");
        if (!example.initializesAllocator)
        {
            MemoryAllocator::Shutdown();
        }
        else if (MemoryAllocator::IsInitialized())
        {
            failures.emplace_back("it left the allocator initialized");
            MemoryAllocator::Shutdown();
        }
    }
    for (const std::string& problem : ProblemsInLog(capture))
        failures.push_back(problem);
    const bool validationClean =
        device->GetValidationErrorCount() == 0 && device->GetValidationWarningCount() == 0;
    if (!validationClean)
        failures.emplace_back("the validation layer reported messages");

    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::fflush(stdout);
    std::printf("[%s] %s (%.1f ms)\n", failures.empty() ? "PASS" : "FAIL", example.name, ms);
    for (const std::string& failure : failures)
        std::printf("    %s\n", failure.c_str());
    if (!validationClean)
        PrintValidationMessages(*device);
    std::fflush(stdout);
    return failures.empty();
}
} // namespace

int main()
{
    // Sees every validation message, including those reported while the device is destroyed.
    LogCapture wholeRun;

    VulkanDeviceOptions options;
    options.applicationName = "sedx-examples";
    options.enableValidation = true;
    Ref<VulkanDevice> device = VulkanDevice::Create(options);
    if (!device || !device->IsValidationEnabled())
    {
        std::printf("no Vulkan device with the validation layer (see the error above)\n");
        std::printf("0 passed, %zu failed\n", Examples::kExamples.size());
        return 1;
    }
    std::printf("device: %s (%s)\n", device->GetInfo().name.c_str(),
                PhysicalDeviceTypeName(device->GetInfo().type));

    size_t passed = 0;
    size_t failed = 0;
    for (const Examples::SpecExample& example : Examples::kExamples)
        ++(RunExample(example, device) ? passed : failed);

    const size_t messagesBeforeTeardown =
        wholeRun.Count(LogLevel::Warn, {}, "Validation") + wholeRun.Count(LogLevel::Error, {}, "Validation");
    device.Reset();
    const size_t teardownMessages = wholeRun.Count(LogLevel::Warn, {}, "Validation") +
                                    wholeRun.Count(LogLevel::Error, {}, "Validation") -
                                    messagesBeforeTeardown;
    std::fflush(stdout);
    if (teardownMessages != 0)
    {
        std::printf("[FAIL] device teardown: %zu validation message(s) while destroying the device\n",
                    teardownMessages);
        ++failed;
    }
    std::printf("%zu passed, %zu failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
