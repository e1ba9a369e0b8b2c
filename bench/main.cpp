// sedx-bench: every scenario of the memory system's benchmark suite in one process, side by side
// with its baselines, then a short ratio table.
//
//   sedx-bench [--quick] [--out=FILE] [Google Benchmark flags...]
//
//   --quick      a smoke run of a few seconds (CTest's bench_smoke); the figures are not meaningful
//   --out=FILE   Google Benchmark's JSON of every run (default: <build dir>/bench-results.json);
//                the ratio table goes next to it as FILE with ".ratios.json" for ".json"
//   --iterations=N  a fixed iteration count for every scenario that has no count of its own, no
//                repetitions (for profiling, e.g. under valgrind --tool=callgrind with a filter)
//   Google Benchmark's own flags pass through (--benchmark_filter=..., --benchmark_repetitions=...).
//   SEDX_BENCH_T10_MIB=N  live mebibytes the large trace (i/, T10) ramps to (default: half the
//                largest device-local heap up to 4 GiB of heap, 8 GiB above; 128 in --quick)
//
// The exit status is non-zero when a benchmark reported an error or the allocator logged one.
#include "BenchCommon.h"
#include "RatioTable.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#ifndef SEDX_BENCH_DEFAULT_OUT
#define SEDX_BENCH_DEFAULT_OUT "bench-results.json"
#endif

using namespace SceneryEditorX;
using namespace SceneryEditorX::Bench;

namespace
{
void PrintUsage()
{
    std::printf("usage: sedx-bench [--quick] [--out=FILE] [Google Benchmark flags]\n"
                "  --quick     smoke run of a few seconds; figures not meaningful\n"
                "  --out=FILE  JSON of every run (default %s); the ratio table is written next to it\n"
                "              as FILE.ratios.json\n"
                "  --iterations=N  fixed iteration count, no repetitions (profiling runs)\n"
                "  SEDX_BENCH_T10_MIB=N  live MiB of the large trace (T10); default half the largest\n"
                "              device-local heap up to a 4 GiB heap, 8 GiB above\n\n",
                SEDX_BENCH_DEFAULT_OUT);
}

std::string RatiosPath(const std::string& out)
{
    const std::string ext = ".json";
    if (out.size() > ext.size() && out.compare(out.size() - ext.size(), ext.size(), ext) == 0)
        return out.substr(0, out.size() - ext.size()) + ".ratios.json";
    return out + ".ratios.json";
}

std::string UtcNow()
{
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

nlohmann::json DeviceSetup()
{
    const VulkanDevice& d = Device();
    const DeviceCapabilities& c = d.GetCapabilities();
    const auto& mem = d.GetMemoryProperties();
    nlohmann::json types = nlohmann::json::array();
    for (uint32_t t = 0; t < mem.memoryTypeCount; ++t)
        types.push_back(
            {{"heap", mem.memoryTypes[t].heapIndex}, {"flags", mem.memoryTypes[t].propertyFlags}});
    nlohmann::json heaps = nlohmann::json::array();
    for (uint32_t h = 0; h < mem.memoryHeapCount; ++h)
        heaps.push_back({{"size", mem.memoryHeaps[h].size}, {"flags", mem.memoryHeaps[h].flags}});
    return {
        {"name", d.GetInfo().name},
        {"type", PhysicalDeviceTypeName(d.GetInfo().type)},
        {"driver", d.GetInfo().driverName + " " + d.GetInfo().driverInfo},
        {"api", std::to_string(VK_API_VERSION_MAJOR(d.GetApiVersion())) + "." +
                    std::to_string(VK_API_VERSION_MINOR(d.GetApiVersion()))},
        {"validation", d.IsValidationEnabled()},
        {"capabilities",
         {{"memoryBudget", c.memoryBudget},
          {"memoryPriority", c.memoryPriority},
          {"bufferDeviceAddress", c.bufferDeviceAddress},
          {"maintenance4", c.maintenance4},
          {"dedicatedAllocation", c.dedicatedAllocation},
          {"bindMemory2", c.bindMemory2}}},
        {"memoryTypes", types},
        {"memoryHeaps", heaps},
        {"allocatorSettings", "AllocatorSettings{} (defaults); forceGpuDefragmentationCopies only in (g)"}};
}
} // namespace

int main(int argc, char** argv)
{
    std::string out = SEDX_BENCH_DEFAULT_OUT;
    bool userBenchmarkOut = false;
    std::vector<std::string> passThrough{argv[0]};
    std::string command;
    for (int i = 0; i < argc; ++i)
    {
        if (i)
            command.push_back(' ');
        command.append(argv[i]);
    }
    for (int i = 1; i < argc; ++i)
    {
        const std::string arg = argv[i];
        if (arg == "--quick")
            GetOptions().quick = true;
        else if (arg.rfind("--iterations=", 0) == 0)
            GetOptions().iterations = std::max<int64_t>(0, std::atoll(arg.c_str() + 13));
        else if (arg.rfind("--out=", 0) == 0)
            out = arg.substr(6);
        else if (arg == "--out" && i + 1 < argc)
            out = argv[++i];
        else
        {
            if (arg == "--help" || arg == "-h")
                PrintUsage();
            if (arg.rfind("--benchmark_out=", 0) == 0)
            {
                userBenchmarkOut = true;
                out = arg.substr(16);
            }
            passThrough.push_back(arg);
        }
    }
    if (!userBenchmarkOut)
    {
        passThrough.push_back("--benchmark_out=" + out);
        passThrough.push_back("--benchmark_out_format=json");
    }
    std::vector<char*> gbArgv;
    for (std::string& a : passThrough)
        gbArgv.push_back(a.data());
    gbArgv.push_back(nullptr);
    int gbArgc = static_cast<int>(passThrough.size());
    benchmark::Initialize(&gbArgc, gbArgv.data());
    if (benchmark::ReportUnrecognizedArguments(gbArgc, gbArgv.data()))
        return 2;

    // Info lines (Init/Shutdown of every session) would drown the report; warnings and errors stay
    // and are counted.
    Log::SetLevel(LogLevel::Warn);
    LogCapture capture;

    if (!CreateDevice())
    {
        std::fprintf(stderr, "sedx-bench: no Vulkan device\n");
        return 1;
    }
    if (!UseSession(SessionKind::Default) || !SharedRawVma())
    {
        std::fprintf(stderr, "sedx-bench: could not initialize the allocators\n");
        return 1;
    }

    nlohmann::json setup;
    setup["device"] = DeviceSetup();
    setup["raw_vma"] = RawVmaSetup();
    benchmark::AddCustomContext("sedx_device", Device().GetInfo().name);
    benchmark::AddCustomContext("sedx_driver",
                                Device().GetInfo().driverName + " " + Device().GetInfo().driverInfo);
    benchmark::AddCustomContext("sedx_raw_vma_setup", setup["raw_vma"].dump());
    benchmark::AddCustomContext("sedx_device_setup", setup["device"].dump());
    benchmark::AddCustomContext("sedx_quick", GetOptions().quick ? "true" : "false");

    RegisterAllocationBenchmarks();
    RegisterBatchBenchmarks();
    RegisterThreadBenchmarks();
    RegisterSteadyChurnBenchmarks();
    RegisterDefragBenchmarks();
    RegisterChurnTraceBenchmarks();
    RegisterLargeTraceBenchmarks();
    RegisterStatsBenchmarks(); // last: it keeps up to 100,000 live allocations between its benchmarks

    const bool color = isatty(STDOUT_FILENO) != 0;
    CapturingReporter reporter(color ? benchmark::ConsoleReporter::OO_Color
                                     : benchmark::ConsoleReporter::OO_None);
    const auto t0 = std::chrono::steady_clock::now();
    benchmark::RunSpecifiedBenchmarks(&reporter);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    EndSession();
    DestroySharedRawVma();

    TableContext context;
    context.device = Device().GetInfo().name + " (" + PhysicalDeviceTypeName(Device().GetInfo().type) + ")";
    context.date = UtcNow();
    context.command = command;
    context.quick = GetOptions().quick;
    context.setup = setup;
    nlohmann::json table = PrintRatioTable(reporter.GetResults(), context, Extras());
    table["run_seconds"] = seconds;

    const size_t logErrors = capture.Count(LogLevel::Error);
    const size_t logWarnings = capture.Count(LogLevel::Warn);
    table["allocator_log"] = {{"errors", logErrors}, {"warnings", logWarnings}};
    const std::string ratiosPath = RatiosPath(out);
    {
        std::ofstream file(ratiosPath);
        file << table.dump(2) << "\n";
        if (!file)
            std::fprintf(stderr, "sedx-bench: could not write %s\n", ratiosPath.c_str());
    }
    std::printf("\nrun time %.1f s; full figures: %s; ratio table: %s\n", seconds, out.c_str(),
                ratiosPath.c_str());
    std::printf("allocator log: %zu errors, %zu warnings\n", logErrors, logWarnings);
    int shown = 0;
    for (const LogRecord& rec : capture.Records())
        if (rec.level >= LogLevel::Warn && shown++ < 8)
            std::printf("  [%s] %s\n", rec.tag.c_str(), rec.message.c_str());

    const Results& results = reporter.GetResults();
    for (const std::string& message : results.ErrorMessages())
        std::fprintf(stderr, "benchmark error: %s\n", message.c_str());
    DestroyDevice();
    benchmark::Shutdown();
    return (results.Errors() > 0 || logErrors > 0) ? 1 : 0;
}
