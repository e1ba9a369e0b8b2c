// The timeline (tools/sedx-mem/Timeline.h): the CSV's header and rows, and the plot's size and lines.
#include "Timeline.h"
#include "ToolTestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace SceneryEditorX
{
namespace
{
using namespace ::SceneryEditorX::Test;
using namespace ::SceneryEditorX::Tool;

constexpr uint64_t MiB = 1024 * 1024;

/// A run of `frames` frames: usage that grows and falls, a defragmentation every 300 frames.
std::vector<TimelineSample> SyntheticRun(uint64_t frames, uint64_t budget)
{
    std::vector<TimelineSample> samples;
    for (uint64_t f = 0; f < frames; ++f)
    {
        const double wave = 0.5 + 0.5 * std::sin(static_cast<double>(f) / 40.0);
        const uint64_t used = static_cast<uint64_t>((20.0 + 40.0 * wave) * MiB);
        const bool defrag = f % 300 == 299;
        samples.push_back(TimelineSample{f, used, used + 16 * MiB + (f % 300) * MiB / 10, budget,
                                         static_cast<float>((f % 300) / 600.0),
                                         static_cast<uint32_t>(9 + f % 7), defrag});
        // The peak rises between frames too: above every frame-end figure.
        samples.back().peakUsedBytes = std::max(f ? samples[f - 1].peakUsedBytes : 0, used + MiB);
    }
    return samples;
}

std::vector<std::string> Lines(const std::string& text)
{
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start))
    {
        lines.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    if (start < text.size())
        lines.push_back(text.substr(start));
    return lines;
}

TEST(TimelineTest, CsvHasAHeaderAndOneRowPerSample)
{
    const std::vector<TimelineSample> samples = SyntheticRun(900, 256 * MiB);
    const auto path = ToolTestDir("out") / "timeline.csv";
    std::string error;
    ASSERT_TRUE(WriteTimelineCsv(samples, path.string(), error)) << error;
    const std::vector<std::string> lines = Lines(ReadText(path));
    ASSERT_EQ(lines.size(), samples.size() + 1);
    EXPECT_EQ(
        lines[0],
        "frame,used_bytes,committed_bytes,budget_bytes,fragmentation,resident_tiles,defragmented,reduced,"
        "peak_used_bytes");
    const TimelineSample& s = samples[299];
    EXPECT_EQ(lines[300], "299," + std::to_string(s.usedBytes) + "," + std::to_string(s.committedBytes) +
                              "," + std::to_string(256 * MiB) + ",0.498333," +
                              std::to_string(s.residentTiles) + ",1," + (s.reduced ? "1" : "0") + "," +
                              std::to_string(s.peakUsedBytes));
    for (size_t i = 1; i < lines.size(); ++i)
        EXPECT_EQ(std::count(lines[i].begin(), lines[i].end(), ','), 8) << lines[i];

    ASSERT_TRUE(WriteTimelineCsv({}, path.string(), error)) << error;
    EXPECT_EQ(Lines(ReadText(path)).size(), 1u);
}

/// Pixels of exactly `color` (the fully covered core of a line).
size_t PixelsOf(const Image& image, uint32_t color)
{
    size_t n = 0;
    for (int y = 0; y < image.height; ++y)
        for (int x = 0; x < image.width; ++x)
            n += image.At(x, y) == color ? 1 : 0;
    return n;
}

TEST(TimelineTest, PngHasItsSizeAndTheLines)
{
    struct Case
    {
        const char* file;
        std::vector<TimelineSample> samples;
    };
    const Case cases[] = {
        {"timeline.png", SyntheticRun(900, 128 * MiB)},                  // budget on the scale
        {"timeline-big-budget.png", SyntheticRun(900, 64 * 1024 * MiB)}, // budget named, off the scale
        {"timeline-no-budget.png", SyntheticRun(50, 0)},
        {"timeline-one.png", SyntheticRun(1, 0)},
        {"timeline-empty.png", {}},
    };
    for (const Case& c : cases)
    {
        const auto path = ToolTestDir("out") / c.file;
        std::string error;
        ASSERT_TRUE(WriteTimelinePng(c.samples, path.string(), error)) << error;
        const Image image = LoadPng(path);
        EXPECT_EQ(image.width, kTimelineWidth) << c.file;
        EXPECT_EQ(image.height, kTimelineHeight) << c.file;
        if (c.samples.size() > 1)
        {
            EXPECT_GT(PixelsOf(image, 0x4E79A7), 500u) << c.file << ": used";
            EXPECT_GT(PixelsOf(image, 0xF28E2B), 500u) << c.file << ": committed";
        }
    }
    // The defragmentation markers: columns of the marker colour in the plot.
    const Image image = LoadPng(ToolTestDir("out") / "timeline.png");
    EXPECT_GT(PixelsOf(image, 0x8E6BB0), 3u * 60u);
}

TEST(TimelineTest, UnwritablePathIsAnError)
{
    std::string error;
    EXPECT_FALSE(WriteTimelineCsv(SyntheticRun(3, 0), "/nonexistent-dir/t.csv", error));
    EXPECT_NE(error.find("/nonexistent-dir/t.csv"), std::string::npos);
    error.clear();
    EXPECT_FALSE(WriteTimelinePng(SyntheticRun(3, 0), "/nonexistent-dir/t.png", error));
    EXPECT_NE(error.find("/nonexistent-dir/t.png"), std::string::npos);
}
} // namespace
} // namespace SceneryEditorX
