#include "MemoryMap.h"

#include "Raster.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>

namespace SceneryEditorX::Tool
{
using detail::DumpBlock;
using detail::DumpModel;
using detail::DumpPool;
using detail::DumpRange;

namespace
{
// ---------------------------------------------------------------- layout constants (pixels)
constexpr int kWidth = 1200;
constexpr int kMargin = 24;
constexpr int kLegendTop = 74;
constexpr int kLegendColumns = 4;
constexpr int kLegendRow = 22;
constexpr int kPoolHeader = 30;
constexpr int kBarHeight = 22;
constexpr int kRowPitch = 30;
constexpr int kPoolGap = 14;
constexpr int kBarLeft = 150;
constexpr int kBarRight = kWidth - 104;

constexpr Rgb kBackground = Hex(0xFFFFFF);
constexpr Rgb kText = Hex(0x222222);
constexpr Rgb kMuted = Hex(0x666666);
constexpr Rgb kOutline = Hex(0x555555);
constexpr Rgb kFree = Hex(kMemoryMapFreeColor);

/// Distinct colours for the first keys; more keys get hues spread around the colour wheel.
constexpr uint32_t kPalette[] = {0x4E79A7, 0xF28E2B, 0x59A14F, 0xE15759, 0xB07AA1, 0x76B7B2,
                                 0xEDC948, 0x9C755F, 0xFF9DA7, 0x2F4B7C, 0x8CD17D, 0xD37295};

uint32_t PaletteColor(size_t index)
{
    if (index < std::size(kPalette))
        return kPalette[index];
    // HSV with the golden-angle hue step, saturation 0.55, value 0.8.
    const float h = std::fmod(static_cast<float>(index) * 137.508f, 360.0f) / 60.0f;
    const float v = 0.8f;
    const float s = 0.55f;
    const float c = v * s;
    const float x = c * (1.0f - std::fabs(std::fmod(h, 2.0f) - 1.0f));
    float r = 0, g = 0, b = 0;
    switch (static_cast<int>(h))
    {
    case 0:
        r = c, g = x;
        break;
    case 1:
        r = x, g = c;
        break;
    case 2:
        g = c, b = x;
        break;
    case 3:
        g = x, b = c;
        break;
    case 4:
        r = x, b = c;
        break;
    default:
        r = c, b = x;
        break;
    }
    const float m = v - c;
    auto ch = [&](float f)
    {
        return static_cast<uint32_t>(std::lround((f + m) * 255.0f));
    };
    return (ch(r) << 16) | (ch(g) << 8) | ch(b);
}

bool PoolHasMemory(const DumpPool& pool)
{
    return !pool.blocks.empty() || !pool.dedicated.empty();
}

std::string PoolTitle(const DumpPool& pool)
{
    if (pool.custom)
        return "pool \xE2\x80\x9C" + pool.name + "\xE2\x80\x9D \xC2\xB7 memory type " +
               std::to_string(pool.memoryType);
    return "default pool \xC2\xB7 memory type " + std::to_string(pool.memoryType);
}

struct PoolFigures
{
    uint64_t committed = 0;
    uint64_t used = 0;
    uint64_t blockSize = 0;
};

PoolFigures FiguresOf(const DumpPool& pool)
{
    PoolFigures f;
    f.blockSize = pool.preferredBlockSize;
    for (const DumpBlock& b : pool.blocks)
    {
        f.committed += b.totalBytes;
        for (const DumpRange& r : b.ranges)
            if (!r.free)
                f.used += r.size;
        if (!pool.preferredBlockSize)
            f.blockSize = std::max(f.blockSize, b.totalBytes);
    }
    for (const DumpRange& r : pool.dedicated)
    {
        f.committed += r.size;
        f.used += r.size;
    }
    return f;
}

std::string PoolDetails(const DumpPool& pool)
{
    const PoolFigures f = FiguresOf(pool);
    std::string s;
    if (!pool.blocks.empty())
        s += "block size " + FormatBytes(f.blockSize) + " \xC2\xB7 " + std::to_string(pool.blocks.size()) +
             (pool.blocks.size() == 1 ? " block" : " blocks");
    if (!pool.dedicated.empty())
        s +=
            std::string(s.empty() ? "" : " \xC2\xB7 ") + std::to_string(pool.dedicated.size()) + " dedicated";
    char pct[64];
    std::snprintf(pct, sizeof(pct), " \xC2\xB7 %.0f%% used \xC2\xB7 fragmentation %.0f%%",
                  f.committed ? 100.0 * static_cast<double>(f.used) / static_cast<double>(f.committed) : 0.0,
                  100.0 * static_cast<double>(detail::PoolFragmentation(pool)));
    return s + " \xC2\xB7 " + FormatBytes(f.committed) + " committed" + pct;
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

std::string Summary(const DumpModel& model)
{
    uint64_t blocks = 0, dedicated = 0, committed = 0, used = 0, allocations = 0;
    size_t pools = 0;
    for (const DumpPool& pool : model.pools)
    {
        if (!PoolHasMemory(pool))
            continue;
        ++pools;
        blocks += pool.blocks.size();
        dedicated += pool.dedicated.size();
        const PoolFigures f = FiguresOf(pool);
        committed += f.committed;
        used += f.used;
        for (const DumpBlock& b : pool.blocks)
            for (const DumpRange& r : b.ranges)
                allocations += r.free ? 0 : 1;
        allocations += pool.dedicated.size();
    }
    char frag[48];
    std::snprintf(frag, sizeof(frag), "fragmentation %.1f%%",
                  100.0 * static_cast<double>(detail::ExternalFragmentation(model.pools)));
    const std::string dot = " \xC2\xB7 ";
    return std::to_string(pools) + (pools == 1 ? " pool" : " pools") + dot + std::to_string(blocks) +
           (blocks == 1 ? " block" : " blocks") +
           (dedicated ? " + " + std::to_string(dedicated) + " dedicated" : std::string()) + dot +
           FormatBytes(committed) + " committed" + dot + FormatBytes(used) + " in " +
           std::to_string(allocations) + (allocations == 1 ? " allocation" : " allocations") + dot + frag;
}

int LegendRows(size_t entries)
{
    return static_cast<int>((entries + 1 + kLegendColumns - 1) / kLegendColumns); // +1: free
}

struct Palette
{
    std::vector<MemoryMapLegendEntry> legend;
    std::map<std::string, Rgb> colors;

    explicit Palette(const DumpModel& model) : legend(MemoryMapLegend(model))
    {
        for (const MemoryMapLegendEntry& e : legend)
            colors[e.key] = Hex(e.color);
    }
    Rgb Of(const DumpRange& r) const
    {
        auto it = colors.find(MemoryMapKey(r));
        return it != colors.end() ? it->second : Hex(0x888888);
    }
    size_t IndexOf(const DumpRange& r) const
    {
        const std::string key = MemoryMapKey(r);
        for (size_t i = 0; i < legend.size(); ++i)
            if (legend[i].key == key)
                return i;
        return 0;
    }
};

// ---------------------------------------------------------------- PNG

/// Fills one bar: free space, then each allocation with a darker one-pixel separator on its left
/// edge (or, when too narrow for one, a lighter shade on every other allocation).
void DrawRanges(Canvas& canvas, const MemoryMapBar& bar, const std::vector<DumpRange>& ranges, uint64_t total,
                const Palette& palette)
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
        Rgb color = palette.Of(r);
        if (x1 - x0 < 3 && (index & 1))
            color = Mix(color, Hex(0xFFFFFF), 0.3f);
        canvas.FillRect(x0, bar.y, x1, bar.y + bar.height, color);
        if (x1 - x0 >= 3)
            canvas.FillRect(x0, bar.y, x0 + 1, bar.y + bar.height, Mix(color, Hex(0x000000), 0.45f));
        ++index;
    }
    canvas.StrokeRect(bar.x - 1, bar.y - 1, bar.x + bar.width + 1, bar.y + bar.height + 1, kOutline);
}

void DrawLegend(Canvas& canvas, const Font& font, const Palette& palette)
{
    const float column = static_cast<float>(kWidth - 2 * kMargin) / kLegendColumns;
    auto entry = [&](size_t i, Rgb color, const std::string& label, const std::string& detail)
    {
        const int col = static_cast<int>(i % kLegendColumns);
        const int row = static_cast<int>(i / kLegendColumns);
        const int x = kMargin + static_cast<int>(static_cast<float>(col) * column);
        const int y = kLegendTop + row * kLegendRow;
        canvas.FillRect(x, y + 3, x + 14, y + 17, color);
        canvas.StrokeRect(x, y + 3, x + 14, y + 17, kOutline);
        const float room = column - 30.0f;
        const float detailWidth = font.Width(detail, 11.0f);
        const std::string fitted = font.Fit(label, 13.0f, std::max(room - detailWidth - 8.0f, room * 0.45f));
        const float w =
            font.Draw(canvas, static_cast<float>(x + 20), static_cast<float>(y + 15), fitted, 13.0f, kText);
        font.Draw(canvas, static_cast<float>(x + 20) + w + 6.0f, static_cast<float>(y + 15),
                  font.Fit(detail, 11.0f, room - w - 6.0f), 11.0f, kMuted);
    };
    size_t i = 0;
    for (const MemoryMapLegendEntry& e : palette.legend)
        entry(i++, Hex(e.color), e.label,
              FormatBytes(e.bytes) + " \xC2\xB7 " + std::to_string(e.count) +
                  (e.count == 1 ? " alloc" : " allocs"));
    entry(i, kFree, "free", "");
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
        e.label = key.front() == '[' ? key.substr(1, key.size() - 2) + " (unnamed)" : key;
        e.color = PaletteColor(colorIndex++);
        out.push_back(e);
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.bytes > b.bytes; });
    return out;
}

MemoryMapLayout LayoutMemoryMap(const DumpModel& model)
{
    MemoryMapLayout layout;
    layout.width = kWidth;
    int y = kLegendTop + LegendRows(MemoryMapLegend(model).size()) * kLegendRow + 16;
    bool any = false;
    for (size_t p = 0; p < model.pools.size(); ++p)
    {
        const DumpPool& pool = model.pools[p];
        if (!PoolHasMemory(pool))
            continue;
        any = true;
        y += kPoolHeader;
        const double scale = static_cast<double>(kBarRight - kBarLeft) / static_cast<double>(PoolScale(pool));
        auto bar = [&](int block, int dedicated, uint64_t bytes)
        {
            MemoryMapBar b;
            b.pool = p;
            b.block = block;
            b.dedicated = dedicated;
            b.bytes = bytes;
            b.x = kBarLeft;
            b.y = y;
            b.width = std::max(4, static_cast<int>(std::lround(static_cast<double>(bytes) * scale)));
            b.height = kBarHeight;
            layout.bars.push_back(b);
            y += kRowPitch;
        };
        for (size_t b = 0; b < pool.blocks.size(); ++b)
            bar(static_cast<int>(b), -1, pool.blocks[b].totalBytes);
        for (size_t d = 0; d < pool.dedicated.size(); ++d)
            bar(-1, static_cast<int>(d), pool.dedicated[d].size);
        y += kPoolGap;
    }
    if (!any)
        y += 40; // "no memory"
    layout.height = y + 8;
    return layout;
}

bool WriteMemoryMapPng(const DumpModel& model, const std::string& path, std::string& error)
{
    const MemoryMapLayout layout = LayoutMemoryMap(model);
    const Palette palette(model);
    const Font font = Font::Load();
    const Font bold = Font::Load(true);
    Canvas canvas(layout.width, layout.height, kBackground);

    bold.Draw(canvas, kMargin, 36, "VMA memory map", 22.0f, kText);
    font.Draw(canvas, kMargin, 58, Summary(model), 13.0f, kMuted);
    DrawLegend(canvas, font, palette);

    if (layout.bars.empty())
        font.Draw(canvas, kMargin, static_cast<float>(layout.height - 24), "no memory blocks in this dump",
                  14.0f, kMuted);
    size_t lastPool = static_cast<size_t>(-1);
    for (const MemoryMapBar& bar : layout.bars)
    {
        const DumpPool& pool = model.pools[bar.pool];
        if (bar.pool != lastPool)
        {
            lastPool = bar.pool;
            const float baseline = static_cast<float>(bar.y - 11);
            canvas.FillRect(kMargin, bar.y - kPoolHeader + 2, kWidth - kMargin, bar.y - kPoolHeader + 3,
                            Hex(0xE4E4E4));
            const float w = bold.Draw(canvas, kMargin, baseline, PoolTitle(pool), 14.0f, kText);
            font.Draw(canvas, kMargin + w + 12.0f, baseline, PoolDetails(pool), 12.0f, kMuted);
        }
        const float baseline = static_cast<float>(bar.y + 16);
        if (bar.block >= 0)
        {
            const DumpBlock& block = pool.blocks[static_cast<size_t>(bar.block)];
            DrawRanges(canvas, bar, block.ranges, block.totalBytes, palette);
            font.Draw(canvas, kBarLeft - 12, baseline, "#" + std::to_string(bar.block), 12.0f, kText,
                      Align::Right);
            font.Draw(canvas, kBarLeft - 48, baseline, FormatBytes(block.totalBytes), 12.0f, kMuted,
                      Align::Right);
            uint64_t used = 0;
            for (const DumpRange& r : block.ranges)
                used += r.free ? 0 : r.size;
            char pct[32];
            std::snprintf(pct, sizeof(pct), "%.0f%% used",
                          block.totalBytes
                              ? 100.0 * static_cast<double>(used) / static_cast<double>(block.totalBytes)
                              : 0.0);
            font.Draw(canvas, static_cast<float>(bar.x + bar.width + 10), baseline, pct, 12.0f, kMuted);
        }
        else
        {
            DumpRange r = pool.dedicated[static_cast<size_t>(bar.dedicated)];
            r.offset = 0;
            DrawRanges(canvas, bar, {r}, r.size, palette);
            font.Draw(canvas, kBarLeft - 12, baseline, "dedicated", 12.0f, kText, Align::Right);
            font.Draw(canvas, static_cast<float>(bar.x + bar.width + 10), baseline, FormatBytes(r.size),
                      12.0f, kMuted);
            const std::string name = r.name.empty() ? r.type : r.name;
            const float room = static_cast<float>(bar.width) - 12.0f;
            if (room > 40.0f)
            {
                const Rgb fill = palette.Of(r);
                const bool dark = 0.299f * fill.r + 0.587f * fill.g + 0.114f * fill.b < 150.0f;
                font.Draw(canvas, static_cast<float>(bar.x + 6), baseline, font.Fit(name, 11.0f, room), 11.0f,
                          dark ? Hex(0xFFFFFF) : kText);
            }
        }
    }
    return canvas.WritePng(path, error);
}

// ---------------------------------------------------------------- HTML

namespace
{
std::string Escape(const std::string& text)
{
    std::string out;
    out.reserve(text.size());
    for (char c : text)
        switch (c)
        {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            out += c;
        }
    return out;
}

std::string Percent(double value)
{
    char text[32];
    std::snprintf(text, sizeof(text), "%.4f%%", value);
    return text;
}

constexpr const char* kHtmlStyle = R"(
body{font:14px/1.4 "DejaVu Sans",system-ui,sans-serif;color:#222;margin:24px;background:#fff}
h1{font-size:22px;margin:0 0 4px}
.sum{color:#666;margin:0 0 14px}
.legend{display:flex;flex-wrap:wrap;gap:6px 22px;margin:0 0 18px}
.key{display:flex;align-items:center;gap:6px;cursor:default}
.key i{display:inline-block;width:14px;height:14px;border:1px solid #555}
.key em{color:#666;font-style:normal;font-size:12px}
.pool{margin:0 0 16px;border-top:1px solid #e4e4e4;padding-top:6px}
.pool h2{font-size:14px;margin:0 0 6px}
.pool h2 small{font-weight:normal;color:#666;font-size:12px;margin-left:10px}
.row{display:flex;align-items:center;height:30px}
.lbl{width:126px;text-align:right;padding-right:12px;font-size:12px;white-space:nowrap}
.lbl span{color:#666;margin-right:10px}
.track{flex:1;height:22px}
.bar{position:relative;height:22px;background:#ddd;outline:1px solid #555;overflow:hidden}
.bar>div{position:absolute;top:0;bottom:0;min-width:1px}
.alloc{box-shadow:inset 1px 0 rgba(0,0,0,.4)}
.free{background:#ddd}
.bar>div:hover{outline:2px solid #000;z-index:1}
.pct{width:92px;padding-left:10px;font-size:12px;color:#666;white-space:nowrap}
body.hl .alloc{opacity:.2}
body.hl .alloc.on{opacity:1}
#tip{position:fixed;display:none;pointer-events:none;background:#fff;border:1px solid #888;border-radius:4px;
 box-shadow:0 2px 8px rgba(0,0,0,.25);padding:6px 9px;font-size:12px;z-index:10;max-width:460px}
#tip table{border-collapse:collapse}#tip td{padding:1px 6px 1px 0;vertical-align:top}
#tip td:first-child{color:#666}
)";

constexpr const char* kHtmlScript = R"(
(function(){
var tip=document.getElementById('tip');
function bytes(n){var u=['B','KiB','MiB','GiB','TiB'],i=0,v=n;while(v>=1024&&i<4){v/=1024;i++;}
 return (i?v.toFixed(v<100?1:0)+' '+u[i]+' (':'')+n.toLocaleString('en')+(i?' B)':' B');}
function esc(s){return String(s).replace(/[&<>"]/g,function(c){return{'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c];});}
document.addEventListener('mousemove',function(e){
 var el=e.target.closest&&e.target.closest('.alloc,.free');
 if(!el){tip.style.display='none';return;}
 var d=el.dataset,row=el.closest('.row'),pool=el.closest('.pool');
 var rows=[['tag',d.tag],['name',d.name||'(none)'],['type',d.type],
  ['offset',d.offset==='-'?'-':Number(d.offset).toLocaleString('en')+' (0x'+Number(d.offset).toString(16)+')'],
  ['size',bytes(Number(d.size))],['block',row.dataset.block],['pool',pool.dataset.pool]];
 tip.innerHTML='<table>'+rows.map(function(r){return '<tr><td>'+r[0]+'</td><td>'+esc(r[1])+'</td></tr>';}).join('')+'</table>';
 tip.style.display='block';
 var x=e.clientX+14,y=e.clientY+14,w=tip.offsetWidth,h=tip.offsetHeight;
 if(x+w>window.innerWidth-4)x=e.clientX-w-14;if(y+h>window.innerHeight-4)y=e.clientY-h-14;
 tip.style.left=x+'px';tip.style.top=y+'px';});
document.querySelectorAll('.key[data-k]').forEach(function(k){
 k.addEventListener('mouseenter',function(){document.body.classList.add('hl');
  document.querySelectorAll('.alloc.'+k.dataset.k).forEach(function(a){a.classList.add('on');});});
 k.addEventListener('mouseleave',function(){document.body.classList.remove('hl');
  document.querySelectorAll('.alloc.on').forEach(function(a){a.classList.remove('on');});});});
})();
)";
} // namespace

bool WriteMemoryMapHtml(const DumpModel& model, const std::string& path, std::string& error)
{
    const Palette palette(model);
    std::string html;
    html += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>VMA memory "
            "map</title>\n";
    html += "<style>";
    html += kHtmlStyle;
    for (size_t i = 0; i < palette.legend.size(); ++i)
        html += ".k" + std::to_string(i) + "{background:" + CssColor(Hex(palette.legend[i].color)) + "}\n";
    html += "</style>\n</head>\n<body>\n<h1>VMA memory map</h1>\n<p class=\"sum\">" + Escape(Summary(model)) +
            "</p>\n<div class=\"legend\">\n";
    for (size_t i = 0; i < palette.legend.size(); ++i)
    {
        const MemoryMapLegendEntry& e = palette.legend[i];
        html += "<span class=\"key\" data-k=\"k" + std::to_string(i) + "\"><i class=\"k" + std::to_string(i) +
                "\"></i>" + Escape(e.label) + " <em>" + FormatBytes(e.bytes) + " \xC2\xB7 " +
                std::to_string(e.count) + (e.count == 1 ? " alloc" : " allocs") + "</em></span>\n";
    }
    html += "<span class=\"key\"><i style=\"background:" + CssColor(kFree) + "\"></i>free</span>\n</div>\n";

    auto rangeDiv = [&](const DumpRange& r, uint64_t offset, uint64_t total, bool dedicated)
    {
        const double left = total ? 100.0 * static_cast<double>(offset) / static_cast<double>(total) : 0.0;
        const double width = total ? 100.0 * static_cast<double>(r.size) / static_cast<double>(total) : 0.0;
        std::string cls = r.free ? "free" : "alloc k" + std::to_string(palette.IndexOf(r));
        const std::string tag = r.free ? "free" : r.name.substr(0, r.name.find(':'));
        html += "<div class=\"" + cls + "\" style=\"left:" + Percent(left) + ";width:" + Percent(width) +
                "\" data-tag=\"" + Escape(tag.empty() ? "(unnamed)" : tag) + "\" data-name=\"" +
                Escape(r.name) + "\" data-type=\"" + Escape(r.type.empty() ? "UNKNOWN" : r.type) +
                "\" data-offset=\"" + (dedicated ? std::string("-") : std::to_string(r.offset)) +
                "\" data-size=\"" + std::to_string(r.size) + "\"></div>\n";
    };

    bool any = false;
    for (const DumpPool& pool : model.pools)
    {
        if (!PoolHasMemory(pool))
            continue;
        any = true;
        const double scale = 100.0 / static_cast<double>(PoolScale(pool));
        html += "<section class=\"pool\" data-pool=\"" + Escape(PoolTitle(pool)) + "\">\n<h2>" +
                Escape(PoolTitle(pool)) + "<small>" + Escape(PoolDetails(pool)) + "</small></h2>\n";
        for (size_t b = 0; b < pool.blocks.size(); ++b)
        {
            const DumpBlock& block = pool.blocks[b];
            uint64_t used = 0;
            for (const DumpRange& r : block.ranges)
                used += r.free ? 0 : r.size;
            char pct[32];
            std::snprintf(pct, sizeof(pct), "%.0f%% used",
                          block.totalBytes
                              ? 100.0 * static_cast<double>(used) / static_cast<double>(block.totalBytes)
                              : 0.0);
            html += "<div class=\"row\" data-block=\"#" + std::to_string(b) + " (" +
                    FormatBytes(block.totalBytes) + ")\"><div class=\"lbl\"><span>" +
                    FormatBytes(block.totalBytes) + "</span>#" + std::to_string(b) +
                    "</div><div class=\"track\"><div class=\"bar\" style=\"width:" +
                    Percent(static_cast<double>(block.totalBytes) * scale) + "\">\n";
            if (block.ranges.empty())
            {
                DumpRange whole;
                whole.size = block.totalBytes;
                whole.type = "FREE";
                rangeDiv(whole, 0, block.totalBytes, false);
            }
            for (const DumpRange& r : block.ranges)
                rangeDiv(r, r.offset, block.totalBytes, false);
            html += "</div></div><div class=\"pct\">" + std::string(pct) + "</div></div>\n";
        }
        for (const DumpRange& r : pool.dedicated)
        {
            html += "<div class=\"row\" data-block=\"dedicated (" + FormatBytes(r.size) +
                    ")\"><div class=\"lbl\">dedicated</div><div class=\"track\"><div class=\"bar\" "
                    "style=\"width:" +
                    Percent(static_cast<double>(r.size) * scale) + "\">\n";
            rangeDiv(r, 0, r.size, true);
            html += "</div></div><div class=\"pct\">" + FormatBytes(r.size) + "</div></div>\n";
        }
        html += "</section>\n";
    }
    if (!any)
        html += "<p class=\"sum\">no memory blocks in this dump</p>\n";
    html += "<div id=\"tip\"></div>\n<script>";
    html += kHtmlScript;
    html += "</script>\n</body>\n</html>\n";

    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    if (file)
        file << html;
    if (!file)
    {
        error = "cannot write " + path;
        return false;
    }
    return true;
}
} // namespace SceneryEditorX::Tool
