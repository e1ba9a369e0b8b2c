#include "Pattern.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace SceneryEditorX::Reliability
{

void FillPattern(uint8_t* out, uint64_t offset, uint64_t size, uint64_t seed)
{
    uint64_t pos = offset;
    const uint64_t end = offset + size;
    const uint64_t key = Mix64(seed);
    // Leading bytes up to an 8-byte boundary of the absolute offset.
    while (pos < end && (pos & 7) != 0)
    {
        *out++ = static_cast<uint8_t>(Mix64(key ^ (pos >> 3)) >> (8 * (pos & 7)));
        ++pos;
    }
    while (end - pos >= 8)
    {
        const uint64_t word = Mix64(key ^ (pos >> 3));
        std::memcpy(out, &word, 8); // little-endian: byte k of the word is byte pos + k
        out += 8;
        pos += 8;
    }
    while (pos < end)
    {
        *out++ = static_cast<uint8_t>(Mix64(key ^ (pos >> 3)) >> (8 * (pos & 7)));
        ++pos;
    }
}

uint64_t Checksum(const uint8_t* data, uint64_t size)
{
    uint64_t h = Mix64(size);
    uint64_t i = 0;
    for (; i + 8 <= size; i += 8)
    {
        uint64_t word;
        std::memcpy(&word, data + i, 8);
        h = Mix64(h ^ word) + i;
    }
    uint64_t tail = 0;
    for (uint64_t k = 0; i + k < size; ++k)
        tail |= uint64_t(data[i + k]) << (8 * k);
    return Mix64(h ^ tail);
}

uint64_t Rng::LogRange(uint64_t lo, uint64_t hi)
{
    if (hi <= lo)
        return lo;
    const int loBits = std::bit_width(lo);
    const int hiBits = std::bit_width(hi);
    const int bits = static_cast<int>(Range(static_cast<uint64_t>(loBits), static_cast<uint64_t>(hiBits)));
    const uint64_t top = bits >= 64 ? ~0ull : (1ull << bits) - 1;
    const uint64_t bottom = bits <= 1 ? 0 : 1ull << (bits - 1);
    return std::clamp(Range(bottom, top), lo, hi);
}

void Contents::Apply(const Segment& write, uint64_t totalSize)
{
    if (writes.empty() || (write.offset == 0 && write.size >= totalSize))
    {
        writes.clear();
        size = totalSize;
    }
    writes.push_back(write);
    std::vector<uint8_t> bytes;
    Generate(bytes);
    checksum = Checksum(bytes.data(), bytes.size());
}

void Contents::Generate(std::vector<uint8_t>& out) const
{
    out.resize(size);
    for (const Segment& w : writes)
        FillPattern(out.data() + w.offset, w.offset, std::min(w.size, size - w.offset), w.seed);
}

std::string Contents::FirstDifference(const uint8_t* actual, uint64_t actualSize) const
{
    std::vector<uint8_t> expected;
    Generate(expected);
    const uint64_t n = std::min<uint64_t>(actualSize, expected.size());
    for (uint64_t i = 0; i < n; ++i)
        if (actual[i] != expected[i])
        {
            uint64_t differing = 0;
            for (uint64_t k = i; k < n; ++k)
                differing += actual[k] != expected[k];
            std::ostringstream s;
            s << "first difference at byte " << i << " of " << n << " (expected " << int(expected[i])
              << ", got " << int(actual[i]) << "), " << differing << " bytes differ; " << writes.size()
              << " write(s) recorded";
            return s.str();
        }
    if (actualSize != expected.size())
        return "sizes differ: " + std::to_string(actualSize) + " read, " + std::to_string(expected.size()) +
               " expected";
    return {};
}

uint64_t EnvU64(const char* name, uint64_t fallback)
{
    const char* text = std::getenv(name);
    if (!text || !*text)
        return fallback;
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text, &end, 0);
    return (end && *end == '\0') ? static_cast<uint64_t>(value) : fallback;
}

} // namespace SceneryEditorX::Reliability
