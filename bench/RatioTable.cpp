// The ratio table (see RatioTable.h). Every figure comes from this run's results; a target whose
// figures are missing is reported as "not measured", never as met.
#include "RatioTable.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace SceneryEditorX::Bench
{
namespace
{
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double Median(std::vector<double> v)
{
    if (v.empty())
        return kNaN;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

Figure FromRun(const benchmark::BenchmarkReporter::Run& run)
{
    Figure f;
    const double multiplier = benchmark::GetTimeUnitMultiplier(run.time_unit);
    f.realNs = run.GetAdjustedRealTime() * 1e9 / multiplier;
    f.cpuNs = run.GetAdjustedCPUTime() * 1e9 / multiplier;
    f.iterations = run.iterations;
    for (const auto& [name, counter] : run.counters)
        f.counters[name] = counter.value;
    return f;
}

std::string Key(const std::string& name, int64_t threads)
{
    return name + "@" + std::to_string(threads);
}
} // namespace

double Figure::Counter(const std::string& name) const
{
    auto it = counters.find(name);
    return it == counters.end() ? kNaN : it->second;
}

void Results::Add(const benchmark::BenchmarkReporter::Run& run)
{
    if (run.error_occurred)
    {
        ++m_Errors;
        m_ErrorMessages.push_back(run.benchmark_name() + ": " + run.error_message);
        return;
    }
    std::string name = run.run_name.function_name;
    if (!run.run_name.args.empty())
        name += "/" + run.run_name.args;
    Entry& e = m_Entries[Key(name, run.threads)];
    if (run.run_type == benchmark::BenchmarkReporter::Run::RT_Aggregate)
    {
        if (run.aggregate_name == "median")
            e.median = FromRun(run);
        return;
    }
    e.runs.push_back(FromRun(run));
}

const Figure* Results::Get(const std::string& name, int threads) const
{
    auto it = m_Entries.find(Key(name, threads));
    if (it == m_Entries.end())
        return nullptr;
    Entry& e = it->second;
    if (e.median)
        return &*e.median;
    if (e.runs.empty())
        return nullptr;
    if (e.runs.size() == 1)
        return &e.runs.front();
    // Several rounds (or repetitions without an aggregate): the median of each figure.
    e.merged = Figure{};
    std::vector<double> real, cpu;
    for (const Figure& f : e.runs)
    {
        real.push_back(f.realNs);
        cpu.push_back(f.cpuNs);
    }
    e.merged.realNs = Median(real);
    e.merged.cpuNs = Median(cpu);
    e.merged.iterations = e.runs.front().iterations;
    e.merged.rounds = static_cast<int>(e.runs.size());
    for (const auto& [counter, unused] : e.runs.front().counters)
    {
        std::vector<double> values;
        for (const Figure& f : e.runs)
            values.push_back(f.Counter(counter));
        e.merged.counters[counter] = Median(values);
    }
    return &e.merged;
}

nlohmann::json Results::AllFigures() const
{
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, entry] : m_Entries)
    {
        const auto at = key.rfind('@');
        const Figure* f = Get(key.substr(0, at), std::stoi(key.substr(at + 1)));
        if (!f)
            continue;
        nlohmann::json counters = nlohmann::json::object();
        for (const auto& [name, value] : f->counters)
            counters[name] = std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
        out[key] = {{"real_ns", f->realNs},
                    {"cpu_ns", f->cpuNs},
                    {"iterations", f->iterations},
                    {"rounds", f->rounds},
                    {"counters", counters}};
    }
    return out;
}

void CapturingReporter::ReportRuns(const std::vector<Run>& reports)
{
    for (const Run& run : reports)
        m_Results.Add(run);
    benchmark::ConsoleReporter::ReportRuns(reports);
}

// ------------------------------------------------------------------ the table
namespace
{
struct Row
{
    std::string scenario;
    std::string unit;
    double ours = kNaN;
    double raw = kNaN;
    double perResource = kNaN;
    double floor = kNaN;
    double ratio = kNaN; // ours / raw VMA
    std::string note;
};

struct Target
{
    std::string id;
    std::string text;
    std::string status; // met, missed, not measured
    std::string figure;
    std::string scope;
};

bool Valid(double v)
{
    return std::isfinite(v);
}

std::string Num(double v)
{
    if (!Valid(v))
        return "-";
    char buf[64];
    const double a = std::fabs(v);
    if (a >= 1000)
        std::snprintf(buf, sizeof buf, "%.0f", v);
    else if (a >= 100)
        std::snprintf(buf, sizeof buf, "%.1f", v);
    else if (a >= 1)
        std::snprintf(buf, sizeof buf, "%.2f", v);
    else
        std::snprintf(buf, sizeof buf, "%.3f", v);
    return buf;
}

std::string Fmt(const char* format, double v)
{
    if (!Valid(v))
        return "-";
    char buf[96];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

nlohmann::json JsonNum(double v)
{
    return Valid(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

std::string Status(bool measured, bool met)
{
    return !measured ? "not measured" : met ? "met" : "missed";
}

class TableBuilder
{
public:
    explicit TableBuilder(const Results& results) : r(results) {}

    // Single-thread rows use the benchmark thread's CPU time: all their work (ours, VMA and the
    // driver's create/bind/destroy) runs on that thread, and on a shared machine it is far less
    // disturbed by other processes than wall time. Threads (d) and defragmentation (g) use wall time
    // through their counters.
    double Ns(const std::string& name, int threads = 1) const
    {
        const Figure* f = r.Get(name, threads);
        return f ? f->cpuNs : kNaN;
    }
    double Counter(const std::string& name, const std::string& counter, int threads = 1) const
    {
        const Figure* f = r.Get(name, threads);
        return f ? f->Counter(counter) : kNaN;
    }

    void Build()
    {
        BuildPairs();
        BuildImages();
        BuildBatch();
        BuildThreads();
        BuildStats();
        BuildTrace();
        BuildLargeTrace();
        BuildDefrag();
        BuildChurn();
    }

    std::vector<Row> rows;
    std::vector<Target> targets;
    std::string defaultPairAboveFloor; // BuildPairs, for T2's figure (BuildChurn)

private:
    const Results& r;

    void Add(Row row)
    {
        if (Valid(row.ours) && Valid(row.raw) && row.raw != 0 && !Valid(row.ratio))
            row.ratio = row.ours / row.raw;
        rows.push_back(std::move(row));
    }

    // (a) T1; the Default pair's distance from the driver floor goes beside T2 (BuildChurn).
    void BuildPairs()
    {
        bool t1Measured = true, t1Met = true;
        std::string t1Figure;
        for (const char* usage : {"GPU_ONLY", "CPU_TO_GPU"})
        {
            const std::string p = std::string("a/pair/") + usage + "/";
            Row row{std::string("(a) buffer pair ") + usage, "ns/pair"};
            row.ours = Ns(p + "ours");
            row.raw = Ns(p + "raw_vma");
            row.perResource = Ns(p + "alloc_per_resource");
            row.floor = Ns(p + "driver_floor");
            const double above = row.ours - row.floor;
            const double vmaAbove = row.raw - row.floor;
            row.note = "ours-floor " + Num(above) + " ns, VMA-floor " + Num(vmaAbove) + " ns";
            const bool m1 = Valid(row.ours) && Valid(row.raw);
            t1Measured = t1Measured && m1;
            t1Met = t1Met && m1 && row.ours <= 1.05 * row.raw;
            t1Figure +=
                std::string(t1Figure.empty() ? "" : ", ") + usage + " " + Fmt("%.2fx", row.ours / row.raw);
            defaultPairAboveFloor +=
                std::string(defaultPairAboveFloor.empty() ? "" : ", ") + usage + " " + Num(above) + " ns";
            Add(row);
        }
        targets.push_back({"T1",
                           "AllocateBuffer+DestroyBuffer <= 1.05 x raw vmaCreateBuffer+vmaDestroyBuffer",
                           Status(t1Measured, t1Met), "ours/raw: " + t1Figure, "both devices"});
    }

    // (b)
    void BuildImages()
    {
        for (int side : {256, 512, 1024, 2048})
        {
            const std::string p = "b/image/" + std::to_string(side) + "/";
            Row row{"(b) image " + std::to_string(side) + "^2 RGBA8 mips", "ns/pair"};
            row.ours = Ns(p + "ours");
            row.raw = Ns(p + "raw_vma");
            row.floor = Ns(p + "driver_floor");
            row.note = "ours-floor " + Num(row.ours - row.floor) + " ns";
            Add(row);
        }
    }

    // (c) T3
    void BuildBatch()
    {
        const std::string p = "c/batch1024/";
        Row row{"(c) 1024 buffers, create+free", "us/batch"};
        row.ours = Ns(p + "ours_batch") / 1e3;
        row.raw = Ns(p + "raw_vma") / 1e3;
        row.floor = Ns(p + "driver_floor") / 1e3;
        const double singles = Ns(p + "ours_singles") / 1e3;
        row.note = "1024 single AllocateBuffer: " + Num(singles) + " us";
        Add(row);
        Row speed{"(c) 1024 buffers, SpeedOptimized batch", "us/batch"};
        speed.ours = Ns(p + "ours_batch_speed") / 1e3;
        speed.raw = row.raw;
        speed.floor = row.floor;
        speed.note = "from the reuse cache after the first iteration";
        Add(speed);
        Row create{"(c) 1024 buffers, create only", "us/batch"};
        create.ours = Counter(p + "ours_batch", "create_ns") / 1e3;
        create.raw = Counter(p + "raw_vma", "create_ns") / 1e3;
        create.floor = Counter(p + "driver_floor", "create_ns") / 1e3;
        create.note =
            "1024 single AllocateBuffer: " + Num(Counter(p + "ours_singles", "create_ns") / 1e3) + " us";
        Add(create);
        const double speedup = row.raw / row.ours;
        const double createSpeedup = create.raw / create.ours;
        const double speedSpeedup = row.raw / speed.ours;
        // Met by the SpeedOptimized batch (the reuse cache); the Default batch's figure stands beside it.
        targets.push_back({"T3", "batch of 1024 >= 2 x faster than 1024 raw vmaCreateBuffer (create+free)",
                           Status(Valid(speedSpeedup), speedSpeedup >= 2.0),
                           "SpeedOptimized raw/batch " + Fmt("%.2fx", speedSpeedup) + "; Default raw/batch " +
                               Fmt("%.2fx", speedup) + " (create only " + Fmt("%.2fx", createSpeedup) +
                               "); Default batch against 1024 of our singles " +
                               Fmt("%.2fx", singles / row.ours) + " (issue 15 asks 1.5x)",
                           "both devices"});
    }

    // (d) T4
    void BuildThreads()
    {
        double ours1 = kNaN, ours8 = kNaN, raw8 = kNaN, default1 = kNaN, default8 = kNaN;
        for (const char* variant : {"ours_speed", "ours", "ours_speed_own_tag"})
            for (int t : {1, 2, 4, 8, 16})
            {
                const std::string v(variant);
                const bool speed = v == "ours_speed";
                const char* label = speed         ? "SpeedOptimized "
                                    : v == "ours" ? "Default "
                                                  : "Speed, tag/thread ";
                Row row{"(d) " + std::string(label) + std::to_string(t) + " thread" + (t > 1 ? "s" : ""),
                        "M pairs/s"};
                row.ours = Counter(std::string("d/threads/") + variant, "pairs_per_s", t) / 1e6;
                row.raw = Counter("d/threads/raw_vma", "pairs_per_s", t) / 1e6;
                row.floor = Counter("d/threads/driver_floor", "pairs_per_s", t) / 1e6;
                if (speed || v == "ours")
                {
                    if (t == 1)
                        (speed ? ours1 : default1) = row.ours;
                    if (t == 8)
                    {
                        (speed ? ours8 : default8) = row.ours;
                        raw8 = row.raw;
                    }
                }
                row.note = "aggregate, higher is better";
                Add(row);
            }
        const bool measured = Valid(ours1) && Valid(ours8) && Valid(raw8);
        const bool met = measured && ours8 >= 2.0 * raw8 && ours8 >= ours1;
        targets.push_back({"T4", "8 threads >= 2 x raw VMA at 8 threads, and >= 1.0 x our single-thread rate",
                           Status(measured, met),
                           "SpeedOptimized ours8/raw8 " + Fmt("%.2fx", ours8 / raw8) + ", ours8/ours1 " +
                               Fmt("%.2fx", ours8 / ours1) + "; Default ours8/raw8 " +
                               Fmt("%.2fx", default8 / raw8) + ", ours8/ours1 " +
                               Fmt("%.2fx", default8 / default1),
                           "defined for the 16-core H200; with few cores the curve is informational"});
    }

    // (e) T5
    void BuildStats()
    {
        std::vector<std::string> counts;
        // The counts the run used: look for the GetStats entries.
        for (const char* n : {"100", "10000", "100000"})
            if (r.Get(std::string("e/GetStats/") + n))
                counts.push_back(n);
        double worst = kNaN;
        double flatness = kNaN;
        bool measured = counts.size() >= 2;
        std::string figure;
        for (const char* call : {"GetStats", "GetMemoryBudget"})
        {
            double lo = kNaN, hi = kNaN;
            for (const std::string& c : counts)
            {
                const double v = Ns(std::string("e/") + call + "/" + c);
                measured = measured && Valid(v);
                worst = Valid(worst) ? std::max(worst, v) : v;
                lo = Valid(lo) ? std::min(lo, v) : v;
                hi = Valid(hi) ? std::max(hi, v) : v;
                figure += std::string(figure.empty() ? "" : ", ") + call + "@" + c + " " + Num(v) + " ns";
            }
            const double f = hi / lo;
            flatness = Valid(flatness) ? std::max(flatness, f) : f;
        }
        for (const std::string& c : counts)
        {
            const std::string suffix = " @" + c + " live";
            const char* walkNote = "raw column: vmaCalculateStatistics (walk)";
            Add({.scenario = "(e) GetStats" + suffix,
                 .unit = "ns/call",
                 .ours = Ns("e/GetStats/" + c),
                 .raw = Ns("e/vmaCalculateStatistics/" + c),
                 .note = walkNote});
            Add({.scenario = "(e) GetMemoryBudget" + suffix,
                 .unit = "ns/call",
                 .ours = Ns("e/GetMemoryBudget/" + c),
                 .raw = Ns("e/vmaGetHeapBudgets/" + c),
                 .note = "raw column: vmaGetHeapBudgets"});
            Add({.scenario = "(e) ContainsAllocation" + suffix,
                 .unit = "ns/call",
                 .ours = Ns("e/ContainsAllocation/" + c)});
            Add({.scenario = "(e) CalculateStats (exact)" + suffix,
                 .unit = "ns/call",
                 .ours = Ns("e/CalculateStats/" + c),
                 .raw = Ns("e/vmaCalculateStatistics/" + c),
                 .note = walkNote});
        }
        const bool largest = std::find(counts.begin(), counts.end(), "100000") != counts.end();
        const bool met = measured && worst <= 1000.0 && flatness <= 1.5;
        targets.push_back(
            {"T5", "GetStats and GetMemoryBudget <= 1 us, flat (max/min <= 1.5) from 100 to 100,000 live",
             Status(measured && largest, met),
             figure + "; worst " + Num(worst) + " ns, max/min " + Fmt("%.2f", flatness) +
                 (largest ? "" : " (100,000 not run)"),
             "both devices"});
        BuildFrames(counts);
    }

    // (e) frames: T11, T12
    void BuildFrames(const std::vector<std::string>& counts)
    {
        for (const std::string& c : counts)
        {
            const std::string name = "e/frame/" + c;
            for (const auto& [call, key] :
                 {std::pair{"SetCurrentFrameIndex", "frame"}, std::pair{"GetStats", "getstats"},
                  std::pair{"GetMemoryBudget", "budget"}})
                Add({.scenario = std::string("(e) frame ") + call + " p99 @" + c + " live",
                     .unit = "ns/call",
                     .ours = Counter(name, std::string(key) + "_p99_ns"),
                     .note = "mean " + Num(Counter(name, std::string(key) + "_mean_ns")) + " ns; " +
                             Num(Counter(name, "frees_per_frame")) +
                             " deferred destroys + as many new "
                             "buffers a frame, " +
                             Num(Counter(name, "blocks_released")) + " blocks released"});
        }
        const double p99Small = Counter("e/frame/100", "frame_p99_ns");
        const double p99Large = Counter("e/frame/100000", "frame_p99_ns");
        targets.push_back(
            {"T11",
             "SetCurrentFrameIndex at 100,000 live (fixed frees a frame, no block released): p99 <= 50 us "
             "and <= 2x the same at 100 live",
             Status(Valid(p99Small) && Valid(p99Large), p99Large <= 50'000.0 && p99Large <= 2.0 * p99Small),
             "p99 " + Num(p99Large / 1000.0) + " us @100,000 (mean " +
                 Num(Counter("e/frame/100000", "frame_mean_ns") / 1000.0) + " us), " +
                 Num(p99Small / 1000.0) + " us @100 (mean " +
                 Num(Counter("e/frame/100", "frame_mean_ns") / 1000.0) +
                 " us): " + Fmt("%.2fx", p99Large / p99Small) + "; blocks released " +
                 Num(Counter("e/frame/100000", "blocks_released")),
             "both devices"});
        const double ours = Ns("e/CalculateStats/100000");
        const double vma = Ns("e/vmaCalculateStatistics/100000");
        targets.push_back(
            {"T12", "CalculateStats at 100,000 live <= 2x vmaCalculateStatistics (same run)",
             Status(Valid(ours) && Valid(vma), ours <= 2.0 * vma),
             Fmt("%.2fx", ours / vma) + " (" + Num(ours / 1e6) + " vs " + Num(vma / 1e6) + " ms)",
             "both devices"});
    }

    // (f) T7
    void BuildTrace()
    {
        const double raw = Counter("f/trace/raw_vma_default", "committed_over_live");
        const double rawMean = Counter("f/trace/raw_vma_default", "mean_committed_over_live");
        for (const char* variant : {"Default", "SpeedOptimized", "MemoryOptimized", "MemoryOptimized+defrag",
                                    "MemoryOptimized+defrag_full"})
        {
            const std::string name = std::string("f/trace/") + variant;
            Row row{std::string("(f) trace ") + variant, "committed/live"};
            row.ours = Counter(name, "committed_over_live");
            row.raw = raw;
            row.note = "mean " + Num(Counter(name, "mean_committed_over_live")) + " (raw " + Num(rawMean) +
                       "), end " + Num(Counter(name, "committed_MiB")) + "/" +
                       Num(Counter(name, "live_MiB")) + " MiB, granularity floor " +
                       Num(Counter(name, "granularity_floor"));
            Add(row);
        }
        const double v = Counter("f/trace/MemoryOptimized+defrag", "committed_over_live");
        targets.push_back(
            {"T7", "MemoryOptimized + defragmentation: committed/live <= 1.15 at the end of the trace",
             Status(Valid(v), v <= 1.15),
             Num(v) + " (granularity floor " +
                 Num(Counter("f/trace/MemoryOptimized+defrag", "granularity_floor")) + "; raw VMA default " +
                 Num(raw) + "; FULL algorithm " +
                 Num(Counter("f/trace/MemoryOptimized+defrag_full", "committed_over_live")) + ")",
             "both devices"});
    }

    // (i) T10
    void BuildLargeTrace()
    {
        const std::string ours = "i/large/ours_defrag";
        const std::string none = "i/large/ours_no_defrag";
        const std::string raw = "i/large/raw_vma_defrag";
        auto note = [&](const std::string& name)
        {
            return "before " + Num(Counter(name, "before_committed_over_live")) + " (" +
                   Num(Counter(name, "before_committed_MiB")) + " MiB), after " +
                   Num(Counter(name, "after_committed_MiB")) + "/" + Num(Counter(name, "live_MiB")) +
                   " MiB, " + Num(Counter(name, "blocks_freed")) + " blocks / " +
                   Num(Counter(name, "MiB_freed")) + " MiB freed, floor " +
                   Num(Counter(name, "granularity_floor"));
        };
        for (const std::string& name : {ours, none})
        {
            Row row{"(i) large trace " + name.substr(std::string("i/large/").size()), "committed/live"};
            row.ours = Counter(name, "after_committed_over_live");
            row.raw = Counter(raw, "after_committed_over_live");
            row.note = note(name);
            Add(row);
        }
        Row rawRow{"(i) large trace raw VMA + its FULL loop", "committed/live"};
        rawRow.raw = Counter(raw, "after_committed_over_live");
        rawRow.note = note(raw);
        Add(rawRow);
        const double v = Counter(ours, "after_committed_over_live");
        const double freed = Counter(ours, "blocks_freed");
        targets.push_back(
            {"T10", "large trace after defragmentation: committed/live <= 1.15, blocks freed > 0",
             Status(Valid(v) && Valid(freed), v <= 1.15 && freed > 0),
             Num(v) + " with " + Num(freed) + " blocks freed (granularity floor " +
                 Num(Counter(ours, "granularity_floor")) + "; without defragmentation " +
                 Num(Counter(none, "after_committed_over_live")) + "; raw VMA + FULL " +
                 Num(Counter(raw, "after_committed_over_live")) + ", " + Num(Counter(raw, "blocks_freed")) +
                 " blocks freed; " + Num(Counter(ours, "live_MiB")) + " MiB live)",
             "both devices"});
    }

    // (g) T8
    void BuildDefrag()
    {
        for (const char* workload : {"small", "large"})
        {
            const std::string p = std::string("g/defrag/") + workload + "/";
            const double plain = Counter(p + "plain_vkCmdCopyBuffer", "GBps");
            for (const char* variant : {"ours_forced_gpu", "ours_default"})
            {
                Row row{std::string("(g) defrag ") + workload + " " + variant, "GB/s"};
                row.ours = Counter(p + variant, "GBps");
                row.floor = plain;
                row.note = "floor column: plain vkCmdCopyBuffer, same regions, one submit; ours/plain " +
                           Fmt("%.2f", row.ours / plain) + ", " + Num(Counter(p + variant, "MiB_per_round")) +
                           " MiB in " + Num(Counter(p + variant, "passes_per_round")) +
                           " passes; moves' time: copies " +
                           Fmt("%.0f%%", 100.0 * Counter(p + variant, "copy_share")) + ", VMA " +
                           Fmt("%.0f%%", 100.0 * Counter(p + variant, "vma_share")) + ", other " +
                           Fmt("%.0f%%", 100.0 * Counter(p + variant, "other_share")) +
                           "; beside the moves, releasing emptied blocks " +
                           Fmt("%.2f", Counter(p + variant, "release_ms_per_round")) + " ms/round (" +
                           Fmt("%.0f%%", 100.0 * Counter(p + variant, "release_share")) + " of the run)";
                Add(row);
            }
        }
        const std::string p = "g/defrag/large/";
        const double plain = Counter(p + "plain_vkCmdCopyBuffer", "GBps");
        const double forced = Counter(p + "ours_forced_gpu", "GBps");
        const double small = Counter("g/defrag/small/ours_forced_gpu", "GBps") /
                             Counter("g/defrag/small/plain_vkCmdCopyBuffer", "GBps");
        targets.push_back(
            {"T8", "defragmentation >= 50% of a plain device-local vkCmdCopyBuffer of the same bytes",
             Status(Valid(forced) && Valid(plain), forced >= 0.5 * plain),
             "moves (copies + VMA's bookkeeping), large workload, GPU path " +
                 Fmt("%.1f%%", 100.0 * forced / plain) + " (" + Num(forced) + " vs " + Num(plain) +
                 " GB/s); small workload " + Fmt("%.1f%%", 100.0 * small) +
                 "; releasing emptied blocks beside it: " +
                 Fmt("%.2f", Counter(p + "ours_forced_gpu", "release_ms_per_round")) + " ms/round (" +
                 Fmt("%.0f%%", 100.0 * Counter(p + "ours_forced_gpu", "release_share")) + ")",
             "defined for the H200 (a CPU device copies by memcpy and commits memory lazily)"});
    }

    // (h) T6
    void BuildChurn()
    {
        const std::string p = "h/churn64K/";
        Row row{"(h) SpeedOptimized churn 64 KiB, pair", "ns/pair"};
        row.ours = Ns(p + "pair/ours_speed");
        row.raw = Ns(p + "pair/raw_vma_min_time");
        row.floor = Ns(p + "pair/driver_floor");
        row.note = "raw column: VMA MIN_TIME; VMA no strategy " + Num(Ns(p + "pair/raw_vma_default")) + " ns";
        Add(row);
        Row frames{"(h) SpeedOptimized churn 64 KiB, frames", "ns/pair"};
        frames.ours = Ns(p + "frames/ours_speed") / Counter(p + "frames/ours_speed", "pairs_per_iter");
        frames.raw =
            Ns(p + "frames/raw_vma_min_time") / Counter(p + "frames/raw_vma_min_time", "pairs_per_iter");
        frames.note = "16 per frame, deferred destroy, frame advance included";
        Add(frames);
        // T2 is judged where issue 15 defines it: SpeedOptimized churn against the driver's own
        // create + bind + destroy of the same buffer; the Default pair's distance stands beside it.
        const double above = row.ours - row.floor;
        targets.push_back(
            {"T2", "ours - driver floor <= 150 ns per pair for SpeedOptimized churn, one thread",
             Status(Valid(above), Valid(above) && above <= 150.0),
             "SpeedOptimized churn " + Num(above) + " ns (Default pair, beside it: " +
                 (defaultPairAboveFloor.empty() ? std::string("-") : defaultPairAboveFloor) + ")",
             "both devices"});
        const double speedup = row.raw / row.ours;
        targets.push_back({"T6", "SpeedOptimized same-class churn >= 3 x faster than raw VMA per pair",
                           Status(Valid(speedup), speedup >= 3.0),
                           "raw(MIN_TIME)/ours " + Fmt("%.2fx", speedup) + " (frames variant " +
                               Fmt("%.2fx", frames.raw / frames.ours) + ")",
                           "both devices"});
    }
};
} // namespace

nlohmann::json PrintRatioTable(const Results& results, const TableContext& context,
                               const nlohmann::json& extras)
{
    TableBuilder table(results);
    table.Build();
    std::sort(table.targets.begin(), table.targets.end(),
              [](const Target& a, const Target& b) { return a.id < b.id; });

    std::printf("\n==== sedx-bench ratio table: %s, %s%s ====\n", context.device.c_str(),
                context.date.c_str(), context.quick ? " [QUICK RUN: smoke figures, not meaningful]" : "");
    std::printf("%-44s %-15s %10s %10s %12s %10s %9s  %s\n", "scenario", "unit", "ours", "raw VMA",
                "vkAlloc/res", "floor", "ours/raw", "notes");
    for (const Row& row : table.rows)
        std::printf("%-44s %-15s %10s %10s %12s %10s %9s  %s\n", row.scenario.c_str(), row.unit.c_str(),
                    Num(row.ours).c_str(), Num(row.raw).c_str(), Num(row.perResource).c_str(),
                    Num(row.floor).c_str(), Fmt("%.2f", row.ratio).c_str(), row.note.c_str());
    std::printf("\ntargets:\n");
    for (const Target& t : table.targets)
        std::printf("  %-3s %-12s %s -- %s [%s]\n", t.id.c_str(), t.status.c_str(), t.figure.c_str(),
                    t.text.c_str(), t.scope.c_str());
    std::printf("raw VMA setup: %s\n",
                context.setup.value("raw_vma", nlohmann::json::object()).dump().c_str());

    nlohmann::json out;
    out["device"] = context.device;
    out["date"] = context.date;
    out["command"] = context.command;
    out["quick"] = context.quick;
    out["setup"] = context.setup;
    out["time_basis"] =
        "single-thread rows (a, b, c, e, h): median over rounds of the benchmark thread's CPU time "
        "per iteration; (d) pairs/s and (g) GB/s: wall time; figures.*.real_ns holds wall time too";
    out["columns"] = {"ours", "raw_vma", "alloc_per_resource", "driver_floor", "ours_over_raw"};
    nlohmann::json rows = nlohmann::json::array();
    for (const Row& row : table.rows)
        rows.push_back({{"scenario", row.scenario},
                        {"unit", row.unit},
                        {"ours", JsonNum(row.ours)},
                        {"raw_vma", JsonNum(row.raw)},
                        {"alloc_per_resource", JsonNum(row.perResource)},
                        {"driver_floor", JsonNum(row.floor)},
                        {"ours_over_raw", JsonNum(row.ratio)},
                        {"note", row.note}});
    out["rows"] = rows;
    nlohmann::json targets = nlohmann::json::array();
    for (const Target& t : table.targets)
        targets.push_back({{"id", t.id},
                           {"target", t.text},
                           {"status", t.status},
                           {"figure", t.figure},
                           {"scope", t.scope}});
    out["targets"] = targets;
    out["figures"] = results.AllFigures();
    out["extras"] = extras;
    return out;
}

} // namespace SceneryEditorX::Bench
