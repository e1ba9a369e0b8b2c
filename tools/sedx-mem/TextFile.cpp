#include "TextFile.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace SceneryEditorX::Tool
{
bool ReadTextFile(const std::string& path, std::string& text, std::string& error)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
    {
        error = "cannot read " + path + ": it is a directory";
        return false;
    }
    errno = 0;
    std::ifstream file(path, std::ios::binary);
    if (!file)
    {
        error = "cannot read " + path + ": " + (errno ? std::strerror(errno) : "cannot open it");
        return false;
    }
    std::ostringstream buffer;
    buffer << file.rdbuf();
    if (file.bad())
    {
        error = "cannot read " + path;
        return false;
    }
    text = buffer.str();
    return true;
}

bool WriteTextFile(const std::string& path, const std::string& text, std::string& error)
{
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    if (file)
        file << text;
    file.flush();
    if (!file)
    {
        error = "cannot write " + path;
        return false;
    }
    return true;
}
} // namespace SceneryEditorX::Tool
