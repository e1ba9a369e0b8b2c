// `sedx-mem demo`: Scenery Editor X streaming scenery on the default device. Tiles stream in and
// out around a moving camera through tagged allocators in Modules; every 60 frames the budget is
// checked and the DefragmentationManager starts a run when fragmentation passes its threshold or a
// compaction would give back enough memory; a run goes on over several frames (a byte limit per
// pass); after each run and at the end every resident resource is read back and verified.
// With --budget-mb N the scenery streams under a device-local heap of N MiB (SceneryBudget.h). Any
// load failure, mismatch or used memory above N ends the run with "demo FAILED: <why>" and exit 1.
// When streaming stops, frames go on until the frames in flight have retired; then every figure is
// taken once (DemoSurfaces.h), shown on every surface, and a disagreement between them fails the run.
#include "Commands.h"
#include "DemoSurfaces.h"
#include "MemoryMap.h"
#include "Scenery.h"
#include "SceneryBudget.h"
#include "Timeline.h"

#include <SceneryEditorX/Memory.h>
#include <SceneryEditorX/VmaDump/DumpModel.h>

#include <algorithm>
#include <atomic>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace SceneryEditorX::Tool
{
namespace
{
constexpr double kMiB = 1024.0 * 1024.0;

bool ParseStrategy(const std::string& name, MemoryAllocator::AllocationStrategy& out)
{
    if (name == "default")
        out = MemoryAllocator::AllocationStrategy::Default;
    else if (name == "speed")
        out = MemoryAllocator::AllocationStrategy::SpeedOptimized;
    else if (name == "memory")
        out = MemoryAllocator::AllocationStrategy::MemoryOptimized;
    else
        return false;
    return true;
}

void Progress(bool tty, uint64_t frame, uint64_t frames, size_t tiles, const AllocationStats& stats)
{
    if (tty)
    {
        const int width = 40;
        const int filled = static_cast<int>(width * (frame + 1) / frames);
        std::printf(
            "\r[%.*s%.*s] frame %llu/%llu  tiles %zu  used %.1f MiB  committed %.1f MiB  frag %.1f%%  ",
            filled, "########################################", width - filled,
            "                                        ", static_cast<unsigned long long>(frame + 1),
            static_cast<unsigned long long>(frames), tiles, stats.usedBytes / kMiB, stats.totalBytes / kMiB,
            stats.fragmentationRatio * 100.0f);
        std::fflush(stdout);
    }
    else if ((frame + 1) % 100 == 0 || frame + 1 == frames)
        std::printf("frame %llu/%llu: %zu tiles, used %.1f MiB, committed %.1f MiB, fragmentation %.1f%%\n",
                    static_cast<unsigned long long>(frame + 1), static_cast<unsigned long long>(frames),
                    tiles, stats.usedBytes / kMiB, stats.totalBytes / kMiB,
                    stats.fragmentationRatio * 100.0f);
}
} // namespace

int RunDemo(const DemoOptions& options)
{
    MemoryAllocator::AllocationStrategy strategy{};
    if (!ParseStrategy(options.strategy, strategy))
    {
        std::fprintf(stderr, "sedx-mem demo: unknown strategy '%s' (default, speed or memory)\n",
                     options.strategy.c_str());
        return 2;
    }
    Log::SetLevel(options.quiet ? LogLevel::Error : LogLevel::Warn);
    const bool tty = !options.quiet && isatty(fileno(stdout));

    VulkanDeviceOptions deviceOptions;
    deviceOptions.deviceSelector = options.device;
    deviceOptions.enableValidation = options.validation;
    Ref<VulkanDevice> device = CreateToolDevice("demo", deviceOptions);
    if (!device)
        return 1;
    const PhysicalDeviceInfo& info = device->GetInfo();
    std::printf("device: %s (%s, Vulkan %u.%u, %s)\n", info.name.c_str(), PhysicalDeviceTypeName(info.type),
                VK_API_VERSION_MAJOR(device->GetApiVersion()), VK_API_VERSION_MINOR(device->GetApiVersion()),
                info.driverInfo.c_str());

    AllocatorSettings settings;
    // Under --budget-mb: the device-local heap is limited to N MiB, and "used" is VMA's VkDeviceMemory
    // on it, watched at every vkAllocateMemory (staging, new mip chains and defragmentation included).
    const uint64_t budgetBytes = options.budgetMb * 1024ull * 1024ull;
    uint32_t budgetHeap = 0;
    static std::atomic<uint64_t> s_HeapUsed{0}, s_HeapPeak{0}; // the callback is a plain function
    s_HeapUsed = 0;
    s_HeapPeak = 0;
    if (options.budgetMb > 0)
    {
        const VkPhysicalDeviceMemoryProperties& mem = device->GetMemoryProperties();
        VkDeviceSize largest = 0;
        for (uint32_t h = 0; h < mem.memoryHeapCount; ++h)
        {
            const bool deviceLocal = (mem.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0;
            settings.heapSizeLimits.push_back(deviceLocal ? budgetBytes : 0);
            if (deviceLocal && mem.memoryHeaps[h].size > largest)
            {
                largest = mem.memoryHeaps[h].size;
                budgetHeap = h;
            }
        }
        // A budget of N with VMA's own usage, also where the device has VK_EXT_memory_budget (whose
        // usage covers the whole process).
        settings.simulateMemoryBudget = true;
        settings.deviceMemoryCallback =
            [budgetHeap](uint32_t heap, uint32_t, VkDeviceSize size, bool allocated)
        {
            if (heap != budgetHeap)
                return;
            if (!allocated)
            {
                s_HeapUsed -= size;
                return;
            }
            const uint64_t used = s_HeapUsed += size;
            uint64_t peak = s_HeapPeak.load();
            while (used > peak && !s_HeapPeak.compare_exchange_weak(peak, used))
            {
            }
        };
    }
    if (!MemoryAllocator::Init(device, VK_API_VERSION_1_3, settings))
    {
        std::printf("demo FAILED: the allocator did not initialize\n");
        return 1;
    }
    if (options.budgetMb > 0) // N is the budget, and used is VMA's VkDeviceMemory on the heap
        MemoryAllocator::SetSimulatedHeapBudget(budgetHeap, budgetBytes);

    std::error_code ec;
    std::filesystem::create_directories(options.out, ec);
    if (ec)
    {
        std::fprintf(stderr, "sedx-mem demo: cannot create %s: %s\n", options.out.c_str(),
                     ec.message().c_str());
        MemoryAllocator::Shutdown();
        return 1;
    }

    uint64_t mismatches = 0;
    uint64_t loadFailures = 0;
    uint64_t verifiedResources = 0;
    uint32_t defragRuns = 0;
    DefragmentationStats defragTotals;
    uint32_t runsCommittedFell = 0;                   // runs after which committed was below its start
    std::chrono::steady_clock::duration worstFrame{}; // the longest Update of a frame with a run
    struct
    {
        uint64_t frame = 0;
        uint64_t committed = 0;
        float fragmentation = 0.0f;
    } runStart;
    std::vector<TimelineSample> timeline;
    std::string outputError;
    bool outputsOk = true;
    std::vector<std::string> disagreements; // between the surfaces (DemoSurfaces.h)
    {
        Scenery scenery(options.seed, options.tiles, strategy);
        std::optional<SceneryBudget> budgetStreaming;
        if (options.budgetMb > 0)
        {
            budgetStreaming.emplace(budgetHeap, budgetBytes, options.tiles);
            scenery.EnableBudget(&*budgetStreaming);
        }
        uint64_t reductionFrames = 0;
        // The spec's policy, on simulated time (16.7 ms a frame) so that a seed always gives the same run.
        auto memoryModule = CreateRef<AllocatorModule>("Memory", strategy);
        memoryModule->OnAttach();
        DefragmentationPolicy policy;
        policy.fragmentationThreshold = options.defragThreshold;
        policy.minInterval = std::chrono::seconds(2);
        // At the demo's scale (tens of MiB): a run when 8 MiB would come back, 4 MiB moved a frame.
        policy.minReclaimableBytes = 8ull * 1024 * 1024;
        policy.options.maxBytesPerPass = 4ull * 1024 * 1024;
        DefragmentationManager manager(memoryModule->Allocator(), policy);
        const auto start = std::chrono::steady_clock::time_point{};
        auto& mesh = scenery.MeshAllocator();
        std::printf(
            "streaming %llu frames, %dx%d tiles around the camera (%dx%d in dense districts), seed %llu, "
            "strategy %s, defragment above %.0f%% fragmentation or 8 MiB reclaimable%s\n",
            static_cast<unsigned long long>(options.frames), SparseWindow(options.tiles),
            SparseWindow(options.tiles), DenseWindow(options.tiles), DenseWindow(options.tiles),
            static_cast<unsigned long long>(options.seed), options.strategy.c_str(),
            options.defragThreshold * 100.0f,
            options.budgetMb ? fmt::format(", device-local heaps limited to {} MiB", options.budgetMb).c_str()
                             : "");

        // One frame: streaming frames load and unload tiles and may start a defragmentation run; the
        // frames after them only finish what is in flight (a run, the readbacks, deferred destroys).
        auto runFrame = [&](uint64_t frame, bool streaming)
        {
            MemoryAllocator::SetCurrentFrameIndex(frame);
            if (streaming)
                scenery.Update(frame);
            const bool reduced = streaming && budgetStreaming && budgetStreaming->EndFrame(frame);
            reductionFrames += reduced ? 1 : 0;
            if (streaming && scenery.PendingChecks()) // after streaming, the loop below reads them
            {
                uint64_t checked = 0;
                mismatches += scenery.VerifyPending(&checked, false);
                verifiedResources += checked;
            }
            bool defragmented = false;
            if ((streaming && frame % 60 == 59) || manager.IsRunning())
            {
                const MemoryBudget budget = mesh->GetMemoryBudget();
                if (budget.isOverBudget && frame % 60 == 59)
                    std::printf("%sframe %llu: over budget: %.1f MiB used of %.1f MiB\n", tty ? "\n" : "",
                                static_cast<unsigned long long>(frame), budget.usedBytes / kMiB,
                                budget.totalBytes / kMiB);
                if (!manager.IsRunning())
                {
                    runStart.fragmentation = mesh->CalculateStats().fragmentationRatio;
                    runStart.committed = mesh->GetStats().totalBytes;
                    runStart.frame = frame;
                }
                const auto now = start + std::chrono::microseconds(16667) * frame;
                const auto updateStart = std::chrono::steady_clock::now();
                std::optional<DefragmentationStats> ds = manager.Update(now);
                if (ds || manager.IsRunning())
                    worstFrame = std::max(worstFrame, std::chrono::steady_clock::now() - updateStart);
                if (ds)
                {
                    const float before = runStart.fragmentation;
                    const uint64_t committedAfter = mesh->GetStats().totalBytes;
                    runsCommittedFell += committedAfter < runStart.committed ? 1 : 0;
                    defragmented = true;
                    ++defragRuns;
                    defragTotals.bytesMoved += ds->bytesMoved;
                    defragTotals.buffersMoved += ds->buffersMoved;
                    defragTotals.imagesMoved += ds->imagesMoved;
                    defragTotals.blocksFreed += ds->blocksFreed;
                    defragTotals.bytesFreed += ds->bytesFreed;
                    const float after = mesh->CalculateStats().fragmentationRatio;
                    uint64_t checked = 0;
                    const uint64_t bad = scenery.Verify(&checked);
                    mismatches += bad;
                    verifiedResources += checked;
                    std::printf(
                        "%sframes %llu-%llu: defragmented (%s): %.2f MiB moved (%u buffers, %u images), %u "
                        "blocks "
                        "freed (%.1f MiB), committed %.1f -> %.1f MiB, fragmentation %.1f%% -> %.1f%%, %.2f "
                        "ms; "
                        "verified %llu resources, %llu mismatches\n",
                        tty ? "\n" : "", static_cast<unsigned long long>(runStart.frame),
                        static_cast<unsigned long long>(frame),
                        DefragmentationTriggerName(manager.GetLastTrigger()), ds->bytesMoved / kMiB,
                        ds->buffersMoved, ds->imagesMoved, ds->blocksFreed, ds->bytesFreed / kMiB,
                        runStart.committed / kMiB, committedAfter / kMiB, before * 100.0f, after * 100.0f,
                        std::chrono::duration<double, std::milli>(ds->duration).count(),
                        static_cast<unsigned long long>(checked), static_cast<unsigned long long>(bad));
                }
            }
            const AllocationStats stats = mesh->GetStats();
            const MemoryBudget budget = mesh->GetMemoryBudget();
            timeline.push_back(TimelineSample{
                frame, stats.usedBytes, stats.totalBytes, budget.totalBytes, stats.fragmentationRatio,
                static_cast<uint32_t>(scenery.ResidentTiles()), defragmented, reduced, stats.peakUsedBytes});
            if (!options.quiet && streaming)
                Progress(tty, frame, options.frames, scenery.ResidentTiles(), stats);
        };
        for (uint64_t frame = 0; frame < options.frames; ++frame)
            runFrame(frame, true);
        if (tty)
            std::printf("\n");

        uint64_t checked = 0;
        const uint64_t bad = scenery.Verify(&checked);
        mismatches += bad;
        verifiedResources += checked;
        // Resources that found no room to be read back yet: frames go on (nothing streams) until the
        // memory that the rounds released is back, then whatever still cannot be read counts.
        const uint32_t framesInFlight = MemoryAllocator::GetSettings().framesInFlight;
        uint64_t frame = options.frames;
        for (uint64_t extra = 1; scenery.PendingChecks(); ++extra, ++frame)
        {
            runFrame(frame, false);
            mismatches += scenery.VerifyPending(&checked, extra > framesInFlight + 1);
            verifiedResources += checked;
        }
        // Then until a run in flight has ended and the frames in flight after the last of it have
        // retired: from then on VMA holds no deferred destroy that its tag no longer counts, and the
        // figures of every surface are taken at that one frame.
        for (uint64_t quiet = 0; manager.IsRunning() || quiet <= framesInFlight; ++frame)
        {
            quiet = manager.IsRunning() ? 0 : quiet + 1;
            runFrame(frame, false);
        }
        const SceneryCounters& c = scenery.Counters();
        loadFailures = c.loadFailures;
        std::printf("streamed: %llu tiles loaded, %llu unloaded, %llu load failures, %.1f MiB uploaded\n",
                    static_cast<unsigned long long>(c.tilesLoaded),
                    static_cast<unsigned long long>(c.tilesUnloaded),
                    static_cast<unsigned long long>(c.loadFailures), c.bytesUploaded / kMiB);
        std::printf("defragmentation: %u runs, %.2f MiB moved, %u buffers and %u images moved, %u blocks "
                    "freed (%.1f MiB), committed fell in %u of %u runs, worst frame %.2f ms\n",
                    defragRuns, defragTotals.bytesMoved / kMiB, defragTotals.buffersMoved,
                    defragTotals.imagesMoved, defragTotals.blocksFreed, defragTotals.bytesFreed / kMiB,
                    runsCommittedFell, defragRuns,
                    std::chrono::duration<double, std::milli>(worstFrame).count());
        if (budgetStreaming)
        {
            const BudgetCounters& b = budgetStreaming->Counters();
            std::printf(
                "budget: %llu MiB on heap %u; peak used %.1f MiB (VkDeviceMemory on the heap, at every "
                "vkAllocateMemory)\n",
                static_cast<unsigned long long>(options.budgetMb), budgetHeap, s_HeapPeak.load() / kMiB);
            std::printf(
                "detail: reduced %llu times (%llu mip drops, %llu outer tiles unloaded) in %llu frames, "
                "restored %llu times; mean resident LOD %.2f (top mips dropped per texture); %llu loads "
                "waited for the frame a round named\n",
                static_cast<unsigned long long>(b.reductions), static_cast<unsigned long long>(b.mipDrops),
                static_cast<unsigned long long>(b.tileUnloads),
                static_cast<unsigned long long>(reductionFrames),
                static_cast<unsigned long long>(b.restorations), budgetStreaming->MeanResidentLod(),
                static_cast<unsigned long long>(b.postponedLoads));
            // Loads, LOD changes and readbacks check room first; what the check let through and
            // VMA refused all the same (free bytes not in one piece) is each one error line on stderr.
            std::printf("allocations refused for lack of room: %llu (each retried later)\n",
                        static_cast<unsigned long long>(b.attemptsRefused));
        }
        std::printf("integrity: %llu resources verified, %llu mismatches\n",
                    static_cast<unsigned long long>(verifiedResources),
                    static_cast<unsigned long long>(mismatches));

        // Every surface's figures, taken once at the last frame (DemoSurfaces.h): the summary and
        // tag table print them, the JSON and the map draw the same dump. The timeline's last row is
        // that frame's own GetStats, taken just before with nothing allocated or freed between:
        // CheckDemoSurfaces compares the two, so a surface that counted differently would show.
        const DemoFigures figures = TakeDemoFigures(*mesh, frame - 1);
        PrintDemoFigures(figures);
        if (!options.quiet)
        {
            Log::SetLevel(LogLevel::Info);
            mesh->PrintDetailedStats();
            Log::SetLevel(LogLevel::Warn);
        }

        // Pictures and data of the final state, before the tiles are unloaded.
        const std::filesystem::path out(options.out);
        std::ofstream(out / "stats.json") << figures.json;
        const std::string moment = DemoMoment(figures);
        std::optional<detail::DumpModel> model = detail::ParseVmaDump(figures.json, outputError);
        outputsOk = model &&
                    WriteMemoryMapPng(*model, (out / "memory-map.png").string(), outputError, moment) &&
                    WriteMemoryMapHtml(*model, (out / "memory-map.html").string(), outputError, moment) &&
                    WriteMemoryMapLegendCsv(*model, (out / "memory-map-legend.csv").string(), outputError) &&
                    WriteTimelineCsv(timeline, (out / "timeline.csv").string(), outputError) &&
                    WriteTimelinePng(timeline, (out / "timeline.png").string(), outputError);
        if (outputsOk)
            std::printf("\nwrote %s/{stats.json, memory-map.png, memory-map.html, memory-map-legend.csv, "
                        "timeline.csv, timeline.png}, all %s\n",
                        options.out.c_str(), moment.c_str());
        else
            std::fprintf(stderr, "sedx-mem demo: writing the outputs failed: %s\n", outputError.c_str());
        if (model)
            disagreements = DemoSurfaceDisagreements(figures, *model, timeline);
        for (const std::string& d : disagreements)
            std::printf("surfaces disagree: %s\n", d.c_str());

        scenery.UnloadAll();
        memoryModule->OnDetach();
    }
    MemoryAllocator::Shutdown();
    // Every failure is named; the last line says the first.
    std::vector<std::string> failures;
    if (loadFailures)
        failures.push_back(
            options.budgetMb
                ? fmt::format(
                      "{} load failures: a budget of {} MiB is too small for the lowest detail of the "
                      "resident tiles",
                      loadFailures, options.budgetMb)
                : fmt::format("{} load failures", loadFailures));
    if (options.budgetMb && s_HeapPeak.load() > budgetBytes)
        failures.push_back(fmt::format("used {:.1f} MiB, above the budget of {} MiB",
                                       s_HeapPeak.load() / kMiB, options.budgetMb));
    if (mismatches)
        failures.push_back(fmt::format("{} mismatches", mismatches));
    if (!outputsOk)
        failures.push_back("writing the outputs failed");
    if (!disagreements.empty())
        failures.push_back(fmt::format("{} figures differ between the surfaces (first: {})",
                                       disagreements.size(), disagreements.front()));
    if (options.validation && device->GetValidationErrorCount() + device->GetValidationWarningCount() > 0)
        failures.push_back(fmt::format("validation reported {} errors and {} warnings",
                                       device->GetValidationErrorCount(),
                                       device->GetValidationWarningCount()));
    if (failures.empty())
    {
        std::printf("demo ok\n");
        return 0;
    }
    std::string why = failures[0];
    for (size_t i = 1; i < failures.size(); ++i)
        why += "; " + failures[i];
    std::printf("demo FAILED: %s\n", why.c_str());
    return 1;
}
} // namespace SceneryEditorX::Tool
