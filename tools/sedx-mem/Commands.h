#pragma once
// The sedx-mem subcommands.

#include <SceneryEditorX/Vulkan/VulkanDevice.h>

#include <cstdint>
#include <string>

namespace SceneryEditorX::Tool
{
/// The device that `options.deviceSelector` names (empty: SEDX_DEVICE, then the best). When none
/// matches or it cannot be created, prints why on stderr ("sedx-mem <command>: ...", with the
/// devices found) and returns null.
Ref<VulkanDevice> CreateToolDevice(const char* command, const VulkanDeviceOptions& options);

struct InfoOptions
{
    bool json = false;
    std::string device;
};
int RunInfo(const InfoOptions& options);

struct DemoOptions
{
    uint64_t frames = 900;
    int tiles = 5; // side of the square of resident tiles around the camera
    uint64_t seed = 42;
    uint64_t budgetMb = 0; // device-local heap limit that the scenery streams under (0: none)
    std::string strategy = "default";
    std::string device;
    std::string out = "demo-out";
    float defragThreshold = 0.2f;
    bool validation = false;
    bool quiet = false;
};
int RunDemo(const DemoOptions& options);

struct ReportOptions
{
    std::string input;  // a dump in VMA's JSON format
    std::string output; // .png or .html
};
/// Writes the memory map of `input`; on failure prints one line on stderr and returns 1.
int RunReport(const ReportOptions& options);
} // namespace SceneryEditorX::Tool
