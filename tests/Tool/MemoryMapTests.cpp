// The memory map of a dump (tools/sedx-mem/MemoryMap.h) on hand-made models: the PNG's size and
// pixels (allocations in their tag's colour, free space in light grey, separators between
// neighbours, text, offset scales), the HTML's elements with their tooltip data, and the words both
// show (the library's own tag and pools, block sizes).
#include "MemoryMap.h"
#include "MemoryMapText.h"
#include "ToolTestSupport.h"
#include <filesystem>

#include <Support/TestEnvironment.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace SceneryEditorX
{
namespace
{
using namespace ::SceneryEditorX::Test;
using namespace ::SceneryEditorX::Tool;
using detail::DumpBlock;
using detail::DumpModel;
using detail::DumpPool;
using detail::DumpRange;

constexpr uint64_t KiB = 1024;
constexpr uint64_t MiB = 1024 * KiB;

DumpRange Used(uint64_t offset, uint64_t size, const std::string& name, const std::string& type = "BUFFER")
{
    return DumpRange{offset, size, false, type, name};
}

DumpRange Free(uint64_t offset, uint64_t size)
{
    return DumpRange{offset, size, true, "FREE", ""};
}

DumpBlock Block(std::vector<DumpRange> ranges)
{
    DumpBlock block;
    for (const DumpRange& r : ranges)
    {
        block.totalBytes += r.size;
        block.unusedBytes += r.free ? r.size : 0;
        block.allocations += r.free ? 0 : 1;
    }
    block.ranges = std::move(ranges);
    return block;
}

/// Default pool of type 2: block 0 (4 MiB) = Mesh [0,1M) | free [1M,2M) | Texture [2M,3M) | free
/// [3M,4M); block 1 (2 MiB) = Mesh [0,512K) Mesh [512K,1M) (neighbours of one tag) | free;
/// block 2 (1 MiB) empty. Custom pool "Uniform pool" of type 1: one block with an unnamed IMAGE and a
/// name that needs escaping, and one dedicated allocation.
DumpModel HandMadeModel()
{
    DumpModel model;
    DumpPool pool;
    pool.name = "default";
    pool.memoryType = 2;
    pool.preferredBlockSize = 4 * MiB;
    pool.blocks.push_back(
        Block({Used(0, MiB, "Mesh Renderer:tile 3,4 vertices"), Free(MiB, MiB),
               Used(2 * MiB, MiB, "TextureManager:grass", "IMAGE_OPTIMAL"), Free(3 * MiB, MiB)}));
    pool.blocks.push_back(Block({Used(0, 512 * KiB, "Mesh Renderer:a"),
                                 Used(512 * KiB, 512 * KiB, "Mesh Renderer:b"), Free(MiB, MiB)}));
    pool.blocks.push_back(Block({Free(0, MiB)}));
    model.pools.push_back(pool);

    DumpPool custom;
    custom.name = "Uniform pool";
    custom.custom = true;
    custom.memoryType = 1;
    custom.preferredBlockSize = MiB;
    custom.blocks.push_back(
        Block({Used(0, 256 * KiB, "", "IMAGE_OPTIMAL"),
               Used(256 * KiB, 256 * KiB, "Uniforms:<frame & \"globals\">"), Free(512 * KiB, 512 * KiB)}));
    custom.dedicated.push_back(Used(0, 768 * KiB, "sedx:staging"));
    model.pools.push_back(custom);

    DumpPool empty; // a default pool without memory: not drawn
    empty.name = "default";
    empty.memoryType = 0;
    model.pools.push_back(empty);
    return model;
}

uint32_t ColorOf(const DumpModel& model, const std::string& key)
{
    for (const MemoryMapLegendEntry& e : MemoryMapLegend(model))
        if (e.key == key)
            return e.color;
    ADD_FAILURE() << "no legend entry " << key;
    return 0;
}

/// The pixel at `fraction` of the bar's width, half-way down.
uint32_t PixelAt(const Image& image, const MemoryMapBar& bar, double fraction)
{
    return image.At(bar.x + static_cast<int>(fraction * bar.width), bar.y + bar.height / 2);
}

TEST(MemoryMapTest, KeysAreTagsOrTheTypeOfUnnamedAllocations)
{
    EXPECT_EQ(MemoryMapKey(Used(0, 1, "Mesh Renderer:tile 3,4 vertices")), "Mesh Renderer");
    EXPECT_EQ(MemoryMapKey(Used(0, 1, "Uniforms")), "Uniforms");
    EXPECT_EQ(MemoryMapKey(Used(0, 1, "sedx:staging")), "sedx");
    EXPECT_EQ(MemoryMapKey(Used(0, 1, "", "BUFFER")), "[BUFFER]");
    EXPECT_EQ(MemoryMapKey(Used(0, 1, "", "IMAGE_LINEAR")), "[IMAGE_LINEAR]");
    EXPECT_EQ(MemoryMapKey(Used(0, 1, "", "")), "[UNKNOWN]");
    EXPECT_EQ(MemoryMapKey(Used(0, 1, ":odd", "IMAGE_OPTIMAL")), "[IMAGE_OPTIMAL]");
}

TEST(MemoryMapTest, LegendHasOneDistinctColourPerKeyLargestFirst)
{
    const DumpModel model = HandMadeModel();
    const std::vector<MemoryMapLegendEntry> legend = MemoryMapLegend(model);
    ASSERT_EQ(legend.size(), 5u); // Mesh Renderer, TextureManager, Uniforms, sedx, [IMAGE_OPTIMAL]
    EXPECT_EQ(legend[0].key, "Mesh Renderer");
    EXPECT_EQ(legend[0].bytes, 2 * MiB);
    EXPECT_EQ(legend[0].count, 3u);
    std::set<uint32_t> colors;
    for (size_t i = 0; i < legend.size(); ++i)
    {
        colors.insert(legend[i].color);
        EXPECT_NE(legend[i].color, kMemoryMapFreeColor);
        if (i > 0)
        {
            EXPECT_GE(legend[i - 1].bytes, legend[i].bytes);
        }
    }
    EXPECT_EQ(colors.size(), legend.size());
    auto label = [&](const std::string& key)
    {
        for (const auto& e : legend)
            if (e.key == key)
                return e.label;
        return std::string();
    };
    EXPECT_EQ(label("[IMAGE_OPTIMAL]"), "IMAGE_OPTIMAL (unnamed)");
}

TEST(MemoryMapTest, LayoutHasOneBarPerBlockAndDedicatedAllocation)
{
    const DumpModel model = HandMadeModel();
    const MemoryMapLayout layout = LayoutMemoryMap(model);
    EXPECT_EQ(layout.width, 1200);
    ASSERT_EQ(layout.bars.size(), 5u); // 3 blocks + 1 block + 1 dedicated; the empty pool has none
    EXPECT_EQ(layout.bars[0].block, 0);
    EXPECT_EQ(layout.bars[3].pool, 1u);
    EXPECT_EQ(layout.bars[4].dedicated, 0);
    // Widths are proportional to the size within a pool; bars do not overlap and fit the picture.
    EXPECT_NEAR(layout.bars[1].width * 2.0, layout.bars[0].width, 2.0);
    EXPECT_NEAR(layout.bars[2].width * 4.0, layout.bars[0].width, 4.0);
    for (size_t i = 0; i < layout.bars.size(); ++i)
    {
        const MemoryMapBar& bar = layout.bars[i];
        EXPECT_GT(bar.width, 0);
        EXPECT_LE(bar.x + bar.width, layout.width);
        EXPECT_LE(bar.y + bar.height, layout.height);
        if (i > 0)
        {
            EXPECT_GE(bar.y, layout.bars[i - 1].y + layout.bars[i - 1].height);
        }
    }
    // Height grows with the number of blocks.
    DumpModel more = model;
    more.pools[0].blocks.push_back(more.pools[0].blocks[0]);
    EXPECT_GT(LayoutMemoryMap(more).height, layout.height);
}

TEST(MemoryMapTest, PngHasTheLayoutSizeAndAllocatedAndFreePixelsDiffer)
{
    const DumpModel model = HandMadeModel();
    const MemoryMapLayout layout = LayoutMemoryMap(model);
    const auto path = ToolTestDir("out") / "hand-made.png";
    std::string error;
    ASSERT_TRUE(WriteMemoryMapPng(model, path.string(), error)) << error;
    const Image image = LoadPng(path);
    ASSERT_EQ(image.width, 1200);
    ASSERT_EQ(image.height, layout.height);

    const MemoryMapBar& block0 = layout.bars[0];
    const uint32_t mesh = PixelAt(image, block0, 0.125);    // Mesh Renderer [0, 1M) of 4M
    const uint32_t free1 = PixelAt(image, block0, 0.375);   // free [1M, 2M)
    const uint32_t texture = PixelAt(image, block0, 0.625); // TextureManager [2M, 3M)
    const uint32_t free2 = PixelAt(image, block0, 0.875);   // free [3M, 4M)
    EXPECT_EQ(mesh, ColorOf(model, "Mesh Renderer"));
    EXPECT_EQ(texture, ColorOf(model, "TextureManager"));
    EXPECT_EQ(free1, kMemoryMapFreeColor);
    EXPECT_EQ(free2, kMemoryMapFreeColor);
    EXPECT_NE(mesh, free1);
    EXPECT_NE(texture, free1);
    EXPECT_NE(mesh, texture);

    // Two neighbours of one tag: a separator at the second one's left edge.
    const MemoryMapBar& block1 = layout.bars[1];
    const int edge = block1.x + block1.width / 4; // 512K of 2M
    const int y = block1.y + block1.height / 2;
    EXPECT_EQ(image.At(edge - 3, y), ColorOf(model, "Mesh Renderer"));
    EXPECT_EQ(image.At(edge + 3, y), ColorOf(model, "Mesh Renderer"));
    EXPECT_NE(image.At(edge, y), ColorOf(model, "Mesh Renderer"));
    EXPECT_EQ(PixelAt(image, block1, 0.75), kMemoryMapFreeColor);

    // The empty block is all free; the unnamed image in the custom pool has its type's colour; the
    // dedicated allocation fills its bar.
    EXPECT_EQ(PixelAt(image, layout.bars[2], 0.5), kMemoryMapFreeColor);
    EXPECT_EQ(PixelAt(image, layout.bars[3], 0.05), ColorOf(model, "[IMAGE_OPTIMAL]"));
    EXPECT_EQ(PixelAt(image, layout.bars[3], 0.45), ColorOf(model, "Uniforms"));
    EXPECT_EQ(PixelAt(image, layout.bars[4], 0.95), ColorOf(model, "sedx"));
    // The bar has an outline, distinct from the white background.
    EXPECT_NE(image.At(block0.x - 1, block0.y + 5), 0xFFFFFFu);
    EXPECT_EQ(image.At(block0.x - 4, block0.y + 5), 0xFFFFFFu);
}

TEST(MemoryMapTest, NarrowNeighboursStayDistinguishable)
{
    // 64 allocations of 4 KiB in a 1 MiB block are about 3.7 pixels each (with separators) and 512 of
    // 1 KiB in another block are below a pixel each (alternating shades): neither is one flat colour.
    DumpModel model;
    DumpPool pool;
    pool.name = "default";
    DumpBlock wide;
    DumpBlock narrow;
    for (uint64_t i = 0; i < 64; ++i)
        wide.ranges.push_back(Used(i * 4 * KiB, 4 * KiB, "Small:x"));
    wide.ranges.push_back(Free(256 * KiB, 768 * KiB));
    for (uint64_t i = 0; i < 512; ++i)
        narrow.ranges.push_back(Used(i * KiB, KiB, "Small:x"));
    narrow.ranges.push_back(Free(512 * KiB, 512 * KiB));
    wide.totalBytes = narrow.totalBytes = MiB;
    pool.blocks = {wide, narrow};
    model.pools.push_back(pool);
    const auto path = ToolTestDir("out") / "narrow.png";
    std::string error;
    ASSERT_TRUE(WriteMemoryMapPng(model, path.string(), error)) << error;
    const Image image = LoadPng(path);
    const MemoryMapLayout layout = LayoutMemoryMap(model);
    for (const MemoryMapBar& bar : layout.bars)
    {
        std::set<uint32_t> colors;
        for (int x = bar.x; x < bar.x + bar.width / 4; ++x)
            colors.insert(image.At(x, bar.y + bar.height / 2));
        EXPECT_GE(colors.size(), 2u) << "bar at y " << bar.y;
        EXPECT_EQ(colors.count(kMemoryMapFreeColor), 0u);
    }
}

/// Dark pixels (text) in the title area, above the legend.
size_t DarkPixelsInTitle(const Image& image)
{
    size_t dark = 0;
    for (int y = 0; y < 64; ++y)
        for (int x = 0; x < image.width; ++x)
            dark += (image.At(x, y) & 0xFF) < 128 ? 1 : 0;
    return dark;
}

TEST(MemoryMapTest, TextIsDrawnAndAMissingFontStillGivesThePicture)
{
    // The font comes from Debian's fonts-dejavu-core, which scripts/install-deps.sh installs; a
    // machine that only runs the binaries (the GPU machine) may not have it.
    if (!std::filesystem::exists("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf") &&
        !std::getenv("SEDX_MEM_FONT"))
        GTEST_SKIP() << "no DejaVu font on this machine (package fonts-dejavu-core)";
    const DumpModel model = HandMadeModel();
    const auto withFont = ToolTestDir("out") / "with-font.png";
    const auto withoutFont = ToolTestDir("out") / "without-font.png";
    std::string error;
    ASSERT_TRUE(WriteMemoryMapPng(model, withFont.string(), error)) << error;
    {
        ScopedEnv font("SEDX_MEM_FONT", std::string("/nonexistent/font.ttf"));
        ASSERT_TRUE(WriteMemoryMapPng(model, withoutFont.string(), error)) << error;
    }
    const Image a = LoadPng(withFont);
    const Image b = LoadPng(withoutFont);
    EXPECT_EQ(a.width, b.width);
    EXPECT_EQ(a.height, b.height);
    EXPECT_GT(DarkPixelsInTitle(a), 200u);
    EXPECT_EQ(DarkPixelsInTitle(b), 0u);
    const MemoryMapBar bar = LayoutMemoryMap(model).bars[0];
    EXPECT_EQ(PixelAt(a, bar, 0.125), PixelAt(b, bar, 0.125));
}

TEST(MemoryMapTest, EmptyDumpStillGivesAPicture)
{
    const DumpModel model;
    const auto png = ToolTestDir("out") / "empty.png";
    const auto html = ToolTestDir("out") / "empty.html";
    std::string error;
    ASSERT_TRUE(WriteMemoryMapPng(model, png.string(), error)) << error;
    ASSERT_TRUE(WriteMemoryMapHtml(model, html.string(), error)) << error;
    const Image image = LoadPng(png);
    EXPECT_EQ(image.width, 1200);
    EXPECT_EQ(image.height, LayoutMemoryMap(model).height);
    EXPECT_NE(ReadText(html).find("no memory blocks"), std::string::npos);
}

TEST(MemoryMapTest, HtmlHasOneElementPerRangeWithItsTooltipData)
{
    const DumpModel model = HandMadeModel();
    const auto path = ToolTestDir("out") / "hand-made.html";
    std::string error;
    ASSERT_TRUE(WriteMemoryMapHtml(model, path.string(), error)) << error;
    const std::string html = ReadText(path);

    // 6 allocations in blocks + 1 dedicated; 5 free ranges.
    EXPECT_EQ(CountOf(html, "class=\"alloc "), 7u);
    EXPECT_EQ(CountOf(html, "class=\"free\""), 5u);
    EXPECT_NE(
        html.find("class=\"alloc k0\" style=\"left:0.0000%;width:25.0000%\" data-tag=\"Mesh Renderer\" "
                  "data-name=\"Mesh Renderer:tile 3,4 vertices\" data-type=\"BUFFER\" data-offset=\"0\" "
                  "data-size=\"1048576\""),
        std::string::npos);
    EXPECT_NE(
        html.find(
            "data-tag=\"TextureManager\" data-name=\"TextureManager:grass\" data-type=\"IMAGE_OPTIMAL\" "
            "data-offset=\"2097152\" data-size=\"1048576\""),
        std::string::npos);
    EXPECT_NE(
        html.find("class=\"free\" style=\"left:25.0000%;width:25.0000%\" data-tag=\"free\" data-name=\"\" "
                  "data-type=\"FREE\" data-offset=\"1048576\" data-size=\"1048576\""),
        std::string::npos);
    EXPECT_NE(html.find("data-tag=\"(unnamed)\" data-name=\"\" data-type=\"IMAGE_OPTIMAL\""),
              std::string::npos);
    EXPECT_NE(
        html.find("data-name=\"sedx:staging\" data-type=\"BUFFER\" data-offset=\"-\" data-size=\"786432\""),
        std::string::npos);
    // Names are escaped; block and pool are on the enclosing row and section.
    EXPECT_NE(html.find("data-name=\"Uniforms:&lt;frame &amp; &quot;globals&quot;&gt;\""), std::string::npos);
    EXPECT_EQ(html.find("<frame &"), std::string::npos);
    EXPECT_EQ(CountOf(html, "<div class=\"row\" data-block=\"#0 "), 2u);
    EXPECT_EQ(CountOf(html, "<div class=\"row\" data-block=\"dedicated "), 1u);
    EXPECT_NE(html.find("<section class=\"pool\" data-pool=\"default pool \xC2\xB7 memory type 2\">"),
              std::string::npos);
    EXPECT_NE(html.find("data-pool=\"pool \xE2\x80\x9CUniform pool\xE2\x80\x9D \xC2\xB7 memory type 1\""),
              std::string::npos);
    // The legend, the tooltip code, and nothing loaded from elsewhere.
    EXPECT_EQ(CountOf(html, "<span class=\"key\""), 6u); // 5 keys + free
    EXPECT_NE(html.find("<div id=\"tip\">"), std::string::npos);
    EXPECT_NE(html.find("['offset'"), std::string::npos);
    EXPECT_EQ(html.find("http://"), std::string::npos);
    EXPECT_EQ(html.find("https://"), std::string::npos);
    EXPECT_EQ(html.find("src="), std::string::npos);
    EXPECT_EQ(html.find("<link"), std::string::npos);
}

TEST(MemoryMapTest, TheLibrarysOwnTagIsNamedAndExplained)
{
    const DumpModel model = HandMadeModel();
    for (const MemoryMapLegendEntry& e : MemoryMapLegend(model))
    {
        if (e.key != "sedx")
        {
            EXPECT_EQ(e.note, "") << e.key;
            continue;
        }
        EXPECT_EQ(e.label, "sedx (library: staging buffers)");
        EXPECT_EQ(e.note.rfind("sedx: the memory system's own allocations, the staging buffers", 0), 0u)
            << e.note;
        EXPECT_NE(e.note.find("AllocatorSettings::stagingCacheBytes"), std::string::npos) << e.note;
    }
    // The note has a row of its own under the legend, above the first pool.
    const MemoryMapLayout layout = LayoutMemoryMap(model);
    EXPECT_GE(layout.bars[0].y - MemoryMapPixels::kPoolHeader, layout.notesTop + MemoryMapPixels::kNoteRow);

    const auto path = ToolTestDir("out") / "hand-made-note.html";
    std::string error;
    ASSERT_TRUE(WriteMemoryMapHtml(model, path.string(), error)) << error;
    const std::string html = ReadText(path); // the apostrophe escaped
    EXPECT_EQ(CountOf(html, "<p class=\"note\">sedx: the memory system&#39;s own allocations"), 1u);
    EXPECT_EQ(CountOf(html, "title=\"sedx: the memory system&#39;s own allocations"),
              1u); // on the legend key
    EXPECT_NE(html.find("sedx (library: staging buffers) <em>768 KiB \xC2\xB7 1 alloc</em>"),
              std::string::npos);
}

TEST(MemoryMapTest, TheLibrarysSizeClassPoolsSayWhichBuffersTheyHold)
{
    DumpPool pool;
    pool.custom = true;
    pool.memoryType = 3;
    pool.name = "sedx:small";
    EXPECT_EQ(PoolTitle(pool), "size-class pool \xE2\x80\x9Csedx:small\xE2\x80\x9D (library: buffers up to "
                               "256 KiB) \xC2\xB7 memory type 3");
    pool.name = "sedx:medium";
    EXPECT_NE(PoolTitle(pool).find("(library: buffers over 256 KiB up to 1 MiB)"), std::string::npos);
    pool.name = "sedx:large";
    EXPECT_NE(PoolTitle(pool).find("(library: buffers over 1 MiB up to 16 MiB)"), std::string::npos);
    pool.name = "Uniform pool";
    EXPECT_EQ(PoolTitle(pool), "pool \xE2\x80\x9CUniform pool\xE2\x80\x9D \xC2\xB7 memory type 3");
}

TEST(MemoryMapTest, PoolDetailsGiveTheBlocksVmaMadeBesideThePreferredSize)
{
    // VMA's default pool: a preferred size of 256 MiB, and the first block made at an eighth of it.
    DumpPool pool;
    pool.preferredBlockSize = 256 * MiB;
    pool.blocks.push_back(Block({Used(0, 8 * MiB, "Mesh:a"), Free(8 * MiB, 24 * MiB)}));
    std::string details = PoolDetails(pool);
    EXPECT_EQ(details.rfind("1 block of 32 MiB (preferred size 256 MiB) \xC2\xB7 32 MiB committed", 0), 0u)
        << details;
    EXPECT_EQ(details.find("block size"), std::string::npos) << details;

    // Blocks of several sizes: the range.
    details = PoolDetails(HandMadeModel().pools[0]);
    EXPECT_EQ(details.rfind("3 blocks of 1 MiB to 4 MiB (preferred size 4 MiB) \xC2\xB7 7 MiB committed", 0),
              0u)
        << details;

    // Blocks of the preferred size, or no preferred size in the dump: no note.
    pool.preferredBlockSize = 32 * MiB;
    pool.blocks.push_back(pool.blocks[0]);
    EXPECT_EQ(PoolDetails(pool).rfind("2 blocks of 32 MiB \xC2\xB7 64 MiB committed", 0), 0u)
        << PoolDetails(pool);
    pool.preferredBlockSize = 0;
    EXPECT_EQ(PoolDetails(pool).rfind("2 blocks of 32 MiB \xC2\xB7 64 MiB committed", 0), 0u)
        << PoolDetails(pool);
}

TEST(MemoryMapTest, EveryPoolHasAnOffsetScaleUnderItsBars)
{
    const DumpModel model = HandMadeModel();
    const MemoryMapLayout layout = LayoutMemoryMap(model);
    ASSERT_EQ(layout.axes.size(), 2u); // the pool without memory has none

    // The default pool's largest block is 4 MiB: a mark every 512 KiB, 0 at the bars' left edge and
    // 4 MiB at the right edge of the 4 MiB block, under its three bars.
    const MemoryMapAxis& first = layout.axes[0];
    EXPECT_EQ(first.pool, 0u);
    EXPECT_EQ(first.step, 512 * KiB);
    ASSERT_EQ(first.ticks.size(), 9u);
    const MemoryMapBar& block0 = layout.bars[0];
    for (size_t i = 0; i < first.ticks.size(); ++i)
    {
        EXPECT_EQ(first.ticks[i].offset, i * 512 * KiB);
        EXPECT_NEAR(first.ticks[i].x, block0.x + block0.width * static_cast<double>(i) / 8.0, 1.0);
    }
    EXPECT_EQ(OffsetLabel(first.ticks[0].offset), "0");
    EXPECT_EQ(OffsetLabel(first.ticks[1].offset), "512 KiB");
    EXPECT_EQ(OffsetLabel(first.ticks[3].offset), "1.5 MiB");
    EXPECT_GE(first.y, layout.bars[2].y + layout.bars[2].height);
    EXPECT_LT(first.y + MemoryMapPixels::kAxisHeight, layout.bars[3].y);

    // The custom pool spans 1 MiB (its block): a mark every 128 KiB, under its dedicated bar too.
    const MemoryMapAxis& second = layout.axes[1];
    EXPECT_EQ(second.pool, 1u);
    EXPECT_EQ(second.step, 128 * KiB);
    EXPECT_EQ(second.ticks.size(), 9u);
    EXPECT_GE(second.y, layout.bars[4].y + layout.bars[4].height);
    EXPECT_LE(second.y + MemoryMapPixels::kAxisHeight, layout.height);

    // The PNG draws each mark in the line colour, with background between marks.
    const auto png = ToolTestDir("out") / "hand-made-axis.png";
    std::string error;
    ASSERT_TRUE(WriteMemoryMapPng(model, png.string(), error)) << error;
    const Image image = LoadPng(png);
    for (const MemoryMapAxis& axis : layout.axes)
        for (const MemoryMapTick& tick : axis.ticks)
        {
            EXPECT_EQ(image.At(tick.x, axis.y + 1), 0x555555u) << "mark at offset " << tick.offset;
            EXPECT_EQ(image.At(tick.x + 20, axis.y + 1), 0xFFFFFFu)
                << "after the mark at offset " << tick.offset;
        }

    // The HTML has one scale row per pool, its marks at the same fractions with the same labels.
    const auto html = ToolTestDir("out") / "hand-made-axis.html";
    ASSERT_TRUE(WriteMemoryMapHtml(model, html.string(), error)) << error;
    const std::string text = ReadText(html);
    EXPECT_EQ(CountOf(text, "<div class=\"row axis\">"), 2u);
    EXPECT_NE(text.find("<span style=\"left:37.5000%\">1.5 MiB</span>"), std::string::npos);
    EXPECT_NE(text.find("<span style=\"left:100.0000%\">4 MiB</span>"), std::string::npos);
    EXPECT_NE(text.find("<span style=\"left:62.5000%\">640 KiB</span>"), std::string::npos);
}

TEST(MemoryMapTest, OffsetMarksAreLabelledExactly)
{
    // FormatBytes keeps one decimal: 1.5 MiB is exact, 1.25 MiB would read "1.2 MiB".
    EXPECT_TRUE(FormatsExactly(0));
    EXPECT_TRUE(FormatsExactly(1000));
    EXPECT_TRUE(FormatsExactly(768 * KiB));
    EXPECT_TRUE(FormatsExactly(3 * MiB / 2));
    EXPECT_FALSE(FormatsExactly(5 * MiB / 4));
    EXPECT_FALSE(FormatsExactly(201 * MiB / 2)); // 100.5 MiB is written without its decimal

    // A 2 MiB block: 256 KiB steps would need 1.25 MiB, so the step doubles to 512 KiB.
    DumpModel model;
    DumpPool pool;
    pool.blocks.push_back(Block({Free(0, 2 * MiB)}));
    model.pools.push_back(pool);
    MemoryMapAxis axis = LayoutMemoryMap(model).axes.at(0);
    EXPECT_EQ(axis.step, 512 * KiB);
    EXPECT_EQ(axis.ticks.size(), 5u);
    // A 3 MiB block: 512 KiB steps (at most 8), the last mark at 3 MiB.
    model.pools[0].blocks[0] = Block({Free(0, 3 * MiB)});
    axis = LayoutMemoryMap(model).axes.at(0);
    EXPECT_EQ(axis.step, 512 * KiB);
    ASSERT_EQ(axis.ticks.size(), 7u);
    EXPECT_EQ(axis.ticks.back().offset, 3 * MiB);
    for (const MemoryMapTick& tick : axis.ticks)
        EXPECT_TRUE(FormatsExactly(tick.offset)) << tick.offset;
}

TEST(MemoryMapTest, UnwritablePathIsAnError)
{
    const DumpModel model = HandMadeModel();
    std::string error;
    EXPECT_FALSE(WriteMemoryMapPng(model, "/nonexistent-dir/map.png", error));
    EXPECT_NE(error.find("cannot write /nonexistent-dir/map.png"), std::string::npos) << error;
    error.clear();
    EXPECT_FALSE(WriteMemoryMapHtml(model, "/nonexistent-dir/map.html", error));
    EXPECT_NE(error.find("cannot write /nonexistent-dir/map.html"), std::string::npos) << error;
}
} // namespace
} // namespace SceneryEditorX
