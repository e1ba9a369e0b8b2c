#pragma once
// The sedx-mem subcommands.

#include <string>

namespace SceneryEditorX::Tool
{
struct InfoOptions
{
    bool json = false;
    std::string device;
};
int RunInfo(const InfoOptions& options);

struct DemoOptions
{
    std::string device;
    bool validation = false;
    bool quiet = false;
};
int RunDemo(const DemoOptions& options);
} // namespace SceneryEditorX::Tool
