#include "Timeline.h"

#include "PictureColors.h"
#include "Raster.h"
#include "TextFile.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>

namespace SceneryEditorX::Tool
{
namespace
{
constexpr double kMiB = 1024.0 * 1024.0;

constexpr int kLeft = 96;
constexpr int kRight = kTimelineWidth - 96;
constexpr int kTop = 100;
constexpr int kBottom = kTimelineHeight - 64;

constexpr Rgb kGrid = Hex(0xE6E6E6);
constexpr Rgb kUsed = Hex(0x4E79A7);
constexpr Rgb kCommitted = Hex(0xF28E2B);
constexpr Rgb kBudget = Hex(0xE15759);
constexpr Rgb kFragmentation = Hex(0x59A14F);
constexpr Rgb kDefrag = Hex(0x8E6BB0);
constexpr Rgb kReduced = Hex(0xD37295); // detail reduced for the budget

/// The smallest of 1, 2, 2.5, 5 × 10^k that is >= `value`.
double NiceStep(double value)
{
    if (value <= 0.0)
        return 1.0;
    const double magnitude = std::pow(10.0, std::floor(std::log10(value)));
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (m * magnitude >= value * (1.0 - 1e-9))
            return m * magnitude;
    return 10.0 * magnitude;
}

std::string Number(double value)
{
    char text[32];
    if (std::fabs(value - std::round(value)) < 1e-6)
        std::snprintf(text, sizeof(text), "%.0f", value);
    else if (std::fabs(value * 10.0 - std::round(value * 10.0)) < 1e-6)
        std::snprintf(text, sizeof(text), "%.1f", value);
    else
        std::snprintf(text, sizeof(text), "%.2f", value);
    return text;
}

/// A legend entry: a short line (dashed or not) and its label. Returns the x after it.
float LegendEntry(Canvas& canvas, const Font& font, float x, float baseline, Rgb color, bool dashed,
                  float width, const std::string& label)
{
    const float y = baseline - 4.5f;
    if (dashed)
        canvas.Polyline({x, x + 24.0f}, {y, y}, width, color, 5.0f, 3.0f);
    else
        canvas.Polyline({x, x + 24.0f}, {y, y}, width, color);
    const float w = font.Draw(canvas, x + 30.0f, baseline, label, 13.0f, kTextColor);
    return x + 30.0f + w + 22.0f;
}
} // namespace

bool WriteTimelineCsv(const std::vector<TimelineSample>& samples, const std::string& path, std::string& error)
{
    std::string csv = std::string(kTimelineCsvHeader) + '\n';
    char row[256];
    for (const TimelineSample& s : samples)
    {
        std::snprintf(row, sizeof(row),
                      "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.6f,%u,%d,%d,%" PRIu64 "\n", s.frame,
                      s.usedBytes, s.committedBytes, s.budgetBytes, static_cast<double>(s.fragmentation),
                      s.residentTiles, s.defragmented ? 1 : 0, s.reduced ? 1 : 0, s.peakUsedBytes);
        csv += row;
    }
    return WriteTextFile(path, csv, error);
}

bool WriteTimelinePng(const std::vector<TimelineSample>& input, const std::string& path, std::string& error)
{
    std::vector<TimelineSample> samples = input;
    std::stable_sort(samples.begin(), samples.end(),
                     [](const TimelineSample& a, const TimelineSample& b) { return a.frame < b.frame; });
    const Font font = Font::Load();
    const Font bold = Font::Load(true);
    Canvas canvas(kTimelineWidth, kTimelineHeight, kBackgroundColor);

    // ---------------------------------------------------------------- ranges
    double maxUsage = 0.0, maxBudget = 0.0, maxFrag = 0.0;
    uint64_t defrags = 0;
    uint64_t reductions = 0;
    for (const TimelineSample& s : samples)
    {
        reductions += s.reduced ? 1 : 0;
        maxUsage = std::max({maxUsage, s.usedBytes / kMiB, s.committedBytes / kMiB});
        maxBudget = std::max(maxBudget, s.budgetBytes / kMiB);
        maxFrag = std::max(maxFrag, static_cast<double>(s.fragmentation) * 100.0);
        defrags += s.defragmented ? 1 : 0;
    }
    // A budget far above the usage would flatten the usage lines: it is named instead of plotted.
    const bool budgetKnown = maxBudget > 0.0;
    const bool budgetOnScale = budgetKnown && maxBudget <= std::max(maxUsage, 1.0) * 2.5;
    // Left axis: 4 to 6 divisions of a nice step, the fewest that reach 5% above the data.
    const double leftTop = std::max(budgetOnScale ? maxBudget : maxUsage, 1.0) * 1.05;
    const double leftStep = NiceStep(leftTop / 6.0); // >= leftTop / 6: at most 6 divisions
    const int leftDivisions = std::max(4, static_cast<int>(std::ceil(leftTop / leftStep - 1e-9)));
    const double leftMax = leftStep * leftDivisions;
    double rightMax = 100.0;
    for (double candidate : {5.0, 10.0, 25.0, 50.0, 100.0})
        if (maxFrag * 1.05 <= candidate)
        {
            rightMax = candidate;
            break;
        }
    const uint64_t f0 = samples.empty() ? 0 : samples.front().frame;
    const uint64_t f1 = samples.empty() ? 1 : std::max(samples.back().frame, f0 + 1);

    const float plotW = static_cast<float>(kRight - kLeft);
    const float plotH = static_cast<float>(kBottom - kTop);
    auto X = [&](uint64_t frame)
    {
        return static_cast<float>(kLeft) +
               plotW * static_cast<float>(static_cast<double>(frame - f0) / static_cast<double>(f1 - f0));
    };
    auto YLeft = [&](double mib)
    {
        return static_cast<float>(kBottom) - plotH * static_cast<float>(mib / leftMax);
    };
    auto YRight = [&](double pct)
    {
        return static_cast<float>(kBottom) - plotH * static_cast<float>(std::min(pct, rightMax) / rightMax);
    };

    // ---------------------------------------------------------------- title and legend
    bold.Draw(canvas, kLeft - 60, 34, "Memory over time", 20.0f, kTextColor);
    char summary[320];
    // The figures of the last sample, and the peak as GetStats keeps it (the same as the demo's
    // console summary): not the highest used among the samples, which misses what rose between them.
    uint64_t peakUsed = 0;
    for (const TimelineSample& s : samples)
        peakUsed = std::max({peakUsed, s.peakUsedBytes, s.usedBytes});
    const TimelineSample last = samples.empty() ? TimelineSample{} : samples.back();
    std::snprintf(summary, sizeof(summary),
                  "%zu frames \xC2\xB7 at frame %" PRIu64 " (the last): used %.2f MiB, committed %.2f MiB, "
                  "peak used %.2f MiB \xC2\xB7 %" PRIu64 " defragmentation%s",
                  samples.size(), last.frame, last.usedBytes / kMiB, last.committedBytes / kMiB,
                  peakUsed / kMiB, defrags, defrags == 1 ? "" : "s");
    font.Draw(canvas, kLeft - 60, 56, summary, 13.0f, kMutedTextColor);
    float lx = static_cast<float>(kLeft - 60);
    const float lb = 84.0f;
    lx = LegendEntry(canvas, font, lx, lb, kUsed, false, 2.5f, "used (MiB)");
    lx = LegendEntry(canvas, font, lx, lb, kCommitted, false, 2.5f, "committed (MiB)");
    if (budgetKnown)
        lx = LegendEntry(canvas, font, lx, lb, kBudget, true, 2.0f,
                         budgetOnScale ? "budget (MiB)"
                                       : "budget: " + Number(std::round(maxBudget)) + " MiB, off scale");
    lx = LegendEntry(canvas, font, lx, lb, kFragmentation, false, 1.5f, "fragmentation (%, right axis)");
    {
        canvas.Polyline({lx + 12.0f, lx + 12.0f}, {lb - 13.0f, lb + 3.0f}, 1.5f, kDefrag, 3.0f, 2.0f);
        lx += 22.0f + font.Draw(canvas, lx + 22.0f, lb, "defragmentation", 13.0f, kTextColor) + 22.0f;
    }
    if (reductions)
    {
        canvas.Polyline({lx + 6.0f, lx + 12.0f, lx + 18.0f, lx + 6.0f},
                        {lb + 2.0f, lb - 9.0f, lb + 2.0f, lb + 2.0f}, 2.0f, kReduced);
        font.Draw(canvas, lx + 24.0f, lb, "detail reduced (budget)", 13.0f, kTextColor);
    }

    // ---------------------------------------------------------------- grid and axes
    for (int i = 0; i <= leftDivisions; ++i)
    {
        const float y = YLeft(leftStep * i);
        const int iy = static_cast<int>(std::lround(y));
        if (i > 0)
            canvas.FillRect(kLeft, iy, kRight, iy + 1, kGrid);
        canvas.FillRect(kLeft - 6, iy, kLeft, iy + 1, kLineColor);
        font.Draw(canvas, kLeft - 10, y + 4.5f, Number(leftStep * i), 12.0f, kTextColor, Align::Right);
    }
    for (int i = 0; i <= 5; ++i)
    {
        const float y = YRight(rightMax / 5.0 * i);
        const int iy = static_cast<int>(std::lround(y));
        canvas.FillRect(kRight, iy, kRight + 6, iy + 1, kFragmentation);
        font.Draw(canvas, kRight + 10, y + 4.5f, Number(rightMax / 5.0 * i) + "%", 12.0f, kFragmentation);
    }
    const double frameStep = std::max(1.0, NiceStep(static_cast<double>(f1 - f0) / 8.0));
    for (double f = std::ceil(static_cast<double>(f0) / frameStep) * frameStep;
         f <= static_cast<double>(f1) + 1e-9; f += frameStep)
    {
        const float x = X(static_cast<uint64_t>(f));
        const int ix = static_cast<int>(std::lround(x));
        canvas.FillRect(ix, kTop, ix + 1, kBottom, kGrid);
        canvas.FillRect(ix, kBottom, ix + 1, kBottom + 6, kLineColor);
        font.Draw(canvas, x, kBottom + 21, Number(f), 12.0f, kTextColor, Align::Center);
    }
    font.Draw(canvas, (kLeft + kRight) / 2.0f, kBottom + 46, "frame", 13.0f, kTextColor, Align::Center);
    font.DrawVertical(canvas, kLeft - 62, (kTop + kBottom) / 2.0f, "MiB", 13.0f, kTextColor);
    font.DrawVertical(canvas, kRight + 64, (kTop + kBottom) / 2.0f, "fragmentation %", 13.0f, kFragmentation);

    if (samples.empty())
        font.Draw(canvas, (kLeft + kRight) / 2.0f, (kTop + kBottom) / 2.0f, "no samples", 16.0f,
                  kMutedTextColor, Align::Center);

    // ---------------------------------------------------------------- data
    // A light fill under the used line.
    if (samples.size() >= 2)
    {
        size_t k = 0;
        for (int x = kLeft; x < kRight; ++x)
        {
            const double frame = static_cast<double>(f0) + static_cast<double>(f1 - f0) *
                                                               (static_cast<double>(x - kLeft) + 0.5) / plotW;
            while (k + 2 < samples.size() && static_cast<double>(samples[k + 1].frame) < frame)
                ++k;
            const TimelineSample& a = samples[k];
            const TimelineSample& b = samples[k + 1];
            const double span = static_cast<double>(b.frame - a.frame);
            const double t =
                span > 0 ? std::clamp((frame - static_cast<double>(a.frame)) / span, 0.0, 1.0) : 0.0;
            const double used = (a.usedBytes + (static_cast<double>(b.usedBytes) - a.usedBytes) * t) / kMiB;
            for (int y = static_cast<int>(std::lround(YLeft(used))); y < kBottom; ++y)
                canvas.Blend(x, y, kUsed, 0.12f);
        }
    }
    for (const TimelineSample& s : samples)
        if (s.defragmented)
        {
            const float x = std::round(X(s.frame)) + 0.5f;
            canvas.Polyline({x, x}, {static_cast<float>(kTop), static_cast<float>(kBottom)}, 1.5f, kDefrag,
                            4.0f, 3.0f);
            canvas.Polyline({x - 5.0f, x + 5.0f, x, x - 5.0f},
                            {static_cast<float>(kTop) - 8.0f, static_cast<float>(kTop) - 8.0f,
                             static_cast<float>(kTop) - 1.0f, static_cast<float>(kTop) - 8.0f},
                            2.0f, kDefrag);
        }
    // Budget reductions: a mark on the bottom axis at each frame that reduced detail.
    for (const TimelineSample& s : samples)
        if (s.reduced)
        {
            const float x = std::round(X(s.frame)) + 0.5f;
            const float y = static_cast<float>(kBottom);
            canvas.Polyline({x - 4.0f, x, x + 4.0f, x - 4.0f}, {y - 1.0f, y - 9.0f, y - 1.0f, y - 1.0f}, 2.0f,
                            kReduced);
        }
    std::vector<float> xs, used, committed, budget, frag;
    for (const TimelineSample& s : samples)
    {
        xs.push_back(X(s.frame));
        used.push_back(YLeft(s.usedBytes / kMiB));
        committed.push_back(YLeft(s.committedBytes / kMiB));
        budget.push_back(YLeft(s.budgetBytes / kMiB));
        frag.push_back(YRight(static_cast<double>(s.fragmentation) * 100.0));
    }
    if (xs.size() == 1)
    {
        // One sample: short horizontal ticks, so that it is visible.
        xs = {xs[0] - 3.0f, xs[0] + 3.0f};
        for (auto* v : {&used, &committed, &budget, &frag})
            v->push_back(v->front());
    }
    if (budgetOnScale)
        canvas.Polyline(xs, budget, 2.0f, kBudget, 8.0f, 5.0f);
    canvas.Polyline(xs, frag, 1.5f, kFragmentation);
    canvas.Polyline(xs, committed, 2.5f, kCommitted);
    canvas.Polyline(xs, used, 2.5f, kUsed);

    // Plot frame last, over the data.
    canvas.FillRect(kLeft, kBottom, kRight + 1, kBottom + 1, kLineColor);
    canvas.FillRect(kLeft, kTop, kLeft + 1, kBottom + 1, kLineColor);
    canvas.FillRect(kRight, kTop, kRight + 1, kBottom + 1, kLineColor);
    canvas.FillRect(kLeft, kTop, kRight + 1, kTop + 1, kGrid);
    return canvas.WritePng(path, error);
}
} // namespace SceneryEditorX::Tool
