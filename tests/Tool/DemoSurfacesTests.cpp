// `sedx-mem demo` shows one set of figures on every surface (issue 15): a short run with the
// validation layer on, then its console summary, its tag table, the detailed statistics it logs,
// the memory map's legend (memory-map-legend.csv, what the PNG and HTML draw), the timeline
// (timeline.csv) and the JSON (stats.json) are read back, each on its own, and compared.
#include "ToolTestSupport.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <regex>
#include <sstream>

namespace SceneryEditorX::Test
{
namespace
{
struct Figure
{
    uint64_t bytes = 0;
    uint64_t count = 0;
    bool operator==(const Figure&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Figure& f)
{
    return os << f.bytes << " bytes in " << f.count << " allocations";
}

/// MiB with two decimals, as the demo prints them.
std::string MiB(uint64_t bytes)
{
    char text[32];
    std::snprintf(text, sizeof(text), "%.2f", static_cast<double>(bytes) / (1024.0 * 1024.0));
    return text;
}

std::vector<std::string> Lines(const std::string& text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

std::vector<std::string> CsvFields(const std::string& line)
{
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i)
    {
        const char c = line[i];
        if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"')
            fields.back() += line[++i];
        else if (c == '"')
            quoted = !quoted;
        else if (c == ',' && !quoted)
            fields.emplace_back();
        else
            fields.back() += c;
    }
    return fields;
}

constexpr uint64_t kFrames = 121;

/// The run every test reads: once per process.
struct DemoRun
{
    int exitCode = -1;
    std::string console; // stdout
    std::filesystem::path out;
};

const DemoRun& Demo()
{
    static const DemoRun run = []
    {
        DemoRun r;
        r.out = ToolTestDir("demo-surfaces");
        std::filesystem::remove(r.out / "stats.json");
        // 121 frames: two budget checks (frames 59 and 119), tiles loaded and unloaded, staging
        // buffers kept, and the camera crosses a tile boundary at frame 120, so that streaming ends
        // with deferred destroys in flight that only the frames after it retire (checked below).
        // About a second on lavapipe in a debug build.
        const std::string command = std::string("\"") + SEDX_MEM_PROGRAM + "\" demo --frames " +
                                    std::to_string(kFrames) + " --validation --out \"" + r.out.string() +
                                    "\" 2>/dev/null";
        FILE* pipe = popen(command.c_str(), "r");
        if (!pipe)
            return r;
        char buffer[4096];
        for (size_t n; (n = fread(buffer, 1, sizeof(buffer), pipe)) > 0;)
            r.console.append(buffer, n);
        const int status = pclose(pipe);
        r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return r;
    }();
    return run;
}

/// The console summary: "memory at frame F, the last frame (...):" and the line of figures.
struct Summary
{
    uint64_t frame = 0;
    Figure used;
    uint64_t committedBytes = 0;
    uint64_t blocks = 0;
    uint64_t peakBytes = 0;
};

Summary ReadSummary(const std::string& console)
{
    Summary s;
    std::smatch m;
    const std::regex moment(
        R"(\nmemory at frame ([0-9]+), the last frame \(streaming has stopped and the frames in flight have retired\):\n)");
    EXPECT_TRUE(std::regex_search(console, m, moment)) << "no summary heading";
    if (!m.empty())
        s.frame = std::stoull(m[1]);
    const std::regex figures(
        R"(\n  used ([0-9]+) bytes \(([0-9.]+) MiB\) in ([0-9]+) allocations, committed ([0-9]+) bytes \(([0-9.]+) MiB\) in ([0-9]+) blocks, peak used ([0-9]+) bytes \(([0-9.]+) MiB\)\n)");
    EXPECT_TRUE(std::regex_search(console, m, figures)) << "no summary figures";
    if (m.empty())
        return s;
    s.used = Figure{std::stoull(m[1]), std::stoull(m[3])};
    s.committedBytes = std::stoull(m[4]);
    s.blocks = std::stoull(m[6]);
    s.peakBytes = std::stoull(m[7]);
    // The MiB beside each byte count is the same figure.
    EXPECT_EQ(m[2].str(), MiB(s.used.bytes));
    EXPECT_EQ(m[5].str(), MiB(s.committedBytes));
    EXPECT_EQ(m[8].str(), MiB(s.peakBytes));
    return s;
}

struct TagRow
{
    Figure used;
    std::string usedMiB;
    uint64_t buffers = 0;
    uint64_t images = 0;
    std::string peakMiB;
};

/// The tag table under "tags at frame F, the last frame:" up to its "(all tags)" row (returned
/// under that name).
std::map<std::string, TagRow> ReadTagTable(const std::string& console, uint64_t frame)
{
    std::map<std::string, TagRow> rows;
    const std::vector<std::string> lines = Lines(console);
    const std::string heading = "tags at frame " + std::to_string(frame) + ", the last frame:";
    auto it = std::find(lines.begin(), lines.end(), heading);
    EXPECT_NE(it, lines.end()) << "no '" << heading << "'";
    if (it == lines.end() || ++it == lines.end())
        return rows;
    const std::regex row(
        R"(^(.+?) +([0-9.]+) +([0-9]+) +([0-9]+) +([0-9]+) +([0-9]+) +([0-9.]+) +([0-9]+) +([0-9]+)$)");
    const std::regex total(R"(^\(all tags\) +([0-9.]+) +([0-9]+) +([0-9]+)$)");
    for (++it; it != lines.end(); ++it)
    {
        std::smatch m;
        if (std::regex_match(*it, m, total))
        {
            rows["(all tags)"] = TagRow{Figure{std::stoull(m[2]), std::stoull(m[3])}, m[1], 0, 0, ""};
            break;
        }
        EXPECT_TRUE(std::regex_match(*it, m, row)) << "not a row of the tag table: '" << *it << "'";
        if (m.empty())
            break;
        rows[m[1]] = TagRow{Figure{std::stoull(m[3]), std::stoull(m[4])}, m[2], std::stoull(m[5]),
                            std::stoull(m[6]), m[7]};
    }
    return rows;
}

/// VMA's dump walked here (not through the tool's model): per tag (the name before ':'), the
/// allocations' bytes and count.
std::map<std::string, Figure> JsonPerTag(const nlohmann::json& dump)
{
    std::map<std::string, Figure> tags;
    auto add = [&](const nlohmann::json& a)
    {
        if (a.value("Type", "") == "FREE")
            return;
        const std::string name = a.value("Name", "");
        // Built by append: GCC 12 at -O3 warns falsely (-Wrestrict) on "[" + std::string&&.
        std::string key;
        if (name.empty())
            key.append("[").append(a.value("Type", "UNKNOWN")).append("]");
        else
            key = name.substr(0, name.find(':'));
        Figure& f = tags[key];
        f.bytes += a.at("Size").get<uint64_t>();
        ++f.count;
    };
    std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& j)
    {
        if (j.is_object())
        {
            for (auto& [key, value] : j.items())
            {
                if (key == "Suballocations" || key == "DedicatedAllocations")
                    for (const nlohmann::json& a : value)
                        add(a);
                else
                    walk(value);
            }
        }
        else if (j.is_array())
            for (const nlohmann::json& v : j)
                walk(v);
    };
    walk(dump.at("DefaultPools"));
    walk(dump.at("CustomPools"));
    return tags;
}

struct TimelineRow
{
    uint64_t frame = 0;
    uint64_t usedBytes = 0;
    uint64_t committedBytes = 0;
    uint64_t peakBytes = 0;
};

std::vector<TimelineRow> ReadTimeline(const std::filesystem::path& path)
{
    std::vector<TimelineRow> rows;
    const std::vector<std::string> lines = Lines(ReadText(path));
    EXPECT_FALSE(lines.empty());
    if (lines.empty())
        return rows;
    const std::vector<std::string> header = CsvFields(lines[0]);
    auto column = [&](const std::string& name)
    {
        const auto it = std::find(header.begin(), header.end(), name);
        EXPECT_NE(it, header.end()) << "timeline.csv has no column " << name;
        return static_cast<size_t>(it - header.begin());
    };
    const size_t frame = column("frame"), used = column("used_bytes"), committed = column("committed_bytes"),
                 peak = column("peak_used_bytes");
    for (size_t i = 1; i < lines.size(); ++i)
    {
        const std::vector<std::string> f = CsvFields(lines[i]);
        if (f.size() != header.size())
        {
            ADD_FAILURE() << "timeline.csv line " << i + 1 << ": " << lines[i];
            break;
        }
        rows.push_back(TimelineRow{std::stoull(f[frame]), std::stoull(f[used]), std::stoull(f[committed]),
                                   std::stoull(f[peak])});
    }
    return rows;
}
} // namespace

TEST(DemoSurfacesTest, TheDemoRunsCleanAndSaysTheSurfacesAgree)
{
    const DemoRun& run = Demo();
    EXPECT_EQ(run.exitCode, 0) << run.console;
    EXPECT_EQ(run.console.find("surfaces disagree"), std::string::npos) << run.console;
    EXPECT_NE(run.console.find("\ndemo ok\n"), std::string::npos) << run.console;
}

TEST(DemoSurfacesTest, TheTagTableAddsUpToTheSummary)
{
    const DemoRun& run = Demo();
    const Summary s = ReadSummary(run.console);
    const std::map<std::string, TagRow> tags = ReadTagTable(run.console, s.frame);
    ASSERT_TRUE(tags.contains("(all tags)")) << run.console;
    Figure sum;
    for (const auto& [tag, row] : tags)
        if (tag != "(all tags)")
        {
            sum.bytes += row.used.bytes;
            sum.count += row.used.count;
            EXPECT_EQ(row.buffers + row.images, row.used.count) << tag;
            EXPECT_EQ(row.usedMiB, MiB(row.used.bytes)) << tag;
        }
    EXPECT_EQ(tags.at("(all tags)").used, sum);
    EXPECT_EQ(sum, s.used) << "the tags against the summary's used figures";
    // The library's own allocations are one named tag, explained under the table.
    ASSERT_TRUE(tags.contains("sedx")) << "no row for the internal tag";
    EXPECT_GT(tags.at("sedx").used.count, 0u) << "the demo's uploads keep staging buffers";
    EXPECT_NE(run.console.find("\nsedx: the memory system's own allocations"), std::string::npos);
}

TEST(DemoSurfacesTest, TheJsonHasTheSummaryAndTheTagTable)
{
    const DemoRun& run = Demo();
    const Summary s = ReadSummary(run.console);
    const nlohmann::json dump = nlohmann::json::parse(ReadText(run.out / "stats.json"), nullptr, false);
    ASSERT_FALSE(dump.is_discarded()) << "stats.json is not JSON";
    const nlohmann::json& total = dump.at("Total");
    EXPECT_EQ(
        (Figure{total.at("AllocationBytes").get<uint64_t>(), total.at("AllocationCount").get<uint64_t>()}),
        s.used);
    EXPECT_EQ(total.at("BlockBytes").get<uint64_t>(), s.committedBytes);
    EXPECT_EQ(total.at("BlockCount").get<uint64_t>(), s.blocks);

    std::map<std::string, Figure> table;
    for (const auto& [tag, row] : ReadTagTable(run.console, s.frame))
        if (tag != "(all tags)" && row.used.count > 0)
            table[tag] = row.used;
    EXPECT_EQ(JsonPerTag(dump), table) << "the JSON's allocations per tag against the tag table";
}

TEST(DemoSurfacesTest, TheMapLegendHasTheTagTable)
{
    const DemoRun& run = Demo();
    const Summary s = ReadSummary(run.console);
    std::map<std::string, Figure> table;
    for (const auto& [tag, row] : ReadTagTable(run.console, s.frame))
        if (tag != "(all tags)" && row.used.count > 0)
            table[tag] = row.used;

    const std::vector<std::string> lines = Lines(ReadText(run.out / "memory-map-legend.csv"));
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines[0], "tag,bytes,allocations");
    std::map<std::string, Figure> legend;
    for (size_t i = 1; i < lines.size(); ++i)
    {
        const std::vector<std::string> f = CsvFields(lines[i]);
        ASSERT_EQ(f.size(), 3u) << lines[i];
        EXPECT_FALSE(legend.contains(f[0])) << "two legend entries for " << f[0];
        legend[f[0]] = Figure{std::stoull(f[1]), std::stoull(f[2])};
    }
    EXPECT_EQ(legend, table) << "the memory map's legend against the tag table";

    // The pictures say when: the map's summary line names the frame.
    const std::string moment = "at frame " + std::to_string(s.frame) + ", the last frame";
    EXPECT_NE(ReadText(run.out / "memory-map.html").find(moment), std::string::npos);
}

TEST(DemoSurfacesTest, TheTimelineEndsWithTheSummaryAndItsPeakNeverFalls)
{
    const DemoRun& run = Demo();
    const Summary s = ReadSummary(run.console);
    const std::vector<TimelineRow> rows = ReadTimeline(run.out / "timeline.csv");
    ASSERT_FALSE(rows.empty());
    const TimelineRow& last = rows.back();
    EXPECT_EQ(last.frame, s.frame);
    EXPECT_EQ(last.usedBytes, s.used.bytes);
    EXPECT_EQ(last.committedBytes, s.committedBytes);
    EXPECT_EQ(last.peakBytes, s.peakBytes);
    // The run ends with deferred destroys in flight: used falls after streaming stops (else this
    // test could not tell a surface that counts them from one that does not).
    ASSERT_GT(rows.size(), kFrames);
    EXPECT_LT(last.usedBytes, rows[kFrames - 1].usedBytes)
        << "nothing was released after the last streamed frame; choose a frame count that ends with unloads";
    // The first row that breaks each rule (one failure each, not one per frame).
    for (size_t i = 0; i < rows.size(); ++i)
        if (rows[i].frame != i)
        {
            ADD_FAILURE() << "row " << i << " is frame " << rows[i].frame
                          << ": one row per frame, from frame 0";
            break;
        }
    for (size_t i = 1; i < rows.size(); ++i)
        if (rows[i].peakBytes < rows[i - 1].peakBytes)
        {
            ADD_FAILURE() << "the timeline's peak falls from " << rows[i - 1].peakBytes << " to "
                          << rows[i].peakBytes << " bytes at frame " << rows[i].frame;
            break;
        }
    for (const TimelineRow& row : rows)
        if (row.usedBytes > s.peakBytes)
        {
            ADD_FAILURE() << "the timeline's used reaches " << row.usedBytes << " bytes at frame "
                          << row.frame << ", above the summary's peak of " << s.peakBytes << " bytes";
            break;
        }
}

TEST(DemoSurfacesTest, TheDetailedStatisticsHaveTheSummary)
{
    // PrintDetailedStats' "total:" line (CalculateStats, a walk: an independent reading).
    const DemoRun& run = Demo();
    const Summary s = ReadSummary(run.console);
    std::smatch m;
    const std::regex total(
        R"(total: ([0-9.]+) MiB committed in ([0-9]+) blocks, ([0-9.]+) MiB used by ([0-9]+) allocations, [^\n]*peak ([0-9.]+) MiB)");
    ASSERT_TRUE(std::regex_search(run.console, m, total)) << run.console;
    EXPECT_EQ(m[1].str(), MiB(s.committedBytes));
    EXPECT_EQ(std::stoull(m[2]), s.blocks);
    EXPECT_EQ(m[3].str(), MiB(s.used.bytes));
    EXPECT_EQ(std::stoull(m[4]), s.used.count);
    EXPECT_EQ(m[5].str(), MiB(s.peakBytes));
}
} // namespace SceneryEditorX::Test
