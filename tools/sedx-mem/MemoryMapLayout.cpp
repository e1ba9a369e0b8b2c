#include "MemoryMapLayout.h"

#include "MemoryMapText.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace SceneryEditorX::Tool
{
using namespace MemoryMapPixels;

namespace
{
/// Distinct colours for the first keys; more keys get hues spread around the colour wheel.
constexpr uint32_t kPalette[] = {0x4E79A7, 0xF28E2B, 0x59A14F, 0xE15759, 0xB07AA1, 0x76B7B2,
                                 0xEDC948, 0x9C755F, 0xFF9DA7, 0x2F4B7C, 0x8CD17D, 0xD37295};

uint32_t PaletteColor(size_t index)
{
    if (index < std::size(kPalette))
        return kPalette[index];
    // HSV with the golden-angle hue step, saturation 0.55, value 0.8.
    const float hue = std::fmod(static_cast<float>(index) * 137.508f, 360.0f) / 60.0f;
    const float v = 0.8f;
    const float s = 0.55f;
    auto channel = [&](float n)
    {
        const float k = std::fmod(n + hue, 6.0f);
        const float f = v - v * s * std::clamp(std::min(k, 4.0f - k), 0.0f, 1.0f);
        return static_cast<uint32_t>(std::lround(f * 255.0f));
    };
    return (channel(5.0f) << 16) | (channel(3.0f) << 8) | channel(1.0f);
}

int LegendRows(size_t entries)
{
    return static_cast<int>((entries + 1 + kLegendColumns - 1) / kLegendColumns); // +1: free
}

/// Marks every `step` bytes from 0 to `scale`: the smallest power of two that makes at most 8 steps
/// and whose multiples FormatBytes writes exactly (a mark of 1.25 MiB would read "1.2 MiB").
MemoryMapAxis OffsetAxis(size_t pool, int y, uint64_t scale)
{
    MemoryMapAxis axis;
    axis.pool = pool;
    axis.y = y;
    axis.step = std::bit_ceil(std::max<uint64_t>(1, (scale + 7) / 8));
    auto exact = [&](uint64_t step)
    {
        for (uint64_t offset = step; offset <= scale; offset += step)
            if (!FormatsExactly(offset))
                return false;
        return true;
    };
    while (!exact(axis.step))
        axis.step *= 2;
    const double pixelsPerByte = static_cast<double>(kBarRight - kBarLeft) / static_cast<double>(scale);
    for (uint64_t offset = 0; offset <= scale; offset += axis.step)
        axis.ticks.push_back(MemoryMapTick{
            offset, kBarLeft + static_cast<int>(std::lround(static_cast<double>(offset) * pixelsPerByte))});
    return axis;
}
} // namespace

std::string MemoryMapKey(const DumpRange& range)
{
    const std::string tag = range.name.substr(0, range.name.find(':'));
    if (!tag.empty())
        return tag;
    return "[" + (range.type.empty() ? std::string("UNKNOWN") : range.type) + "]";
}

std::vector<MemoryMapLegendEntry> MemoryMapLegend(const DumpModel& model)
{
    std::map<std::string, MemoryMapLegendEntry> byKey; // sorted: colours depend only on the keys
    auto add = [&](const DumpRange& r)
    {
        MemoryMapLegendEntry& e = byKey[MemoryMapKey(r)];
        e.bytes += r.size;
        ++e.count;
    };
    for (const DumpPool& pool : model.pools)
    {
        for (const DumpBlock& b : pool.blocks)
            for (const DumpRange& r : b.ranges)
                if (!r.free)
                    add(r);
        for (const DumpRange& r : pool.dedicated)
            add(r);
    }
    std::vector<MemoryMapLegendEntry> out;
    size_t colorIndex = 0;
    for (auto& [key, e] : byKey)
    {
        e.key = key;
        e.label = LegendLabel(key);
        e.note = LegendNote(key);
        e.color = PaletteColor(colorIndex++);
        out.push_back(e);
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.bytes > b.bytes; });
    return out;
}

MemoryMapPalette::MemoryMapPalette(const DumpModel& model) : m_Legend(MemoryMapLegend(model))
{
    for (size_t i = 0; i < m_Legend.size(); ++i)
        m_IndexByKey[m_Legend[i].key] = i;
}

uint32_t MemoryMapPalette::ColorOf(const DumpRange& range) const
{
    auto it = m_IndexByKey.find(MemoryMapKey(range));
    return it != m_IndexByKey.end() ? m_Legend[it->second].color : 0x888888;
}

size_t MemoryMapPalette::IndexOf(const DumpRange& range) const
{
    auto it = m_IndexByKey.find(MemoryMapKey(range));
    return it != m_IndexByKey.end() ? it->second : 0;
}

bool PoolHasMemory(const DumpPool& pool)
{
    return !pool.blocks.empty() || !pool.dedicated.empty();
}

uint64_t PoolScale(const DumpPool& pool)
{
    uint64_t largest = 1;
    for (const DumpBlock& b : pool.blocks)
        largest = std::max(largest, b.totalBytes);
    for (const DumpRange& r : pool.dedicated)
        largest = std::max(largest, r.size);
    return largest;
}

MemoryMapLayout LayoutMemoryMap(const DumpModel& model)
{
    MemoryMapLayout layout;
    layout.width = kWidth;
    const std::vector<MemoryMapLegendEntry> legend = MemoryMapLegend(model);
    layout.notesTop = kLegendTop + LegendRows(legend.size()) * kLegendRow;
    int y = layout.notesTop + 16;
    for (const MemoryMapLegendEntry& e : legend)
        y += e.note.empty() ? 0 : kNoteRow;
    bool any = false;
    for (size_t p = 0; p < model.pools.size(); ++p)
    {
        const DumpPool& pool = model.pools[p];
        if (!PoolHasMemory(pool))
            continue;
        any = true;
        y += kPoolHeader;
        const uint64_t poolScale = PoolScale(pool);
        const double scale = static_cast<double>(kBarRight - kBarLeft) / static_cast<double>(poolScale);
        auto bar = [&](int block, int dedicated, uint64_t bytes)
        {
            const int width = std::max(4, static_cast<int>(std::lround(static_cast<double>(bytes) * scale)));
            layout.bars.push_back(MemoryMapBar{p, block, dedicated, bytes, kBarLeft, y, width, kBarHeight});
            y += kRowPitch;
        };
        for (size_t b = 0; b < pool.blocks.size(); ++b)
            bar(static_cast<int>(b), -1, pool.blocks[b].totalBytes);
        for (size_t d = 0; d < pool.dedicated.size(); ++d)
            bar(-1, static_cast<int>(d), pool.dedicated[d].size);
        // The scale hangs just under the last bar.
        const int axisY = y - (kRowPitch - kBarHeight) + 2;
        layout.axes.push_back(OffsetAxis(p, axisY, poolScale));
        y = axisY + kAxisHeight + kPoolGap;
    }
    if (!any)
        y += 40; // "no memory"
    layout.height = y + 8;
    return layout;
}
} // namespace SceneryEditorX::Tool
