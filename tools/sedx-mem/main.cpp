// sedx-mem: the command-line tool of the Scenery Editor X memory system.
#include "Commands.h"

#include <CLI/CLI.hpp>

int main(int argc, char** argv)
{
    using namespace SceneryEditorX::Tool;
    CLI::App app{"sedx-mem: the Scenery Editor X GPU memory system"};
    app.require_subcommand(1);

    InfoOptions info;
    CLI::App* infoCmd = app.add_subcommand("info", "Vulkan devices, heaps, memory types and the extensions the allocator uses");
    infoCmd->add_flag("--json", info.json, "print JSON");
    infoCmd->add_option("--device", info.device, "device index or name part (default: SEDX_DEVICE, then the best)");

    DemoOptions demo;
    CLI::App* demoCmd = app.add_subcommand("demo", "run the allocator on the default device");
    demoCmd->add_option("--device", demo.device, "device index or name part (default: SEDX_DEVICE, then the best)");
    demoCmd->add_flag("--validation", demo.validation, "enable the Khronos validation layer");
    demoCmd->add_flag("--quiet", demo.quiet, "print only the summary");

    try
    {
        app.parse(argc, argv);
    }
    catch (const CLI::ParseError& e)
    {
        if (e.get_exit_code() != 0)
        {
            app.exit(e);
            std::fputs(app.help().c_str(), stderr);
            return 2;
        }
        return app.exit(e);
    }
    if (infoCmd->parsed())
        return RunInfo(info);
    return RunDemo(demo);
}
