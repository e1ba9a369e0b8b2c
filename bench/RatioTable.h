#pragma once
// The figures of a run as Google Benchmark reports them, and the short ratio table built from
// them: one line per scenario (ours / raw VMA / one vkAllocateMemory per resource / the driver
// floor, and ours/raw), and the targets T1..T8 marked met or missed by those figures.

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace SceneryEditorX::Bench
{

/// One benchmark's figure: the median over its rounds (or repetitions) where there were several.
struct Figure
{
    double realNs = 0; ///< real (or manual) time per iteration, in nanoseconds
    double cpuNs = 0;  ///< the benchmark thread's CPU time per iteration, in nanoseconds
    int64_t iterations = 0;
    int rounds = 1;
    std::map<std::string, double> counters;
    double Counter(const std::string& name) const;
};

/// Collects every run the display reporter sees.
class Results
{
public:
    void Add(const benchmark::BenchmarkReporter::Run& run);
    /// `name` is the registered name plus "/<arg>" for benchmarks with an argument.
    const Figure* Get(const std::string& name, int threads = 1) const;
    /// Every figure by "name@threads" (for the JSON).
    nlohmann::json AllFigures() const;
    int Errors() const { return m_Errors; }
    const std::vector<std::string>& ErrorMessages() const { return m_ErrorMessages; }

private:
    struct Entry
    {
        std::vector<Figure> runs;
        std::optional<Figure> median;
        Figure merged; // filled by Get on demand
    };
    mutable std::map<std::string, Entry> m_Entries;
    int m_Errors = 0;
    std::vector<std::string> m_ErrorMessages;
};

/// A console reporter that also keeps every run for the table.
class CapturingReporter : public benchmark::ConsoleReporter
{
public:
    explicit CapturingReporter(OutputOptions options) : benchmark::ConsoleReporter(options) {}
    void ReportRuns(const std::vector<Run>& reports) override;
    const Results& GetResults() const { return m_Results; }

private:
    Results m_Results;
};

struct TableContext
{
    std::string device;
    std::string date;
    std::string command;
    bool quick = false;
    nlohmann::json setup; ///< device, capabilities, raw-VMA setup
};

/// Builds the table, prints it to stdout and returns it as JSON (with the extras).
nlohmann::json PrintRatioTable(const Results& results, const TableContext& context,
                               const nlohmann::json& extras);

} // namespace SceneryEditorX::Bench
