// The memory map of a dump (tools/sedx-mem/MemoryMap.h) on hand-made models: the PNG's size and
// pixels (allocations in their tag's colour, free space in light grey, separators between
// neighbours, text), and the HTML's elements with their tooltip data.
#include "MemoryMap.h"
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
