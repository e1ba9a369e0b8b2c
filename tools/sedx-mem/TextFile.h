#pragma once
// Reading and writing the tool's text files (dumps, HTML, CSV) with one-line errors that name the file.

#include <string>

namespace SceneryEditorX::Tool
{
/// Reads the whole file into `text`. False, with `error` ("cannot read <path>: <reason>"), when it is
/// a directory or cannot be opened or read.
bool ReadTextFile(const std::string& path, std::string& text, std::string& error);

/// Writes `text` to `path`, replacing the file. False, with `error` ("cannot write <path>"), when the
/// file cannot be opened or written.
bool WriteTextFile(const std::string& path, const std::string& text, std::string& error);
} // namespace SceneryEditorX::Tool
