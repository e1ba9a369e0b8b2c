// The memory map as one self-contained HTML file: the same bars and legend as the PNG, with a
// tooltip on every range and the legend highlighting a tag's allocations.
#include "MemoryMap.h"
#include "MemoryMapText.h"
#include "Raster.h"
#include "TextFile.h"

#include <cstdio>

namespace SceneryEditorX::Tool
{
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
.axis{height:20px;align-items:flex-start}
.ticks{position:relative;height:20px}
.ticks span{position:absolute;top:0;transform:translateX(-50%);padding-top:4px;font-size:11px;color:#666;
 white-space:nowrap;background:linear-gradient(#555,#555) center top/1px 4px no-repeat}
.note{color:#666;font-size:12px;margin:-10px 0 16px}
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

bool WriteMemoryMapHtml(const DumpModel& model, const std::string& path, std::string& error,
                        const std::string& moment)
{
    const MemoryMapPalette palette(model);
    std::string html;
    html += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>VMA memory "
            "map</title>\n";
    html += "<style>";
    html += kHtmlStyle;
    for (size_t i = 0; i < palette.Legend().size(); ++i)
        html += ".k" + std::to_string(i) + "{background:" + CssColor(Hex(palette.Legend()[i].color)) + "}\n";
    html += "</style>\n</head>\n<body>\n<h1>VMA memory map</h1>\n<p class=\"sum\">" +
            Escape(MemoryMapSummary(model, moment)) + "</p>\n<div class=\"legend\">\n";
    for (size_t i = 0; i < palette.Legend().size(); ++i)
    {
        const MemoryMapLegendEntry& e = palette.Legend()[i];
        const std::string title = e.note.empty() ? "" : " title=\"" + Escape(e.note) + "\"";
        html += "<span class=\"key\" data-k=\"k" + std::to_string(i) + "\"" + title + "><i class=\"k" +
                std::to_string(i) + "\"></i>" + Escape(e.label) + " <em>" + LegendFigures(e.bytes, e.count) +
                "</em></span>\n";
    }
    html += "<span class=\"key\"><i style=\"background:" + CssColor(Hex(kMemoryMapFreeColor)) +
            "\"></i>free</span>\n</div>\n";
    for (const MemoryMapLegendEntry& e : palette.Legend())
        if (!e.note.empty())
            html += "<p class=\"note\">" + Escape(e.note) + "</p>\n";

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

    const MemoryMapLayout layout = LayoutMemoryMap(model);
    for (const MemoryMapAxis& axis : layout.axes)
    {
        const DumpPool& pool = model.pools[axis.pool];
        const double scale = 100.0 / static_cast<double>(PoolScale(pool));
        html += "<section class=\"pool\" data-pool=\"" + Escape(PoolTitle(pool)) + "\">\n<h2>" +
                Escape(PoolTitle(pool)) + "<small>" + Escape(PoolDetails(pool)) + "</small></h2>\n";
        for (size_t b = 0; b < pool.blocks.size(); ++b)
        {
            const DumpBlock& block = pool.blocks[b];
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
            html += "</div></div><div class=\"pct\">" + BlockUsage(block) + "</div></div>\n";
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
        html += "<div class=\"row axis\"><div class=\"lbl\">offset</div><div class=\"track\"><div "
                "class=\"ticks\">\n";
        for (const MemoryMapTick& tick : axis.ticks)
            html += "<span style=\"left:" + Percent(static_cast<double>(tick.offset) * scale) + "\">" +
                    OffsetLabel(tick.offset) + "</span>\n";
        html += "</div></div><div class=\"pct\"></div></div>\n</section>\n";
    }
    if (layout.axes.empty())
        html += std::string("<p class=\"sum\">") + kNoMemoryText + "</p>\n";
    html += "<div id=\"tip\"></div>\n<script>";
    html += kHtmlScript;
    html += "</script>\n</body>\n</html>\n";

    return WriteTextFile(path, html, error);
}
} // namespace SceneryEditorX::Tool
