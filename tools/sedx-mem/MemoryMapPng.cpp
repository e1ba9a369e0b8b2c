// The memory map as a PNG: the layout (MemoryMapLayout.h) drawn on a Canvas.
#include "MemoryMap.h"
#include "MemoryMapText.h"
#include "PictureColors.h"
#include "Raster.h"

#include <algorithm>
#include <cmath>

namespace SceneryEditorX::Tool
{
using namespace MemoryMapPixels;

namespace
{
constexpr Rgb kFree = Hex(kMemoryMapFreeColor);

/// Fills one bar: free space, then each allocation with a darker one-pixel separator on its left
/// edge (or, when too narrow for one, a lighter shade on every other allocation).
void DrawRanges(Canvas& canvas, const MemoryMapBar& bar, const std::vector<DumpRange>& ranges, uint64_t total,
                const MemoryMapPalette& palette)
{
    canvas.FillRect(bar.x, bar.y, bar.x + bar.width, bar.y + bar.height, kFree);
    const double scale = total ? static_cast<double>(bar.width) / static_cast<double>(total) : 0.0;
    size_t index = 0;
    for (const DumpRange& r : ranges)
    {
        if (r.free)
            continue;
        int x0 = bar.x + static_cast<int>(std::floor(static_cast<double>(r.offset) * scale));
        int x1 = bar.x + static_cast<int>(std::floor(static_cast<double>(r.offset + r.size) * scale));
        x0 = std::min(x0, bar.x + bar.width - 1);
        x1 = std::clamp(x1, x0 + 1, bar.x + bar.width);
        Rgb color = Hex(palette.ColorOf(r));
        if (x1 - x0 < 3 && (index & 1))
            color = Mix(color, Hex(0xFFFFFF), 0.3f);
        canvas.FillRect(x0, bar.y, x1, bar.y + bar.height, color);
        if (x1 - x0 >= 3)
            canvas.FillRect(x0, bar.y, x0 + 1, bar.y + bar.height, Mix(color, Hex(0x000000), 0.45f));
        ++index;
    }
    canvas.StrokeRect(bar.x - 1, bar.y - 1, bar.x + bar.width + 1, bar.y + bar.height + 1, kLineColor);
}

void DrawLegend(Canvas& canvas, const Font& font, const MemoryMapPalette& palette)
{
    const float column = static_cast<float>(kWidth - 2 * kMargin) / kLegendColumns;
    auto entry = [&](size_t i, Rgb color, const std::string& label, const std::string& figures)
    {
        const int col = static_cast<int>(i % kLegendColumns);
        const int row = static_cast<int>(i / kLegendColumns);
        const int x = kMargin + static_cast<int>(static_cast<float>(col) * column);
        const int y = kLegendTop + row * kLegendRow;
        canvas.FillRect(x, y + 3, x + 14, y + 17, color);
        canvas.StrokeRect(x, y + 3, x + 14, y + 17, kLineColor);
        const float room = column - 30.0f;
        const float figuresWidth = font.Width(figures, 11.0f);
        const std::string fitted = font.Fit(label, 13.0f, std::max(room - figuresWidth - 8.0f, room * 0.45f));
        const float w = font.Draw(canvas, static_cast<float>(x + 20), static_cast<float>(y + 15), fitted,
                                  13.0f, kTextColor);
        font.Draw(canvas, static_cast<float>(x + 20) + w + 6.0f, static_cast<float>(y + 15),
                  font.Fit(figures, 11.0f, room - w - 6.0f), 11.0f, kMutedTextColor);
    };
    size_t i = 0;
    for (const MemoryMapLegendEntry& e : palette.Legend())
        entry(i++, Hex(e.color), e.label, LegendFigures(e.bytes, e.count));
    entry(i, kFree, "free", "");
}

/// One line per legend entry that has a note, under the legend.
void DrawLegendNotes(Canvas& canvas, const Font& font, const MemoryMapPalette& palette, int top)
{
    float baseline = static_cast<float>(top + 13);
    for (const MemoryMapLegendEntry& e : palette.Legend())
        if (!e.note.empty())
        {
            font.Draw(canvas, kMargin, baseline, font.Fit(e.note, 12.0f, kWidth - 2.0f * kMargin), 12.0f,
                      kMutedTextColor);
            baseline += kNoteRow;
        }
}

/// The offset scale under a pool's bars: a mark and its label every axis.step bytes.
void DrawOffsetAxis(Canvas& canvas, const Font& font, const MemoryMapAxis& axis)
{
    const float baseline = static_cast<float>(axis.y + 15);
    font.Draw(canvas, kBarLeft - 12, baseline, "offset", 11.0f, kMutedTextColor, Align::Right);
    for (const MemoryMapTick& tick : axis.ticks)
    {
        canvas.FillRect(tick.x, axis.y, tick.x + 1, axis.y + 4, kLineColor);
        font.Draw(canvas, static_cast<float>(tick.x), baseline, OffsetLabel(tick.offset), 11.0f,
                  kMutedTextColor, Align::Center);
    }
}

void DrawPoolHeader(Canvas& canvas, const Font& font, const Font& bold, const DumpPool& pool, int barY)
{
    const float baseline = static_cast<float>(barY - 11);
    canvas.FillRect(kMargin, barY - kPoolHeader + 2, kWidth - kMargin, barY - kPoolHeader + 3, Hex(0xE4E4E4));
    const float w = bold.Draw(canvas, kMargin, baseline, PoolTitle(pool), 14.0f, kTextColor);
    font.Draw(canvas, kMargin + w + 12.0f, baseline, PoolDetails(pool), 12.0f, kMutedTextColor);
}

void DrawBlockBar(Canvas& canvas, const Font& font, const MemoryMapPalette& palette, const MemoryMapBar& bar,
                  const DumpBlock& block)
{
    const float baseline = static_cast<float>(bar.y + 16);
    DrawRanges(canvas, bar, block.ranges, block.totalBytes, palette);
    // Appended, not "#" + to_string: GCC 12 at -O3 reports a false -Wrestrict on that operator+.
    std::string label = "#";
    label += std::to_string(bar.block);
    font.Draw(canvas, kBarLeft - 12, baseline, label, 12.0f, kTextColor, Align::Right);
    font.Draw(canvas, kBarLeft - 48, baseline, FormatBytes(block.totalBytes), 12.0f, kMutedTextColor,
              Align::Right);
    font.Draw(canvas, static_cast<float>(bar.x + bar.width + 10), baseline, BlockUsage(block), 12.0f,
              kMutedTextColor);
}

void DrawDedicatedBar(Canvas& canvas, const Font& font, const MemoryMapPalette& palette,
                      const MemoryMapBar& bar, DumpRange allocation)
{
    const float baseline = static_cast<float>(bar.y + 16);
    allocation.offset = 0;
    DrawRanges(canvas, bar, {allocation}, allocation.size, palette);
    font.Draw(canvas, kBarLeft - 12, baseline, "dedicated", 12.0f, kTextColor, Align::Right);
    font.Draw(canvas, static_cast<float>(bar.x + bar.width + 10), baseline, FormatBytes(allocation.size),
              12.0f, kMutedTextColor);
    const std::string name = allocation.name.empty() ? allocation.type : allocation.name;
    const float room = static_cast<float>(bar.width) - 12.0f;
    if (room > 40.0f)
    {
        const Rgb fill = Hex(palette.ColorOf(allocation));
        const bool dark = 0.299f * fill.r + 0.587f * fill.g + 0.114f * fill.b < 150.0f;
        font.Draw(canvas, static_cast<float>(bar.x + 6), baseline, font.Fit(name, 11.0f, room), 11.0f,
                  dark ? Hex(0xFFFFFF) : kTextColor);
    }
}
} // namespace

bool WriteMemoryMapPng(const DumpModel& model, const std::string& path, std::string& error,
                       const std::string& moment)
{
    const MemoryMapLayout layout = LayoutMemoryMap(model);
    const MemoryMapPalette palette(model);
    const Font font = Font::Load();
    const Font bold = Font::Load(true);
    Canvas canvas(layout.width, layout.height, kBackgroundColor);

    bold.Draw(canvas, kMargin, 36, "VMA memory map", 22.0f, kTextColor);
    font.Draw(canvas, kMargin, 58, MemoryMapSummary(model, moment), 13.0f, kMutedTextColor);
    DrawLegend(canvas, font, palette);
    DrawLegendNotes(canvas, font, palette, layout.notesTop);

    if (layout.bars.empty())
        font.Draw(canvas, kMargin, static_cast<float>(layout.height - 24), kNoMemoryText, 14.0f,
                  kMutedTextColor);
    size_t lastPool = static_cast<size_t>(-1);
    for (const MemoryMapBar& bar : layout.bars)
    {
        const DumpPool& pool = model.pools[bar.pool];
        if (bar.pool != lastPool)
        {
            lastPool = bar.pool;
            DrawPoolHeader(canvas, font, bold, pool, bar.y);
        }
        if (bar.block >= 0)
            DrawBlockBar(canvas, font, palette, bar, pool.blocks[static_cast<size_t>(bar.block)]);
        else
            DrawDedicatedBar(canvas, font, palette, bar, pool.dedicated[static_cast<size_t>(bar.dedicated)]);
    }
    for (const MemoryMapAxis& axis : layout.axes)
        DrawOffsetAxis(canvas, font, axis);
    return canvas.WritePng(path, error);
}
} // namespace SceneryEditorX::Tool
