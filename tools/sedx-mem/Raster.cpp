#include "Raster.h"

#include <stb/stb_image_write.h>
#include <stb/stb_truetype.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

namespace SceneryEditorX::Tool
{
namespace
{
constexpr const char* kDefaultFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
constexpr const char* kDefaultBoldFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

uint8_t Channel(float v)
{
    return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
}

void AppendUtf8(std::string& out, uint32_t cp)
{
    if (cp < 0x80)
        out += static_cast<char>(cp);
    else if (cp < 0x800)
    {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    else if (cp < 0x10000)
    {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    else
    {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

/// Distance from (px, py) to the segment (ax, ay)-(bx, by).
float SegmentDistance(float px, float py, float ax, float ay, float bx, float by)
{
    const float dx = bx - ax;
    const float dy = by - ay;
    const float len2 = dx * dx + dy * dy;
    float t = len2 > 0.0f ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0.0f;
    t = std::clamp(t, 0.0f, 1.0f);
    const float ex = ax + t * dx - px;
    const float ey = ay + t * dy - py;
    return std::sqrt(ex * ex + ey * ey);
}

struct Segment
{
    float ax, ay, bx, by;
};

/// The "on" pieces of a dashed polyline.
std::vector<Segment> Dashes(const std::vector<Segment>& segments, float dash, float gap)
{
    std::vector<Segment> out;
    const float period = dash + gap;
    float along = 0.0f; // position within the current period
    for (const Segment& s : segments)
    {
        const float len = std::hypot(s.bx - s.ax, s.by - s.ay);
        float t = 0.0f;
        while (t < len)
        {
            const bool on = along < dash;
            const float step = std::min(len - t, on ? dash - along : period - along);
            if (on && step > 0.0f)
            {
                const float t0 = t / len;
                const float t1 = (t + step) / len;
                out.push_back({s.ax + (s.bx - s.ax) * t0, s.ay + (s.by - s.ay) * t0,
                               s.ax + (s.bx - s.ax) * t1, s.ay + (s.by - s.ay) * t1});
            }
            t += step;
            along += step;
            if (along >= period - 1e-4f)
                along = 0.0f;
        }
    }
    return out;
}
} // namespace

Rgb Mix(Rgb a, Rgb b, float t)
{
    return Rgb{Channel(a.r + (b.r - a.r) * t), Channel(a.g + (b.g - a.g) * t),
               Channel(a.b + (b.b - a.b) * t)};
}

std::string CssColor(Rgb c)
{
    char text[8];
    std::snprintf(text, sizeof(text), "#%02x%02x%02x", c.r, c.g, c.b);
    return text;
}

std::vector<uint32_t> DecodeUtf8(std::string_view text)
{
    std::vector<uint32_t> out;
    size_t i = 0;
    while (i < text.size())
    {
        const auto c = static_cast<unsigned char>(text[i]);
        int extra = 0;
        uint32_t cp = c;
        if (c >= 0x80)
        {
            if ((c & 0xE0) == 0xC0)
                extra = 1;
            else if ((c & 0xF0) == 0xE0)
                extra = 2;
            else if ((c & 0xF8) == 0xF0)
                extra = 3;
            else
            {
                out.push_back(0xFFFD);
                ++i;
                continue;
            }
            cp = c & (0x3Fu >> extra);
        }
        bool ok = true;
        for (int k = 1; ok && k <= extra; ++k)
        {
            if (i + static_cast<size_t>(k) >= text.size())
            {
                ok = false;
                break;
            }
            const auto cc = static_cast<unsigned char>(text[i + static_cast<size_t>(k)]);
            if ((cc & 0xC0) != 0x80)
                ok = false;
            else
                cp = (cp << 6) | (cc & 0x3F);
        }
        if (!ok)
        {
            out.push_back(0xFFFD);
            ++i;
            continue;
        }
        out.push_back(cp);
        i += static_cast<size_t>(extra) + 1;
    }
    return out;
}

// ---------------------------------------------------------------- Canvas

Canvas::Canvas(int width, int height, Rgb background)
    : m_Width(std::max(width, 1)), m_Height(std::max(height, 1)),
      m_Pixels(static_cast<size_t>(m_Width) * static_cast<size_t>(m_Height) * 3)
{
    FillRect(0, 0, m_Width, m_Height, background);
}

Rgb Canvas::Pixel(int x, int y) const
{
    if (x < 0 || y < 0 || x >= m_Width || y >= m_Height)
        return {};
    const size_t i = (static_cast<size_t>(y) * static_cast<size_t>(m_Width) + static_cast<size_t>(x)) * 3;
    return Rgb{m_Pixels[i], m_Pixels[i + 1], m_Pixels[i + 2]};
}

void Canvas::FillRect(int x0, int y0, int x1, int y1, Rgb color)
{
    x0 = std::max(x0, 0);
    y0 = std::max(y0, 0);
    x1 = std::min(x1, m_Width);
    y1 = std::min(y1, m_Height);
    for (int y = y0; y < y1; ++y)
    {
        uint8_t* p =
            &m_Pixels[(static_cast<size_t>(y) * static_cast<size_t>(m_Width) + static_cast<size_t>(x0)) * 3];
        for (int x = x0; x < x1; ++x, p += 3)
        {
            p[0] = color.r;
            p[1] = color.g;
            p[2] = color.b;
        }
    }
}

void Canvas::StrokeRect(int x0, int y0, int x1, int y1, Rgb color)
{
    FillRect(x0, y0, x1, y0 + 1, color);
    FillRect(x0, y1 - 1, x1, y1, color);
    FillRect(x0, y0, x0 + 1, y1, color);
    FillRect(x1 - 1, y0, x1, y1, color);
}

void Canvas::Blend(int x, int y, Rgb color, float alpha)
{
    if (x < 0 || y < 0 || x >= m_Width || y >= m_Height || alpha <= 0.0f)
        return;
    alpha = std::min(alpha, 1.0f);
    uint8_t* p =
        &m_Pixels[(static_cast<size_t>(y) * static_cast<size_t>(m_Width) + static_cast<size_t>(x)) * 3];
    p[0] = Channel(p[0] + (color.r - p[0]) * alpha);
    p[1] = Channel(p[1] + (color.g - p[1]) * alpha);
    p[2] = Channel(p[2] + (color.b - p[2]) * alpha);
}

void Canvas::Polyline(const std::vector<float>& xs, const std::vector<float>& ys, float width, Rgb color,
                      float dash, float gap)
{
    const size_t n = std::min(xs.size(), ys.size());
    if (n == 0)
        return;
    std::vector<Segment> segments;
    for (size_t i = 0; i + 1 < n; ++i)
        segments.push_back({xs[i], ys[i], xs[i + 1], ys[i + 1]});
    if (n == 1)
        segments.push_back({xs[0], ys[0], xs[0], ys[0]});
    if (dash > 0.0f)
        segments = Dashes(segments, dash, std::max(gap, 0.5f));
    if (segments.empty())
        return;

    // Coverage of the whole line (the maximum over its segments), blended once, so that the joints
    // of consecutive segments are not drawn twice.
    const float half = width * 0.5f;
    float minX = segments[0].ax, maxX = minX, minY = segments[0].ay, maxY = minY;
    for (const Segment& s : segments)
    {
        minX = std::min({minX, s.ax, s.bx});
        maxX = std::max({maxX, s.ax, s.bx});
        minY = std::min({minY, s.ay, s.by});
        maxY = std::max({maxY, s.ay, s.by});
    }
    const int bx0 = std::max(0, static_cast<int>(std::floor(minX - half - 1.0f)));
    const int by0 = std::max(0, static_cast<int>(std::floor(minY - half - 1.0f)));
    const int bx1 = std::min(m_Width, static_cast<int>(std::ceil(maxX + half + 1.0f)) + 1);
    const int by1 = std::min(m_Height, static_cast<int>(std::ceil(maxY + half + 1.0f)) + 1);
    if (bx0 >= bx1 || by0 >= by1)
        return;
    const int bw = bx1 - bx0;
    std::vector<float> coverage(static_cast<size_t>(bw) * static_cast<size_t>(by1 - by0), 0.0f);
    for (const Segment& s : segments)
    {
        const int x0 = std::max(bx0, static_cast<int>(std::floor(std::min(s.ax, s.bx) - half - 1.0f)));
        const int x1 = std::min(bx1, static_cast<int>(std::ceil(std::max(s.ax, s.bx) + half + 1.0f)) + 1);
        const int y0 = std::max(by0, static_cast<int>(std::floor(std::min(s.ay, s.by) - half - 1.0f)));
        const int y1 = std::min(by1, static_cast<int>(std::ceil(std::max(s.ay, s.by) + half + 1.0f)) + 1);
        for (int y = y0; y < y1; ++y)
            for (int x = x0; x < x1; ++x)
            {
                const float d = SegmentDistance(static_cast<float>(x) + 0.5f, static_cast<float>(y) + 0.5f,
                                                s.ax, s.ay, s.bx, s.by);
                const float c = std::clamp(half + 0.5f - d, 0.0f, 1.0f);
                float& slot = coverage[static_cast<size_t>(y - by0) * static_cast<size_t>(bw) +
                                       static_cast<size_t>(x - bx0)];
                slot = std::max(slot, c);
            }
    }
    for (int y = by0; y < by1; ++y)
        for (int x = bx0; x < bx1; ++x)
            Blend(x, y, color,
                  coverage[static_cast<size_t>(y - by0) * static_cast<size_t>(bw) +
                           static_cast<size_t>(x - bx0)]);
}

bool Canvas::WritePng(const std::string& path, std::string& error) const
{
    errno = 0;
    if (!stbi_write_png(path.c_str(), m_Width, m_Height, 3, m_Pixels.data(), m_Width * 3))
    {
        error = "cannot write " + path + (errno ? std::string(": ") + std::strerror(errno) : std::string());
        return false;
    }
    return true;
}

// ---------------------------------------------------------------- Font

struct Font::Face
{
    std::vector<unsigned char> data;
    stbtt_fontinfo info{};
};

namespace
{
/// Calls `plot(x, y, alpha)` for every pixel of `text` laid out from pen position (x, baseline).
template <class Plot>
float Rasterize(const stbtt_fontinfo& info, float x, float baseline, const std::vector<uint32_t>& text,
                float pixelHeight, Plot&& plot)
{
    const float scale = stbtt_ScaleForPixelHeight(&info, pixelHeight);
    const float start = x;
    const int base = static_cast<int>(std::lround(baseline));
    std::vector<unsigned char> bitmap;
    for (size_t i = 0; i < text.size(); ++i)
    {
        const int cp = static_cast<int>(text[i]);
        const float fx = std::floor(x);
        const float shift = x - fx;
        int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
        stbtt_GetCodepointBitmapBoxSubpixel(&info, cp, scale, scale, shift, 0.0f, &x0, &y0, &x1, &y1);
        const int w = x1 - x0;
        const int h = y1 - y0;
        if (w > 0 && h > 0)
        {
            bitmap.assign(static_cast<size_t>(w) * static_cast<size_t>(h), 0);
            stbtt_MakeCodepointBitmapSubpixel(&info, bitmap.data(), w, h, w, scale, scale, shift, 0.0f, cp);
            for (int gy = 0; gy < h; ++gy)
                for (int gx = 0; gx < w; ++gx)
                {
                    const unsigned char v =
                        bitmap[static_cast<size_t>(gy) * static_cast<size_t>(w) + static_cast<size_t>(gx)];
                    if (v)
                        plot(static_cast<int>(fx) + x0 + gx, base + y0 + gy,
                             std::pow(static_cast<float>(v) / 255.0f, 0.8f));
                }
        }
        int advance = 0, bearing = 0;
        stbtt_GetCodepointHMetrics(&info, cp, &advance, &bearing);
        x += static_cast<float>(advance) * scale;
        if (i + 1 < text.size())
            x += static_cast<float>(stbtt_GetCodepointKernAdvance(&info, cp, static_cast<int>(text[i + 1]))) *
                 scale;
    }
    return x - start;
}
} // namespace

Font Font::Load(bool bold)
{
    Font font;
    const char* env = std::getenv("SEDX_MEM_FONT");
    const std::string path = env && *env ? env : (bold ? kDefaultBoldFont : kDefaultFont);
    std::ifstream file(path, std::ios::binary);
    auto face = std::make_shared<Face>();
    if (file)
        face->data.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    const int offset = face->data.empty() ? -1 : stbtt_GetFontOffsetForIndex(face->data.data(), 0);
    if (offset < 0 || !stbtt_InitFont(&face->info, face->data.data(), offset))
    {
        static std::atomic<bool> warned{false};
        if (!warned.exchange(true))
            std::fprintf(
                stderr,
                "sedx-mem: warning: cannot load the font %s (Debian package fonts-dejavu-core, or set "
                "SEDX_MEM_FONT); the pictures have no text\n",
                path.c_str());
        return font;
    }
    font.m_Face = std::move(face);
    return font;
}

float Font::Width(std::string_view text, float pixelHeight) const
{
    if (!m_Face)
        return 0.0f;
    return Rasterize(m_Face->info, 0.0f, 0.0f, DecodeUtf8(text), pixelHeight, [](int, int, float) {});
}

float Font::Draw(Canvas& canvas, float x, float baseline, std::string_view text, float pixelHeight, Rgb color,
                 Align align) const
{
    if (!m_Face)
        return 0.0f;
    const std::vector<uint32_t> cps = DecodeUtf8(text);
    if (align != Align::Left)
    {
        const float w = Rasterize(m_Face->info, 0.0f, 0.0f, cps, pixelHeight, [](int, int, float) {});
        x -= align == Align::Center ? w * 0.5f : w;
    }
    return Rasterize(m_Face->info, x, baseline, cps, pixelHeight,
                     [&](int px, int py, float a) { canvas.Blend(px, py, color, a); });
}

void Font::DrawVertical(Canvas& canvas, float cx, float cy, std::string_view text, float pixelHeight,
                        Rgb color) const
{
    if (!m_Face)
        return;
    const std::vector<uint32_t> cps = DecodeUtf8(text);
    const float w = Rasterize(m_Face->info, 0.0f, 0.0f, cps, pixelHeight, [](int, int, float) {});
    // Text space: pen from u = -w/2, baseline at v = 0.35 * height below the centre line.
    const float baseline = pixelHeight * 0.35f;
    const int icx = static_cast<int>(std::lround(cx));
    const int icy = static_cast<int>(std::lround(cy));
    Rasterize(m_Face->info, -w * 0.5f, baseline, cps, pixelHeight,
              [&](int u, int v, float a) { canvas.Blend(icx + v, icy - u, color, a); });
}

std::string Font::Fit(std::string_view text, float pixelHeight, float maxWidth) const
{
    if (!m_Face || Width(text, pixelHeight) <= maxWidth)
        return std::string(text);
    std::vector<uint32_t> cps = DecodeUtf8(text);
    while (!cps.empty())
    {
        cps.pop_back();
        std::string candidate;
        for (uint32_t cp : cps)
            AppendUtf8(candidate, cp);
        candidate += "\xE2\x80\xA6"; // …
        if (Width(candidate, pixelHeight) <= maxWidth)
            return candidate;
    }
    return std::string();
}
} // namespace SceneryEditorX::Tool
