#pragma once
// Helpers of the tool tests: output paths in the build tree and reading PNGs back.

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <stb/stb_image.h>

namespace SceneryEditorX::Test
{
/// <build>/tests/Tool/<sub>/, created on demand.
inline std::filesystem::path ToolTestDir(const std::string& sub)
{
    std::filesystem::path dir = std::filesystem::path(SEDX_TOOL_TEST_DIR) / sub;
    std::filesystem::create_directories(dir);
    return dir;
}

inline std::string ReadText(const std::filesystem::path& path)
{
    std::ifstream file(path, std::ios::binary);
    std::ostringstream out;
    out << file.rdbuf();
    return out.str();
}

inline size_t CountOf(const std::string& text, const std::string& needle)
{
    size_t count = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size()))
        ++count;
    return count;
}

/// A PNG read back as RGB.
struct Image
{
    int width = 0;
    int height = 0;
    std::vector<uint8_t> rgb;

    uint32_t At(int x, int y) const
    {
        const size_t i = (static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)) * 3;
        return (uint32_t{rgb[i]} << 16) | (uint32_t{rgb[i + 1]} << 8) | uint32_t{rgb[i + 2]};
    }
};

inline Image LoadPng(const std::filesystem::path& path)
{
    Image image;
    int channels = 0;
    unsigned char* data = stbi_load(path.string().c_str(), &image.width, &image.height, &channels, 3);
    EXPECT_NE(data, nullptr) << "cannot read " << path << " as an image";
    if (data)
    {
        image.rgb.assign(data,
                         data + static_cast<size_t>(image.width) * static_cast<size_t>(image.height) * 3);
        stbi_image_free(data);
    }
    return image;
}
} // namespace SceneryEditorX::Test
