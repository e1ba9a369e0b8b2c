#pragma once
/// @file TestEnvironment.h
/// The shared test fixture of every test executable (the support library also provides `main`).
///
/// - One `VulkanDevice` per test process, with the Khronos validation layer on, created on the
///   first call to `Device()` (test executables that never touch Vulkan never create it) and
///   destroyed by the global environment after the last test, so that the layer can report objects
///   that were never destroyed.
/// - A listener fails every test during which the layer reported an error or a warning, and then
///   resets the counts. Messages reported while the device is destroyed fail the whole run (the
///   process exits non-zero).
/// - `CountValidationMessages` / `ExpectValidationMessage` run code that is meant to provoke the layer.

#include <SceneryEditorX/Core/Log.h>
#include <SceneryEditorX/Core/Ref.h>
#include <SceneryEditorX/Vulkan/VulkanDevice.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace SceneryEditorX::Test
{

/// The test process's device (validation on). Created on first use; null if creation failed (the
/// call then adds a test failure). Any thread.
const Ref<VulkanDevice>& Device();

/// The device if it has been created, else null. Never creates it.
const Ref<VulkanDevice>& DeviceIfCreated();

/// Runs `provoke` and returns the number of validation errors and warnings it caused; the counts are
/// reset afterwards, so the listener does not fail the test for them. Messages that were already
/// pending before `provoke` ran are reported as a failure of the current test first.
uint32_t CountValidationMessages(const std::function<void()>& provoke);

/// Like `CountValidationMessages`, and adds a test failure if `provoke` caused no validation message.
/// Returns the number of messages.
uint32_t ExpectValidationMessage(const std::function<void()>& provoke);

/// A memory type among `typeBits` with all of the `required` flags, preferring one that also has the
/// `preferred` flags; nullopt when there is none. For tests that allocate with raw Vulkan calls.
std::optional<uint32_t> FindMemoryType(const VkPhysicalDeviceMemoryProperties& properties, uint32_t typeBits,
                                       VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred = 0);

/// Base fixture for tests that need the device: fails (and skips the body) when there is none.
class DeviceTest : public ::testing::Test
{
protected:
    void SetUp() override { ASSERT_TRUE(Device()) << "the Vulkan test device could not be created"; }
    static VulkanDevice& GetDevice() { return *Device(); }
    static VkDevice GetVkDevice() { return Device()->GetDevice(); }
};

/// Sets the global log level for the lifetime of the object, then restores the previous one.
class ScopedLogLevel
{
public:
    explicit ScopedLogLevel(LogLevel level) : m_Previous(Log::GetLevel()) { Log::SetLevel(level); }
    ~ScopedLogLevel() { Log::SetLevel(m_Previous); }
    ScopedLogLevel(const ScopedLogLevel&) = delete;
    ScopedLogLevel& operator=(const ScopedLogLevel&) = delete;

private:
    LogLevel m_Previous;
};

/// Sets (or, with nullopt, unsets) an environment variable for the lifetime of the object, then
/// restores it. Not thread safe: use it only while no other thread of the test reads the environment.
class ScopedEnv
{
public:
    ScopedEnv(std::string name, const std::optional<std::string>& value);
    ~ScopedEnv();
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    std::string m_Name;
    std::optional<std::string> m_Previous;
};

/// Parses a level name ("trace", "info", "warn", "error", "off"; case-insensitive).
std::optional<LogLevel> ParseLogLevel(const std::string& text);

/// Installs the environment and the listener. Called by the support library's `main`.
void InstallTestEnvironment();

/// True when validation reported messages while the device was destroyed at the end of the run,
/// or when the device was still referenced at that point.
bool TeardownFailed();

} // namespace SceneryEditorX::Test
