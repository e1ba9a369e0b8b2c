// `sedx-mem report` (tools/sedx-mem/Report.h) on dumps of live allocators: a raw VMA allocator on the
// test device (no names, no custom pools: exactly what VMA writes) and the tagged system with a few
// resources. Both dumps are also left in <build>/tests/Tool/dumps/ for the command-line tests. Then
// the report's errors, which name the file and the problem.
#include "MemoryMap.h"
#include "MemoryMapText.h"
#include "Report.h"
#include "ToolTestSupport.h"

#include <SceneryEditorX/Memory.h>
#include <SceneryEditorX/VmaDump/DumpModel.h>
#include <Support/TestEnvironment.h>
#include <Testing/Builders.h>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <fstream>

namespace SceneryEditorX
{
namespace
{
using namespace ::SceneryEditorX::Test;
using namespace ::SceneryEditorX::Tool;

VkBufferCreateInfo MeshBufferInfo(VkDeviceSize size)
{
    return BufferInfo(size, VK_BUFFER_USAGE_VERTEX_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT);
}

VkImageCreateInfo TextureInfo(uint32_t side)
{
    return ImageInfo(side, side, 1, 1, VK_FORMAT_R8G8B8A8_UNORM,
                     VK_IMAGE_USAGE_SAMPLED_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT);
}

std::string StatsOf(VmaAllocator allocator)
{
    return DetailedStatsString(allocator);
}

std::filesystem::path SaveDump(const std::string& name, const std::string& json)
{
    const auto path = ToolTestDir("dumps") / (name + ".json");
    std::ofstream(path, std::ios::binary | std::ios::trunc) << json;
    return path;
}

/// Writes both pictures of a dump and checks them against its model.
void CheckReport(const std::filesystem::path& dump, const std::string& name, size_t allocations)
{
    std::string error;
    const std::optional<detail::DumpModel> model = detail::ParseVmaDump(ReadText(dump), error);
    ASSERT_TRUE(model) << error;
    const auto png = ToolTestDir("out") / (name + ".png");
    const auto html = ToolTestDir("out") / (name + ".html");
    ASSERT_TRUE(WriteReport(dump.string(), png.string(), error)) << error;
    ASSERT_TRUE(WriteReport(dump.string(), html.string(), error)) << error;
    const Image image = LoadPng(png);
    const MemoryMapLayout layout = LayoutMemoryMap(*model);
    EXPECT_EQ(image.width, 1200);
    EXPECT_EQ(image.height, layout.height);
    EXPECT_FALSE(layout.bars.empty());
    EXPECT_EQ(CountOf(ReadText(html), "class=\"alloc "), allocations);
}

TEST(ReportTest, DrawsADumpWrittenByARawVmaAllocator)
{
    ASSERT_TRUE(Device());
    VmaAllocatorCreateInfo ci{};
    ci.instance = Device()->GetInstance();
    ci.physicalDevice = Device()->GetPhysicalDevice();
    ci.device = Device()->GetDevice();
    ci.vulkanApiVersion = Device()->GetApiVersion();
    VmaAllocator vma = VK_NULL_HANDLE;
    ASSERT_EQ(vmaCreateAllocator(&ci, &vma), VK_SUCCESS);

    VmaAllocationCreateInfo aci{};
    aci.usage = VMA_MEMORY_USAGE_AUTO;
    std::vector<std::pair<VkBuffer, VmaAllocation>> buffers;
    for (VkDeviceSize size : {64 * 1024, 256 * 1024, 1024 * 1024, 32 * 1024})
    {
        VkBuffer buffer = VK_NULL_HANDLE;
        VmaAllocation allocation = nullptr;
        const VkBufferCreateInfo bi = MeshBufferInfo(size);
        ASSERT_EQ(vmaCreateBuffer(vma, &bi, &aci, &buffer, &allocation, nullptr), VK_SUCCESS);
        buffers.emplace_back(buffer, allocation);
    }
    VmaAllocationCreateInfo dedicated = aci;
    dedicated.flags = VMA_ALLOCATION_CREATE_DEDICATED_MEMORY_BIT;
    {
        VkBuffer buffer = VK_NULL_HANDLE;
        VmaAllocation allocation = nullptr;
        const VkBufferCreateInfo bi = MeshBufferInfo(2 * 1024 * 1024);
        ASSERT_EQ(vmaCreateBuffer(vma, &bi, &dedicated, &buffer, &allocation, nullptr), VK_SUCCESS);
        buffers.emplace_back(buffer, allocation);
    }
    // Free one in the middle: a hole.
    vmaDestroyBuffer(vma, buffers[1].first, buffers[1].second);
    buffers.erase(buffers.begin() + 1);
    VkImage image = VK_NULL_HANDLE;
    VmaAllocation imageAllocation = nullptr;
    const VkImageCreateInfo ii = TextureInfo(256);
    ASSERT_EQ(vmaCreateImage(vma, &ii, &aci, &image, &imageAllocation, nullptr), VK_SUCCESS);

    const std::string json = StatsOf(vma);
    for (auto& [buffer, allocation] : buffers)
        vmaDestroyBuffer(vma, buffer, allocation);
    vmaDestroyImage(vma, image, imageAllocation);
    vmaDestroyAllocator(vma);

    // What VMA wrote: no names, no custom pools.
    const nlohmann::json root = nlohmann::json::parse(json);
    EXPECT_TRUE(!root.contains("CustomPools") || root["CustomPools"].empty());
    EXPECT_EQ(json.find("\"Name\""), std::string::npos);
    const auto dump = SaveDump("raw-vma", json);
    CheckReport(dump, "raw-vma", 5);

    std::string error;
    const std::optional<detail::DumpModel> model = detail::ParseVmaDump(json, error);
    ASSERT_TRUE(model) << error;
    bool buffer = false, imageKey = false;
    for (const MemoryMapLegendEntry& e : MemoryMapLegend(*model))
    {
        buffer |= e.key == "[BUFFER]";
        imageKey |= e.key == "[IMAGE_OPTIMAL]";
    }
    EXPECT_TRUE(buffer);
    EXPECT_TRUE(imageKey);
}

TEST(ReportTest, DrawsADumpOfTheTaggedSystem)
{
    ASSERT_TRUE(Device());
    ASSERT_TRUE(MemoryAllocator::Init(Device(), VK_API_VERSION_1_3));
    {
        MemoryAllocator mesh("Mesh Renderer");
        MemoryAllocator textures("TextureManager");
        std::vector<std::pair<VkBuffer, VmaAllocation>> buffers;
        for (int i = 0; i < 6; ++i)
        {
            AllocationCreateInfo info;
            info.name = "tile " + std::to_string(i) + " vertices";
            VkBuffer buffer = VK_NULL_HANDLE;
            VmaAllocation allocation = mesh.AllocateBuffer(MeshBufferInfo((i + 1) * 96 * 1024), info, buffer);
            ASSERT_NE(allocation, nullptr);
            buffers.emplace_back(buffer, allocation);
        }
        AllocationCreateInfo texture;
        texture.name = "grass";
        VkImage image = VK_NULL_HANDLE;
        VmaAllocation imageAllocation = textures.AllocateImage(TextureInfo(512), texture, image);
        ASSERT_NE(imageAllocation, nullptr);
        ASSERT_TRUE(mesh.DestroyBuffer(buffers[2].first, buffers[2].second));
        buffers.erase(buffers.begin() + 2);

        const std::string json = StatsOf(MemoryAllocator::GetAllocator());
        for (auto& [buffer, allocation] : buffers)
            EXPECT_TRUE(mesh.DestroyBuffer(buffer, allocation));
        EXPECT_TRUE(textures.DestroyImage(image, imageAllocation));

        const auto dump = SaveDump("tagged", json);
        CheckReport(dump, "tagged", 6);
        std::string error;
        const std::optional<detail::DumpModel> model = detail::ParseVmaDump(json, error);
        ASSERT_TRUE(model) << error;
        std::vector<std::string> keys;
        for (const MemoryMapLegendEntry& e : MemoryMapLegend(*model))
            keys.push_back(e.key);
        EXPECT_NE(std::find(keys.begin(), keys.end(), "Mesh Renderer"), keys.end());
        EXPECT_NE(std::find(keys.begin(), keys.end(), "TextureManager"), keys.end());
        const std::string html = ReadText(ToolTestDir("out") / "tagged.html");
        EXPECT_NE(html.find("data-name=\"Mesh Renderer:tile 5 vertices\""), std::string::npos);
        EXPECT_NE(html.find("data-name=\"TextureManager:grass\" data-type=\"IMAGE_OPTIMAL\""),
                  std::string::npos);
    }
    EXPECT_TRUE(MemoryAllocator::Shutdown());
}

// The map calls the "sedx" tag the library's staging buffers (MemoryMapText.h): that is what the
// memory system names with it.
TEST(ReportTest, TheLibrarysOwnTagHoldsItsStagingBuffers)
{
    ASSERT_TRUE(Device());
    ASSERT_TRUE(MemoryAllocator::Init(Device(), VK_API_VERSION_1_3));
    {
        MemoryAllocator mesh("Mesh Renderer");
        AllocationCreateInfo info;
        info.usage = VMA_MEMORY_USAGE_AUTO_PREFER_DEVICE;
        VkBuffer buffer = VK_NULL_HANDLE;
        VmaAllocation allocation = mesh.AllocateBuffer(BufferInfo(64 * 1024), info, buffer);
        ASSERT_NE(allocation, nullptr);
        const std::vector<uint8_t> bytes(64 * 1024, 0x5A);
        ASSERT_TRUE(mesh.UploadToBuffer(allocation, bytes.data(), bytes.size()));

        const std::string json = StatsOf(MemoryAllocator::GetAllocator());
        EXPECT_TRUE(mesh.DestroyBuffer(buffer, allocation));
        std::string error;
        const std::optional<detail::DumpModel> model = detail::ParseVmaDump(json, error);
        ASSERT_TRUE(model) << error;
        size_t library = 0;
        auto check = [&](const detail::DumpRange& r)
        {
            if (!r.free && MemoryMapKey(r) == kLibraryTag)
            {
                ++library;
                EXPECT_EQ(r.name, "sedx:staging");
            }
        };
        for (const detail::DumpPool& pool : model->pools)
        {
            for (const detail::DumpBlock& block : pool.blocks)
                for (const detail::DumpRange& r : block.ranges)
                    check(r);
            for (const detail::DumpRange& r : pool.dedicated)
                check(r);
        }
        EXPECT_GE(library, 1u); // the staging buffer of the upload, kept for reuse
        bool labelled = false;
        for (const MemoryMapLegendEntry& e : MemoryMapLegend(*model))
            labelled |=
                e.key == kLibraryTag && e.label == "sedx (library: staging buffers)" && !e.note.empty();
        EXPECT_TRUE(labelled);
    }
    EXPECT_TRUE(MemoryAllocator::Shutdown());
}

TEST(ReportTest, ErrorsNameTheFileAndTheProblem)
{
    const auto dir = ToolTestDir("bad");
    auto write = [&](const std::string& name, const std::string& text)
    {
        std::ofstream(dir / name, std::ios::binary | std::ios::trunc) << text;
        return (dir / name).string();
    };
    const std::string invalid = write("invalid.json", "{\"Total\": {\n  \"BlockCount\": 1,\n");
    const std::string notVma = write("not-vma.json", "{\"a\": [1, 2]}");
    const std::string array = write("array.json", "[1, 2, 3]");
    const std::string wrong = write("wrong.json", R"({"Total": {}, "DefaultPools": {"Type 0": {"Blocks": {"0":
                                                     {"Suballocations": [1]}}}}})");
    const std::string minimal = write("minimal.json", R"({"Total": {}, "DefaultPools": {}})");
    const std::string out = (dir / "out.png").string();
    struct Case
    {
        std::string input;
        std::string output;
        std::string message;
    };
    const Case cases[] = {
        {(dir / "missing.json").string(), out,
         "cannot read " + (dir / "missing.json").string() + ": No such file or directory"},
        {dir.string(), out, "cannot read " + dir.string() + ": it is a directory"},
        {invalid, out, invalid + ": invalid JSON: parse error at line 3, column 1"},
        {notVma, out, notVma + ": not a VMA statistics dump"},
        {array, out, array + ": not a VMA statistics dump"},
        {wrong, out, wrong + ": not a VMA statistics dump"},
        {minimal, (dir / "out.txt").string(), "unknown output format '" + (dir / "out.txt").string() + "'"},
        {minimal, (dir / "out").string(), "must end in .png or .html"},
        {minimal, (dir / "no-such-dir" / "out.png").string(),
         "cannot write " + (dir / "no-such-dir").string()},
    };
    for (const Case& c : cases)
    {
        std::string error;
        EXPECT_FALSE(WriteReport(c.input, c.output, error)) << c.input;
        EXPECT_NE(error.find(c.message), std::string::npos)
            << "error: " << error << "\nexpected: " << c.message;
        EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    }
    // A dump without memory still draws (an empty map); extensions are case-insensitive.
    std::string error;
    EXPECT_TRUE(WriteReport(minimal, (dir / "empty.PNG").string(), error)) << error;
    EXPECT_TRUE(WriteReport(minimal, (dir / "empty.htm").string(), error)) << error;
    EXPECT_EQ(ReportFormatOf("a/b.Html"), ReportFormat::Html);
    EXPECT_EQ(ReportFormatOf("a.png.txt"), ReportFormat::Unknown);
    EXPECT_EQ(ReportFormatOf("png"), ReportFormat::Unknown);
}
} // namespace
} // namespace SceneryEditorX
