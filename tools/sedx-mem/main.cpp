// sedx-mem: the command-line tool of the Scenery Editor X memory system.
#include "Commands.h"
#include "Report.h"

#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdio>
#include <string>
#include <system_error>

namespace
{
/// A whole number that fits uint64_t: CLI11 alone would saturate 99999999999999999999 to 2^64 - 1.
CLI::Validator FitsUint64()
{
    return CLI::Validator(
        [](std::string& text) -> std::string
        {
            uint64_t value = 0;
            const char* end = text.data() + text.size();
            const auto [at, ec] = std::from_chars(text.data(), end, value);
            if (ec == std::errc::result_out_of_range)
                return "'" + text + "' is out of range (0 to 18446744073709551615)";
            if (ec != std::errc() || at != end)
                return "'" + text + "' is not a whole number from 0 to 18446744073709551615";
            return {};
        },
        "UINT64");
}

/// The resident tiles are a square centred on the camera's tile, so its side is odd.
CLI::Validator OddTiles()
{
    return CLI::Validator(
        [](std::string& text) -> std::string
        {
            int value = 0;
            const char* end = text.data() + text.size();
            const auto [at, ec] = std::from_chars(text.data(), end, value);
            if (ec == std::errc() && at == end && value % 2 == 0)
                return text + " is even: the tiles are a square centred on the camera's tile, so its side is "
                              "odd (1, 3, 5, ... 15)";
            return {};
        },
        "ODD");
}

/// Checked before CLI11 parses: it says "A subcommand is required" for a command it does not know.
/// Returns the unknown command's name, or nothing when the first word is a command or an option.
const char* UnknownCommand(const CLI::App& app, int argc, char** argv)
{
    if (argc < 2 || argv[1][0] == '-')
        return nullptr;
    for (const CLI::App* sub : app.get_subcommands({}))
        if (sub->get_name() == argv[1])
            return nullptr;
    return argv[1];
}
} // namespace

int main(int argc, char** argv)
{
    using namespace SceneryEditorX::Tool;
    CLI::App app{"sedx-mem: the Scenery Editor X GPU memory system"};
    app.require_subcommand(1);

    InfoOptions info;
    CLI::App* infoCmd = app.add_subcommand(
        "info", "Vulkan devices, heaps, memory types and the extensions the allocator uses");
    infoCmd->add_flag("--json", info.json, "print JSON");
    infoCmd->add_option("--device", info.device,
                        "device index or name part (default: SEDX_DEVICE, then the best)");

    DemoOptions demo;
    CLI::App* demoCmd =
        app.add_subcommand("demo", "stream scenery tiles through the allocator on the default device");
    demoCmd->add_option("--frames", demo.frames, "frames to run")->check(CLI::Range(1, 1000000));
    demoCmd->add_option("--tiles", demo.tiles, "side of the square of resident tiles (odd)")
        ->check(CLI::Range(1, 15))
        ->check(OddTiles());
    demoCmd->add_option("--seed", demo.seed, "seed; the same seed gives the same run")->check(FitsUint64());
    demoCmd
        ->add_option("--budget-mb", demo.budgetMb,
                     "stream under a device-local heap of this many MiB: detail is reduced and "
                     "restored to stay within it (0: no limit)")
        ->check(CLI::Range(0, 1 << 20));
    demoCmd->add_option("--strategy", demo.strategy, "allocation strategy")
        ->check(CLI::IsMember({"default", "speed", "memory"}));
    demoCmd
        ->add_option("--defrag-threshold", demo.defragThreshold, "defragment above this fragmentation ratio")
        ->check(CLI::Range(0.0, 1.0));
    demoCmd->add_option("--device", demo.device,
                        "device index or name part (default: SEDX_DEVICE, then the best)");
    demoCmd->add_option("--out", demo.out, "output folder for stats.json, the memory map and the timeline");
    demoCmd->add_flag("--validation", demo.validation, "enable the Khronos validation layer");
    demoCmd->add_flag("--quiet", demo.quiet, "print only the summary");

    ReportOptions report;
    CLI::App* reportCmd = app.add_subcommand("report", "draw the memory map of a dump in VMA's JSON format");
    reportCmd->add_option("stats", report.input, "the dump (vmaBuildStatsString with the detailed map)")
        ->required();
    reportCmd
        ->add_option("-o,--output", report.output, "the picture: a .png, or an .html with details on hover")
        ->required()
        ->check(CLI::Validator(
            [](std::string& path)
            {
                return ReportFormatOf(path) == ReportFormat::Unknown
                           ? "unknown output format '" + path + "': the name must end in .png or .html"
                           : std::string();
            },
            "FILE.png|FILE.html", "png or html"));

    if (const char* unknown = UnknownCommand(app, argc, argv))
    {
        std::string names;
        for (const CLI::App* sub : app.get_subcommands({}))
            names += (names.empty() ? "" : ", ") + sub->get_name();
        std::fprintf(stderr, "sedx-mem: unknown command '%s'; the commands are %s%s\n", unknown,
                     names.c_str(),
                     std::string(unknown) == "bench"
                         ? " (the benchmarks are a separate program: sedx-bench, which make bench runs)"
                         : "");
        app.name("sedx-mem");
        std::fputs(app.help().c_str(), stderr);
        return 2;
    }
    try
    {
        app.parse(argc, argv);
    }
    catch (const CLI::ParseError& e)
    {
        if (e.get_exit_code() != 0)
        {
            app.exit(e);
            // The usage of the subcommand that was given, else of the tool.
            const CLI::App* usage = &app;
            for (const CLI::App* sub : app.get_subcommands())
                usage = sub;
            std::fputs(usage->help().c_str(), stderr);
            return 2;
        }
        return app.exit(e);
    }
    if (infoCmd->parsed())
        return RunInfo(info);
    if (reportCmd->parsed())
        return RunReport(report);
    return RunDemo(demo);
}
