#pragma once
// A small RGB canvas for the tool's pictures: filled rectangles, anti-aliased lines, text through
// stb_truetype with a DejaVu font, and PNG output through stb_image_write.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace SceneryEditorX::Tool
{
struct Rgb
{
    uint8_t r = 0;
    uint8_t g = 0;
    uint8_t b = 0;
};

/// 0xRRGGBB → Rgb.
constexpr Rgb Hex(uint32_t rgb)
{
    return Rgb{static_cast<uint8_t>(rgb >> 16), static_cast<uint8_t>(rgb >> 8), static_cast<uint8_t>(rgb)};
}
/// `t` = 0 gives `a`, 1 gives `b`.
Rgb Mix(Rgb a, Rgb b, float t);
/// "#rrggbb".
std::string CssColor(Rgb c);

class Canvas
{
public:
    Canvas(int width, int height, Rgb background);

    int Width() const { return m_Width; }
    int Height() const { return m_Height; }
    Rgb Pixel(int x, int y) const;

    /// [x0, x1) × [y0, y1), clipped to the canvas.
    void FillRect(int x0, int y0, int x1, int y1, Rgb color);
    /// A one-pixel outline of [x0, x1) × [y0, y1).
    void StrokeRect(int x0, int y0, int x1, int y1, Rgb color);
    /// Blends `color` into one pixel with coverage `alpha` in [0, 1].
    void Blend(int x, int y, Rgb color, float alpha);

    /// An anti-aliased polyline of `width` pixels. With `dash` > 0 it is drawn as dashes of `dash`
    /// pixels separated by gaps of `gap` pixels (measured along the line).
    void Polyline(const std::vector<float>& xs, const std::vector<float>& ys, float width, Rgb color,
                  float dash = 0.0f, float gap = 0.0f);

    /// Writes the canvas as a PNG. False, with `error` set, when the file cannot be written.
    bool WritePng(const std::string& path, std::string& error) const;

private:
    int m_Width;
    int m_Height;
    std::vector<uint8_t> m_Pixels; // RGB, row-major
};

enum class Align
{
    Left,
    Center,
    Right,
};

/// A TrueType font. The default is DejaVu Sans (Debian's fonts-dejavu-core), or the file named by
/// SEDX_MEM_FONT. When the file is missing the font is "absent": drawing does nothing, widths are 0,
/// and the first load in the process prints one warning on stderr.
class Font
{
public:
    /// Loads the default (or `bold`) face; reads the file on each call.
    static Font Load(bool bold = false);

    bool Present() const { return m_Face != nullptr; }
    /// Advance width of `text` (UTF-8) at `pixelHeight`.
    float Width(std::string_view text, float pixelHeight) const;
    /// Draws `text` with its baseline at `baseline`, aligned at `x`. Returns the width drawn.
    float Draw(Canvas& canvas, float x, float baseline, std::string_view text, float pixelHeight, Rgb color,
               Align align = Align::Left) const;
    /// Draws `text` rotated 90° counter-clockwise (reading bottom to top), centred on (cx, cy).
    void DrawVertical(Canvas& canvas, float cx, float cy, std::string_view text, float pixelHeight,
                      Rgb color) const;
    /// `text` cut at the end (with "…") so that it fits in `maxWidth`.
    std::string Fit(std::string_view text, float pixelHeight, float maxWidth) const;

    struct Face;

private:
    std::shared_ptr<const Face> m_Face;
};

/// Decodes UTF-8 (invalid bytes become U+FFFD).
std::vector<uint32_t> DecodeUtf8(std::string_view text);
} // namespace SceneryEditorX::Tool
